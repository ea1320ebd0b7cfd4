"""Names, errors and result types of the CMS SignedData module (see the package docstring)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PROFILE_GM = "gm"          # GM/T 0010 object identifiers, GmSSL 3.1 signature convention
PROFILE_PKCS7 = "pkcs7"    # RFC 5652 object identifiers, RFC 5652 signature convention (Z with the default ID)

OID_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"    # id-aa-signatureTimeStampToken (unsigned attribute)

OID_GM_DATA = "1.2.156.10197.6.1.4.2.1"
OID_GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
OID_PKCS7_DATA = "1.2.840.113549.1.7.1"
OID_PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_SM3 = "1.2.156.10197.1.401"
OID_SM2_SM3 = "1.2.156.10197.1.501"     # sm2sign-with-sm3: what GmSSL 3.1 writes (no parameters)
OID_SM2 = "1.2.156.10197.1.301"         # the curve OID; some RFC 3161 producers write it as the signature algorithm
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"

DATA_OID = {PROFILE_GM: OID_GM_DATA, PROFILE_PKCS7: OID_PKCS7_DATA}
SIGNED_DATA_OID = {PROFILE_GM: OID_GM_SIGNED_DATA, PROFILE_PKCS7: OID_PKCS7_SIGNED_DATA}


class CmsError(ValueError):
    """Anything malformed or unsupported in a SignedData, or unusable arguments to `sign`."""


@dataclass(frozen=True)
class Signer:
    """The signer's certificate and its signing operations; the private key stays where it is.

    `sign(message)` -> DER SM2 signature with the default ID 1234567812345678 (Z ‖ M), e.g.
    `lambda m: keystore().sign(key_id, m)`. `sign_digest(e)` -> DER SM2 signature of a ready
    32-byte e, e.g. `lambda e: keystore().sign_digest(key_id, e)`: the GM profile needs it,
    because GmSSL 3.1 signs SM3(content info ‖ signed attributes) directly, without Z.
    `Signer.from_key_store(cert_der, keystore(), key_id)` fills both."""

    certificate_der: bytes
    sign: Callable[[bytes], bytes]
    sign_digest: Callable[[bytes], bytes] | None = field(default=None)

    @classmethod
    def from_key_store(cls, certificate_der: bytes, store: Any, key_id: str) -> "Signer":
        return cls(certificate_der=certificate_der,
                   sign=lambda message: store.sign(key_id, message),
                   sign_digest=lambda e: store.sign_digest(key_id, e))


@dataclass(frozen=True)
class SignedDataInfo:
    profile: str
    content_type: str                  # dotted eContentType
    content: bytes | None              # attached eContent, None when detached
    digest: bytes                      # messageDigest attribute (SM3(eContent) when there are no signed attributes)
    signing_time: datetime | None      # signingTime attribute, UTC
    certificate_der: bytes             # the signer's certificate (b"" when no certificate matches the sid)
    certificates: list[bytes]          # every certificate in the SignedData
    signature: bytes                   # DER SM2 signature value
    signed_attributes_der: bytes       # the SET OF signed attributes (tag 0x31), b"" when absent
    unsigned_attributes: dict[str, list[bytes]]   # oid -> DER values


@dataclass(frozen=True)
class CmsCheck:
    ok: bool
    reason: str | None   # None | format | digest_mismatch | signature_invalid | no_content |
                         # content_type_mismatch | signer_not_found
    info: SignedDataInfo | None
