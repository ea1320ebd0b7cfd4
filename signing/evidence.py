"""Signature evidence (签名证据, issue 18): the CMS SignedData and the trusted timestamp each
signature carries, so that it can be kept and shown to a court.

At authorisation (signing/signer.py), for every request whose document's SM3 is known — document
mode, or digest mode where the citizen's app sent `document_sm3` beside e — the same PIN
authorisation, in the same transaction, also makes:

1. a detached CMS SignedData, GM/T 0010 profile (app/crypto/cms), whose signed attributes are
   contentType, messageDigest = SM3(document), signingTime = the signature's `signed_at` and ESS
   signingCertificateV2, signed by the citizen's key in the key store (the key never leaves it);
2. an RFC 3161 token from the platform TSA (app/crypto/tsa.py) over SM3(the SignerInfo's signature
   value), added to the SignerInfo as the unsigned attribute id-aa-signatureTimeStampToken
   (RFC 3161 appendix A): it proves the signature existed at the token's genTime, which is what lets
   a verifier keep a signature valid after its certificate is revoked.

The attached form. The GM profile signs the way GmSSL 3.1 does (app/crypto/cms: SM2 over
SM3(SEQUENCE{eContentType, [0]{eContent}} ‖ signed attributes)), so its signature covers the
eContent itself: the detached SignerInfo cannot be reused with the document put in, and an attached
SignedData can only be signed with the document at hand. So, in document mode, the request keeps the
document (SM4-GCM encrypted, `signing_document`) while it is pending — never longer: it is deleted
in the transaction that signs or refuses it, and expired ones by the next request — and the
authorisation also signs the attached form (same signed attributes, its own signature and its own
token), stored without its eContent. `attached_cms` puts the document back in (byte-preserving
TLV splice) once SM3(document) is the signed messageDigest. Digest-mode requests never had the
document: they have the detached form only (AttachedNotMade).

For digest-mode requests the platform cannot check that `document_sm3` and e belong to the same
document (it never sees the document): the SignedData states what the citizen's app declared and the
citizen authorised. The raw SM2 signature over e stays as it was (existing clients).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import parser
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from flask import current_app

from app.crypto import cms, tsa, x509
from app.crypto.ca import keystore
from app.crypto.sm3 import sm3
from app.crypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt
from app.security.pii import derive_key
from signing.errors import AttachedNotMade, CmsNotMade, DocumentMismatch, SignatureNotFound
from signing.models import Signature, find_signature


@dataclass(frozen=True)
class Evidence:
    """What a signature's row keeps of its evidence (the columns of migration 030)."""

    cms_der: bytes  # detached SignedData with its token
    cms_signature_sm3: str  # lower-case hex of SM3 over its SignerInfo's signature value
    timestamped_at: datetime  # its token's genTime
    tsa_serial: str  # the TSA certificate's serial (lower-case hex)
    cms_attached_der: bytes | None = None  # the attached form (own signature and token) without its eContent
    cms_attached_sm3: str | None = None

    def columns(self) -> dict[str, Any]:
        return {"cms_der": self.cms_der, "cms_signature_sm3": self.cms_signature_sm3,
                "timestamped_at": self.timestamped_at, "tsa_serial": self.tsa_serial,
                "cms_attached_der": self.cms_attached_der, "cms_attached_sm3": self.cms_attached_sm3}


def make(*, key_id: str, certificate_pem: str, document_sm3: str, signed_at: datetime,
         document: bytes | None = None) -> Evidence:
    """The detached SignedData over the document whose SM3 is `document_sm3` (hex), signed by the
    citizen's key `key_id` (certificate `certificate_pem`) at `signed_at`, time-stamped; with the
    `document`, its attached form too. Call it inside the authorisation's unit of work: any failure
    (key store, TSA) rolls the whole authorisation back."""
    signer = cms.Signer.from_key_store(x509.load_certificate(certificate_pem).dump(), keystore(), key_id)
    detached = cms.sign(None, signer=signer, detached=True, profile=cms.PROFILE_GM,
                        digest=bytes.fromhex(document_sm3), signing_time=signed_at)
    detached, imprint, token = _stamped(detached)
    gen_time, tsa_serial = token_facts(token)
    if document is None:
        return Evidence(detached, imprint.hex(), gen_time, tsa_serial)
    attached = cms.sign(document, signer=signer, detached=False, profile=cms.PROFILE_GM, signing_time=signed_at)
    attached, attached_imprint, _ = _stamped(attached)
    return Evidence(detached, imprint.hex(), gen_time, tsa_serial, cms_attached_der=splice(attached, None),
                    cms_attached_sm3=attached_imprint.hex())


def _stamped(cms_der: bytes) -> tuple[bytes, bytes, bytes]:
    """(the SignedData with the TSA token over SM3 of its signature value, that SM3, the token)."""
    imprint = sm3(cms.parse(cms_der).signature)
    token = tsa.timestamp(imprint, hash_oid=tsa.SM3_OID, cert_req=True)
    return cms.add_unsigned_attribute(cms_der, cms.OID_TIMESTAMP_TOKEN, token), imprint, token


def token_facts(token_der: bytes) -> tuple[datetime, str]:
    """(genTime, TSA certificate serial in lower-case hex) of a timestamp token, as written in it
    (not verified: app/crypto/tsa.verify_token does that)."""
    info = cms.parse(token_der)
    tst = asn1_tsp.TSTInfo.load(info.content)
    return tst["gen_time"].native, x509.serial_hex(asn1_x509.Certificate.load(info.certificate_der).serial_number)


def timestamp_token(cms_der: bytes) -> bytes | None:
    """The signature timestamp token (DER) in a SignedData's unsigned attributes, or None."""
    tokens = cms.parse(cms_der).unsigned_attributes.get(cms.OID_TIMESTAMP_TOKEN) or []
    return tokens[0] if tokens else None


def view(row: Signature) -> dict[str, Any]:
    """The signature answer's evidence fields: `cms_b64` (detached SignedData, DER, Base64),
    `timestamp` ({gen_time, tsa_serial}) and `cms_attached_available`; null/false without evidence."""
    if row.cms_der is None:
        return {"cms_b64": None, "timestamp": None, "cms_attached_available": False}
    stamp = {"gen_time": row.timestamped_at, "tsa_serial": row.tsa_serial} if row.timestamped_at else None
    return {"cms_b64": base64.b64encode(bytes(row.cms_der)).decode(), "timestamp": stamp,
            "cms_attached_available": row.cms_attached_der is not None}


# --- The document kept while its request is pending ---------------------------------------------

def _document_key() -> bytes:
    return derive_key(current_app.extensions["keys"].data_master_key, "signing/pending-document", 16)


def seal_document(request_id: str, document: bytes) -> bytes:
    """SM4-GCM under a key derived from the data master key, bound to the request's id."""
    return sm4_gcm_encrypt(_document_key(), document, aad=f"signing_document:{request_id}".encode())


def open_document(request_id: str, blob: bytes) -> bytes:
    return sm4_gcm_decrypt(_document_key(), blob, aad=f"signing_document:{request_id}".encode())


# --- The citizen's SignedData, detached or attached ----------------------------------------------

def _signature(user_id: str, signature_id: str) -> Signature:
    row = find_signature(signature_id=signature_id, user_id=user_id)
    if row is None:
        raise SignatureNotFound()
    if row.cms_der is None:
        raise CmsNotMade()
    return row


def detached_cms(*, user_id: str, signature_id: str) -> bytes:
    """The citizen's signature's detached SignedData (DER). SignatureNotFound (another citizen's
    too), CmsNotMade (an older signature, or a digest-only request without document_sm3)."""
    return bytes(_signature(user_id, signature_id).cms_der)


def attached_cms(*, user_id: str, signature_id: str, document: bytes) -> bytes:
    """The attached SignedData (DER) with `document` as eContent, once SM3(document) is the signed
    messageDigest. SignatureNotFound, CmsNotMade, DocumentMismatch, AttachedNotMade (digest mode)."""
    row = _signature(user_id, signature_id)
    if sm3(document) != cms.parse(bytes(row.cms_der)).digest:
        raise DocumentMismatch()
    if row.cms_attached_der is None:
        raise AttachedNotMade()
    return splice(bytes(row.cms_attached_der), document)


# --- eContent in and out, byte-preserving ------------------------------------------------------
# Re-encoding a parsed SignedData could change bytes a signature covers (a SET's order, a time's
# form); splicing TLVs keeps every other byte exactly as signed.

def _elements(contents: bytes) -> list[bytes]:
    """The encoded TLVs one after another in `contents`."""
    out = []
    while contents:
        _, _, _, header, body, trailer = parser.parse(contents)
        size = len(header) + len(body) + len(trailer)
        out.append(contents[:size])
        contents = contents[size:]
    return out


def _body(tlv: bytes) -> bytes:
    return parser.parse(tlv, strict=True)[4]


def splice(cms_der: bytes, content: bytes | None) -> bytes:
    """ContentInfo{SignedData} with encapContentInfo.eContent set to `content` (OCTET STRING in [0]
    EXPLICIT) or, with None, left out; every other byte as it was. ValueError for what is not a
    SignedData's structure."""
    content_type, explicit = _elements(_body(cms_der))
    (signed_data,) = _elements(_body(explicit))
    parts = _elements(_body(signed_data))  # version, digestAlgorithms, encapContentInfo, [0] certs, [1] crls, signerInfos
    econtent_type = _elements(_body(parts[2]))[0]
    econtent = b"" if content is None else parser.emit(2, 1, 0, parser.emit(0, 0, 4, content))
    parts[2] = parser.emit(0, 1, 16, econtent_type + econtent)
    signed_data = parser.emit(0, 1, 16, b"".join(parts))
    return parser.emit(0, 1, 16, content_type + parser.emit(2, 1, 0, signed_data))
