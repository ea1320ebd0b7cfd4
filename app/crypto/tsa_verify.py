"""Checking an RFC 3161 time-stamp token of the platform's TSA (app/crypto/tsa.py issues them).

`verify_token` answers a TimestampCheck; it never raises for what it is given. In order:
the token is a DER SignedData with a DER TSTInfo v1 (else "format") → its CMS signature and
messageDigest verify with the TSA certificate it carries, or, when it carries none (certReq false),
with the platform CA's certificate of that serial (else "signature_invalid") → the imprint is the
one asked about (else "imprint_mismatch") → the TSA certificate was issued by the platform CA,
signature checked (else "untrusted_tsa") → it has the critical, sole EKU id-kp-timeStamping (else
"not_tsa_certificate") → it is not revoked (else "tsa_certificate_revoked", whatever the revocation
time: a TSA key that may have been compromised can have back-dated anything, so this fails closed)
→ genTime lies within its validity and it has not expired now (else "tsa_certificate_expired").
The TSA certificate's status (good | revoked | expired | unknown) and revocation time are reported
whenever they can be read, also for an invalid token.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from asn1crypto import cms as asn1_cms
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509

from app.crypto import cms, x509
from app.crypto.cms.decode import load_certificate
from app.crypto.ca import platform_ca
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3
from app.db import utcnow

SM3_OID = "1.2.156.10197.1.401"
SHA256_OID = "2.16.840.1.101.3.4.2.1"
HASH_OIDS = {SM3_OID: 32, SHA256_OID: 32}  # the imprints this TSA stamps → their length
ID_CT_TST_INFO = "1.2.840.113549.1.9.16.1.4"
# A UUID OID (ITU-T X.667), allocated for YiWang's TSA policy; see app/crypto/tsa.py.
POLICY_OID = "2.25.337011221952473327977943416857101564087"
TIME_STAMPING_EKU = "time_stamping"  # id-kp-timeStamping 1.3.6.1.5.5.7.3.8, asn1crypto's name

_CMS_REASONS = {"format": "format", "no_content": "format", "content_type_mismatch": "format",
                "digest_mismatch": "signature_invalid", "signature_invalid": "signature_invalid",
                "signer_not_found": "untrusted_tsa"}


@dataclass(frozen=True)
class TimestampCheck:
    valid: bool
    reason: str | None  # None | format | signature_invalid | imprint_mismatch | not_tsa_certificate |
    #                     tsa_certificate_revoked | tsa_certificate_expired | untrusted_tsa
    gen_time: datetime | None = None
    serial: int | None = None  # the TSTInfo serialNumber
    policy: str | None = None
    hash_oid: str | None = None
    tsa_serial: str | None = None  # the TSA certificate's serial, lower-case hex
    tsa_status: str | None = None  # good | revoked | expired | unknown
    tsa_revoked_at: datetime | None = None
    nonce: int | None = None
    imprint: bytes | None = None


def digest(data: bytes, hash_oid: str) -> bytes:
    """The imprint of `data` by SM3 or SHA-256; ValueError for another algorithm."""
    if hash_oid == SM3_OID:
        return sm3(data)
    if hash_oid == SHA256_OID:
        return hashlib.sha256(data).digest()
    raise ValueError(f"unsupported hash algorithm {hash_oid}")


def _with_tsa_certificate(token_der: bytes) -> bytes:
    """The token itself, or, when it carries no certificate, a copy with the platform CA's certificate
    of the signer's serial (the certificates field is not signed). ValueError when malformed."""
    info = asn1_cms.ContentInfo.load(token_der, strict=True)
    signed_data = info["content"]
    if not isinstance(signed_data, asn1_cms.SignedData):
        raise ValueError("not a SignedData")
    if len(signed_data["certificates"]):  # (not .native: that parses every certificate in full)
        return token_der
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise ValueError("exactly one SignerInfo")
    sid = signer_infos[0]["sid"]
    if sid.name != "issuer_and_serial_number":
        raise ValueError("a token without certificates must name its signer by issuer and serial")
    try:
        pem = platform_ca().certificate(x509.serial_hex(sid.chosen["serial_number"].native)).pem
    except Exception:  # noqa: BLE001 - CertificateNotFound: not ours; cms.verify reports signer_not_found
        return token_der
    signed_data["certificates"] = [asn1_cms.CertificateChoices(name="certificate",
                                                               value=x509.load_certificate(pem))]
    return asn1_cms.ContentInfo({"content_type": info["content_type"], "content": signed_data}).dump(force=True)


def _tst_info(content: bytes | None) -> tsp.TSTInfo:
    tst = tsp.TSTInfo.load(content, strict=True)
    tst.native
    if tst.dump(force=True) != content or tst["version"].native != "v1":
        raise ValueError("TSTInfo is not DER or not version 1")
    if tst["gen_time"].native is None:
        raise ValueError("no genTime")
    return tst


def _chain_ok(cert: asn1_x509.Certificate) -> bool:
    return _chain_ok_der(platform_ca().certificate_der(), cert.dump())


@lru_cache(maxsize=256)
def _chain_ok_der(ca_der: bytes, cert_der: bytes) -> bool:
    """Whether the CA of `ca_der` signed the certificate `cert_der`: a fact of the two DERs, checked
    once per pair (a CA renewal is another pair)."""
    ca = asn1_x509.Certificate.load(ca_der)
    cert = load_certificate(cert_der)
    if cert.issuer.dump() != ca.subject.dump() or cert["signature_algorithm"]["algorithm"].dotted != x509.SM2_SM3_OID:
        return False
    try:
        return SM2PublicKey.from_der(ca.public_key.dump()).verify(cert["signature_value"].native,
                                                                  cert["tbs_certificate"].dump())
    except ValueError:
        return False


def _is_tsa_certificate(cert: asn1_x509.Certificate) -> bool:
    for extension in cert["tbs_certificate"]["extensions"]:
        if extension["extn_id"].native == "extended_key_usage":
            return bool(extension["critical"].native) and extension["extn_value"].native == [TIME_STAMPING_EKU]
    return False


def verify_token(token_der: bytes, *, imprint: bytes | None = None, data: bytes | None = None,
                 hash_oid: str = SM3_OID) -> TimestampCheck:
    """Is `token_der` a valid token of the platform's TSA — and, given `imprint` (or `data`, hashed
    by `hash_oid`), one over that imprint? See the module doc for the order of the checks."""
    try:
        check = cms.verify(_with_tsa_certificate(token_der))
    except Exception:  # noqa: BLE001 - whatever garbage does to asn1crypto is a format failure
        return TimestampCheck(False, "format")
    if not check.ok or check.info is None:
        return TimestampCheck(False, _CMS_REASONS.get(check.reason, "format"))
    try:
        if check.info.content_type != ID_CT_TST_INFO:
            raise ValueError("not a TSTInfo")
        tst = _tst_info(check.info.content)
        cert = load_certificate(check.info.certificate_der)  # parsed once per DER, shared
    except Exception:  # noqa: BLE001
        return TimestampCheck(False, "format")
    gen_time = tst["gen_time"].native
    result = TimestampCheck(False, None, gen_time=gen_time, serial=tst["serial_number"].native,
                            policy=tst["policy"].dotted,
                            hash_oid=tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted,
                            tsa_serial=x509.serial_hex(cert.serial_number), nonce=tst["nonce"].native,
                            imprint=tst["message_imprint"]["hashed_message"].native)
    if data is not None or imprint is not None:
        try:
            wanted = imprint if imprint is not None else digest(data, hash_oid)
        except ValueError:
            wanted = None
        if wanted is None or result.hash_oid != hash_oid or not hmac.compare_digest(wanted, result.imprint):
            return replace(result, reason="imprint_mismatch")
    if not _chain_ok(cert):
        return replace(result, reason="untrusted_tsa", tsa_status="unknown")
    status = platform_ca().status(result.tsa_serial)
    result = replace(result, tsa_status=status["status"], tsa_revoked_at=status["revoked_at"])
    if not _is_tsa_certificate(cert):
        return replace(result, reason="not_tsa_certificate")
    if status["status"] == "revoked":
        return replace(result, reason="tsa_certificate_revoked")
    if status["status"] != "good":
        return replace(result, reason="untrusted_tsa")
    if gen_time < cert.not_valid_before:
        return replace(result, reason="untrusted_tsa")
    if gen_time > cert.not_valid_after or utcnow() > cert.not_valid_after:
        return replace(result, reason="tsa_certificate_expired", tsa_status="expired")
    return replace(result, valid=True)
