"""Strict decoding of a ContentInfo holding one SignedData with one SignerInfo.

`decode` keeps the raw pieces next to the decoded values, so that `add_unsigned_attribute` can
rebuild the structure without touching a signed byte."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime

from asn1crypto import x509

from app.crypto.cms import der
from app.crypto.cms.model import (
    OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNING_TIME, OID_SM2, OID_SM2_SM3, OID_SM3, PROFILE_GM,
    SIGNED_DATA_OID, CmsError,
)

_PROFILE_BY_OID = {dotted: profile for profile, dotted in SIGNED_DATA_OID.items()}
SIGNATURE_ALGORITHMS = (OID_SM2_SM3, OID_SM2)


@dataclass
class Decoded:
    profile: str
    content_type: str
    content: bytes | None
    certificates: list[bytes]
    sid: tuple                      # ("issuer_serial", issuer Name DER, serial) | ("ski", key identifier)
    signed_attributes: dict[str, list[bytes]] | None   # oid -> DER values; None when absent
    signed_attributes_inner: bytes | None               # contents octets of the [0] IMPLICIT SET
    signature: bytes
    unsigned_attributes: dict[str, list[bytes]]
    # raw pieces for re-encoding
    signed_data_head: bytes = b""   # version ‖ digestAlgorithms ‖ encapContentInfo ‖ [0] certs ‖ [1] crls
    signer_info_head: bytes = b""   # version ‖ sid ‖ digestAlgorithm ‖ [0] signedAttrs ‖ sigAlg ‖ signature
    unsigned_raw: list[bytes] = field(default_factory=list)   # each unsigned Attribute's DER

    @property
    def signed_attributes_der(self) -> bytes:
        if self.signed_attributes_inner is None:
            return b""
        return der.tlv(der.SET, self.signed_attributes_inner)

    def single_value(self, dotted: str) -> bytes | None:
        values = (self.signed_attributes or {}).get(dotted)
        if values is None:
            return None
        if len(values) != 1:
            raise CmsError(f"signed attribute {dotted} must have exactly one value")
        return values[0]

    @property
    def message_digest(self) -> bytes | None:
        value = self.single_value(OID_MESSAGE_DIGEST)
        return None if value is None else der.Reader(value).value(der.OCTET_STRING)

    @property
    def content_type_attribute(self) -> str | None:
        value = self.single_value(OID_CONTENT_TYPE)
        return None if value is None else der.Reader(value).oid()

    @property
    def signing_time(self) -> datetime | None:
        value = self.single_value(OID_SIGNING_TIME)
        if value is None:
            return None
        tag, _, start, end = der.Reader(value).element()
        return der.read_time(tag, value[start:end])


def _attributes(reader: der.Reader, *, unique: bool) -> tuple[dict[str, list[bytes]], list[bytes]]:
    found: dict[str, list[bytes]] = {}
    raws: list[bytes] = []
    while reader.more():
        raw = reader.raw(der.SEQUENCE)
        inner = der.Reader(raw)
        attr = inner.inner(der.SEQUENCE)
        dotted = attr.oid()
        values_reader = attr.inner(der.SET)
        attr.done()
        values = []
        while values_reader.more():
            values.append(values_reader.raw())
        if not values:
            raise CmsError(f"attribute {dotted} without values")
        if dotted in found and unique:
            raise CmsError(f"signed attribute {dotted} occurs twice")
        found.setdefault(dotted, []).extend(values)
        raws.append(raw)
    return found, raws


def _signer_info(reader: der.Reader, decoded: dict) -> None:
    start = reader.pos
    version = reader.value(der.INTEGER)
    if version == b"\x01":
        sid_reader = reader.inner(der.SEQUENCE)
        issuer = sid_reader.raw(der.SEQUENCE)
        serial_bytes = sid_reader.value(der.INTEGER)
        sid_reader.done()
        try:
            serial = der.sm2der.decode_unsigned(serial_bytes)
        except ValueError:
            serial = int.from_bytes(serial_bytes, "big", signed=True)   # negative serials exist in the wild
        decoded["sid"] = ("issuer_serial", issuer, serial)
    elif version == b"\x03":
        decoded["sid"] = ("ski", reader.value(der.PRIM0))
    else:
        raise CmsError("SignerInfo version must be 1 or 3")
    if der.read_algorithm(reader) != OID_SM3:
        raise CmsError("unsupported digest algorithm (SM3 only)")
    signed = reader.optional(der.CTX0)
    if signed is not None:
        decoded["signed_attributes_inner"] = signed.data[signed.pos:signed.end]
        decoded["signed_attributes"], _ = _attributes(signed, unique=True)
        if not decoded["signed_attributes"]:
            raise CmsError("empty signed attributes")
    if der.read_algorithm(reader) not in SIGNATURE_ALGORITHMS:
        raise CmsError("unsupported signature algorithm (SM2 only)")
    decoded["signature"] = reader.value(der.OCTET_STRING)
    decoded["signer_info_head"] = reader.data[start:reader.pos]
    unsigned = reader.optional(der.CTX1)
    if unsigned is not None:
        decoded["unsigned_attributes"], decoded["unsigned_raw"] = _attributes(unsigned, unique=False)
        if not decoded["unsigned_raw"]:
            raise CmsError("empty unsigned attributes")
    reader.done()


def decode(cms_der: bytes) -> Decoded:
    """Decode or raise CmsError (never anything else)."""
    if not isinstance(cms_der, (bytes, bytearray, memoryview)):
        raise CmsError("SignedData must be bytes")
    data = bytes(cms_der)
    try:
        return _decode(data)
    except CmsError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, OverflowError) as exc:
        raise CmsError(f"malformed SignedData: {exc}") from None


def _decode(data: bytes) -> Decoded:
    top = der.Reader(data)
    content_info = top.inner(der.SEQUENCE)
    top.done()   # no trailing bytes
    profile = _PROFILE_BY_OID.get(content_info.oid())
    if profile is None:
        raise CmsError("not a SignedData (neither the GM/T 0010 nor the PKCS #7 signedData OID)")
    explicit = content_info.inner(der.CTX0)
    content_info.done()
    signed_data = explicit.inner(der.SEQUENCE)
    explicit.done()
    head_start = signed_data.pos
    version = signed_data.value(der.INTEGER)
    if version not in ((b"\x01",) if profile == PROFILE_GM else (b"\x01", b"\x03")):
        raise CmsError("unsupported SignedData version")
    algorithms = signed_data.inner(der.SET)
    if not algorithms.more():
        raise CmsError("no digest algorithm")
    while algorithms.more():
        if der.read_algorithm(algorithms) != OID_SM3:
            raise CmsError("unsupported digest algorithm (SM3 only)")
    encap = signed_data.inner(der.SEQUENCE)
    content_type = encap.oid()
    content = None
    wrapped = encap.optional(der.CTX0)
    if wrapped is not None:
        content = wrapped.value(der.OCTET_STRING)
        wrapped.done()
    encap.done()
    certificates = []
    certs = signed_data.optional(der.CTX0)
    while certs is not None and certs.more():
        certificates.append(certs.raw(der.SEQUENCE))   # other CertificateChoices are not supported
    if signed_data.peek() == der.CTX1:
        signed_data.raw(der.CTX1)   # CRLs are carried along, not read
    head_end = signed_data.pos
    infos = signed_data.inner(der.SET)
    signed_data.done()
    fields: dict = {"signed_attributes": None, "signed_attributes_inner": None, "unsigned_attributes": {},
                    "unsigned_raw": []}
    _signer_info(infos.inner(der.SEQUENCE), fields)
    if infos.more():
        raise CmsError("more than one SignerInfo")
    decoded = Decoded(profile=profile, content_type=content_type, content=content, certificates=certificates,
                      signed_data_head=data[head_start:head_end], **fields)
    if decoded.signed_attributes is None:
        if profile != PROFILE_GM or content is None:
            raise CmsError("without signed attributes only an attached GM/T 0010 SignedData (GmSSL) is read")
    else:
        if decoded.content_type_attribute is None or decoded.message_digest is None:
            raise CmsError("signed attributes lack contentType or messageDigest")
        if len(decoded.message_digest) != 32:
            raise CmsError("messageDigest is not an SM3 value")
        decoded.signing_time   # parsed now, so that a bad time fails here
    return decoded


def load_certificate(cert_der: bytes) -> x509.Certificate:
    """The parsed certificate (read-only: it is shared). Parsed once per DER: asn1crypto's full parse
    was half the cost of a signature or a verification, and the same few certificates (a citizen's,
    the TSA's, the CA's) come back on every call."""
    return _load_certificate(bytes(cert_der))


@lru_cache(maxsize=1024)
def _load_certificate(cert_der: bytes) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(cert_der, strict=True)
        cert.native   # parse everything now
    except (ValueError, TypeError, KeyError) as exc:
        raise CmsError(f"malformed certificate: {exc}") from None
    return cert


def find_signer(decoded: Decoded) -> bytes | None:
    """The certificate the sid names, or None."""
    for cert_der in decoded.certificates:
        cert = load_certificate(cert_der)
        tbs = cert["tbs_certificate"]
        if decoded.sid[0] == "issuer_serial":
            if tbs["issuer"].dump() == decoded.sid[1] and tbs["serial_number"].native == decoded.sid[2]:
                return cert_der
        elif cert.key_identifier == decoded.sid[1]:
            return cert_der
    return None
