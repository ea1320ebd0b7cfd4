"""CMS SignedData with SM2/SM3: GM/T 0010 (checked against GmSSL 3.1) and RFC 5652 (for RFC 3161).

    der = cms.sign(document, signer=cms.Signer.from_key_store(cert_der, keystore(), key_id))
    check = cms.verify(der, content=document)      # CmsCheck(ok, reason, info)

Two profiles:
- PROFILE_GM: GM/T 0010 OIDs (data 1.2.156.10197.6.1.4.2.1, signedData …4.2.2), SM3 1.2.156.10197.1.401,
  signature algorithm sm2sign-with-sm3 1.2.156.10197.1.501 without parameters, SignedData and SignerInfo
  version 1, issuerAndSerialNumber — what GmSSL 3.1.1 writes and insists on (src/cms.c). The signature
  follows GmSSL's convention, which is not RFC 5652's: SM2 over the ready digest
  e = SM3(SEQUENCE{eContentType, [0]{eContent}} ‖ signed attributes' contents octets), no Z (see
  `build.gm_signed_digest`). Hence `Signer.sign_digest` is required to sign in this profile, and a
  detached and an attached SignedData of the same content carry different signatures (the attached
  form cannot be made later from the detached SignerInfo). `verify` also accepts, for this profile,
  a signature made the RFC 5652 way (Z with ID 1234567812345678 over the DER SET OF signed
  attributes), as other GM/T 0010 producers write it.
- PROFILE_PKCS7: RFC 5652 OIDs (1.2.840.113549.1.7.x) with SM3 and SM2-with-SM3; the signature is
  `Signer.sign(DER SET OF signed attributes)` (SM2 with Z, default ID), as RFC 5652 §5.4 says.

Signed attributes written: contentType, messageDigest (SM3), signingTime (UTCTime until 2049) and ESS
signingCertificateV2 (RFC 5035, hash SM3, with issuerSerial); GmSSL 3.1 does not read signed
attributes, so it accepts them. The SET OF is DER-sorted. GmSSL's `cmssign` writes no signed
attributes at all: such a SignedData (attached only) is read with digest = SM3(eContent) and no time.

Strict reading (any failure is CmsError from `parse`, reason "format" from `verify`): DER only —
definite, minimal lengths (BER indefinite lengths, as `openssl cms -stream` writes, are refused:
GmSSL and this module write DER, and a signature's bytes must have one encoding); no trailing
bytes; exactly one SignerInfo; digest algorithm SM3 only; signature algorithm SM2 only
(1.2.156.10197.1.501, or 1.2.156.10197.1.301 as some RFC 3161 producers write); eContent an
OCTET STRING; certificates only as plain Certificates; signed attributes unique per type and
containing contentType and messageDigest.
"""
from __future__ import annotations

from app.crypto.cms.build import add_unsigned_attribute, gm_signed_digest, sign
from app.crypto.cms.model import (
    OID_GM_DATA, OID_GM_SIGNED_DATA, OID_PKCS7_DATA, OID_PKCS7_SIGNED_DATA, OID_SIGNING_CERTIFICATE_V2, OID_SM2_SM3,
    OID_SM3, OID_TIMESTAMP_TOKEN, PROFILE_GM, PROFILE_PKCS7, CmsCheck, CmsError, SignedDataInfo, Signer,
)
from app.crypto.cms.verify import parse, verify

__all__ = [
    "OID_GM_DATA", "OID_GM_SIGNED_DATA", "OID_PKCS7_DATA", "OID_PKCS7_SIGNED_DATA", "OID_SIGNING_CERTIFICATE_V2",
    "OID_SM2_SM3", "OID_SM3", "OID_TIMESTAMP_TOKEN", "PROFILE_GM", "PROFILE_PKCS7", "CmsCheck", "CmsError",
    "SignedDataInfo", "Signer", "add_unsigned_attribute", "gm_signed_digest", "parse", "sign", "verify",
]
