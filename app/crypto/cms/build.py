"""Making a SignedData: `sign` and `add_unsigned_attribute`."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache

from app.crypto.cms import der
from app.crypto.cms.decode import Decoded, decode, load_certificate
from app.crypto.cms.model import (
    DATA_OID, OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNING_CERTIFICATE_V2, OID_SIGNING_TIME, OID_SM2_SM3,
    OID_SM3, PROFILE_GM, PROFILE_PKCS7, SIGNED_DATA_OID, CmsError, Signer,
)
from app.crypto.sm3 import sm3


def gm_signed_digest(content_type: str, content: bytes | None, signed_attributes_inner: bytes) -> bytes:
    """The e that GmSSL 3.1 signs and verifies (src/cms.c, cms_signed_data_sign_to_der /
    cms_signed_data_verify_from_der, then sm2_sign/sm2_verify on the digest, no Z):
    SM3(SEQUENCE { eContentType, [0] { eContent } } ‖ the contents octets of the signed attributes).
    For a detached SignedData GmSSL still writes the [0] header, with length 0."""
    econtent = b"" if content is None else der.tlv(der.OCTET_STRING, content)
    prefix = der.seq(der.oid(content_type), der.tlv(der.CTX0, econtent))
    return sm3(prefix + signed_attributes_inner)


@lru_cache(maxsize=256)  # a function of the certificate's bytes: the platform's report key signs with one
def _signing_certificate_v2(cert_der: bytes) -> bytes:
    """ESS SigningCertificateV2 (RFC 5035) with one ESSCertIDv2: SM3 of the certificate and its issuerSerial."""
    tbs = load_certificate(cert_der)["tbs_certificate"]
    issuer_serial = der.seq(der.seq(der.tlv(der.CTX4, tbs["issuer"].dump())), tbs["serial_number"].dump())
    cert_id = der.seq(der.algorithm(OID_SM3), der.tlv(der.OCTET_STRING, sm3(cert_der)), issuer_serial)
    return der.seq(der.seq(cert_id))


def _check_value(value: bytes) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise CmsError("attribute values must be DER bytes")
    return der.single(bytes(value))


def _unsigned_set(attributes: dict[str, list[bytes]]) -> bytes:
    if not attributes:
        return b""
    encoded = [der.attribute(dotted, values) for dotted, values in attributes.items()]
    return der.tlv(der.CTX1, b"".join(sorted(encoded)))


def sign(content: bytes | None, *, signer: Signer, detached: bool = True, profile: str = PROFILE_GM,
         content_type: str | None = None, digest: bytes | None = None, signing_time: datetime | None = None,
         extra_certificates: Sequence[bytes] = (),
         unsigned_attributes: Sequence[tuple[str, bytes]] = (), check: bool = False) -> bytes:
    """A DER ContentInfo holding one SignedData with one SignerInfo (see the package docstring).

    `check=True`: verify the result with the certificate's key before returning it (CmsError if the
    signer's key is not the certificate's), so that no unverifiable evidence is stored; costs one
    SM2 verification. Off by default: tests make deliberately odd signatures through `sign`."""
    if profile not in (PROFILE_GM, PROFILE_PKCS7):
        raise CmsError(f"unknown profile {profile!r}")
    if content is None and (digest is None or not detached):
        raise CmsError("content is required (only a detached SignedData can be made from a digest)")
    if content is not None:
        content = bytes(content)
        if digest is not None and bytes(digest) != sm3(content):
            raise CmsError("digest is not SM3(content)")
        digest = sm3(content)
    if len(digest) != 32:
        raise CmsError("digest must be the 32-byte SM3 value")
    if profile == PROFILE_GM and signer.sign_digest is None:
        raise CmsError("the GM profile signs like GmSSL 3.1 (SM2 over a ready digest, no Z): "
                       "Signer.sign_digest is required, e.g. Signer.from_key_store(cert, keystore(), key_id)")
    econtent_type = der.dotted_oid(content_type or DATA_OID[profile])
    cert_der = bytes(signer.certificate_der)
    tbs = load_certificate(cert_der)["tbs_certificate"]
    moment = signing_time or datetime.now(timezone.utc)
    signed = [
        der.attribute(OID_CONTENT_TYPE, [der.oid(econtent_type)]),
        der.attribute(OID_MESSAGE_DIGEST, [der.tlv(der.OCTET_STRING, bytes(digest))]),
        der.attribute(OID_SIGNING_TIME, [der.time_value(moment)]),
        der.attribute(OID_SIGNING_CERTIFICATE_V2, [_signing_certificate_v2(cert_der)]),
    ]
    signed_inner = b"".join(sorted(signed))
    attached = None if detached else content
    if profile == PROFILE_GM:
        signature = signer.sign_digest(gm_signed_digest(econtent_type, attached, signed_inner))
    else:
        signature = signer.sign(der.tlv(der.SET, signed_inner))
    unsigned: dict[str, list[bytes]] = {}
    for dotted, value in unsigned_attributes:
        unsigned.setdefault(der.dotted_oid(dotted), []).append(_check_value(value))
    signer_info_head = b"".join([
        der.integer(1),
        der.seq(tbs["issuer"].dump(), tbs["serial_number"].dump()),
        der.algorithm(OID_SM3),
        der.tlv(der.CTX0, signed_inner),
        der.algorithm(OID_SM2_SM3),
        der.tlv(der.OCTET_STRING, bytes(signature)),
    ])
    version = 1 if profile == PROFILE_GM or econtent_type == DATA_OID[profile] else 3   # RFC 5652 §5.1
    econtent = b"" if attached is None else der.tlv(der.CTX0, der.tlv(der.OCTET_STRING, attached))
    certificates = [cert_der] + [der.single(bytes(c)) for c in extra_certificates if bytes(c) != cert_der]
    head = b"".join([
        der.integer(version),
        der.set_of([der.algorithm(OID_SM3)]),
        der.seq(der.oid(econtent_type), econtent),
        der.tlv(der.CTX0, b"".join(sorted(certificates))),
    ])
    result = _content_info(profile, head, signer_info_head + _unsigned_set(unsigned))
    if check:
        from app.crypto.cms.verify import verify   # verify imports this module
        outcome = verify(result, digest=digest)
        if not outcome.ok:
            raise CmsError(f"the SignedData just made does not verify ({outcome.reason}): "
                           "is the signing key the certificate's?")
    return result


def _content_info(profile: str, signed_data_head: bytes, signer_info_body: bytes) -> bytes:
    signed_data = der.seq(signed_data_head, der.set_of([der.seq(signer_info_body)]))
    return der.seq(der.oid(SIGNED_DATA_OID[profile]), der.tlv(der.CTX0, signed_data))


def add_unsigned_attribute(cms_der: bytes, oid: str, value_der: bytes) -> bytes:
    """The same SignedData with `value_der` added to the (single) SignerInfo's unsigned attribute
    `oid` (a new attribute, or one more value of an existing one). Signed bytes stay as they are."""
    decoded: Decoded = decode(cms_der)
    der.dotted_oid(oid)
    attributes = {k: list(v) for k, v in decoded.unsigned_attributes.items()}
    attributes.setdefault(oid, []).append(_check_value(value_der))
    return _content_info(decoded.profile, decoded.signed_data_head,
                         decoded.signer_info_head + _unsigned_set(attributes))


def certificate_hash(algorithm_oid: str, cert_der: bytes) -> bytes | None:
    """Hash for an ESSCertIDv2: SM3 or SHA-256 (the RFC 5035 default); None for others."""
    if algorithm_oid == OID_SM3:
        return sm3(cert_der)
    if algorithm_oid == "2.16.840.1.101.3.4.2.1":
        return hashlib.sha256(cert_der).digest()
    return None
