"""Third-party verification (验签服务): a validation report modelled on the EU DSS one, signed by the platform.

Two input forms: the raw SM2 signature with the signer's certificate (`signature_b64`,
`certificate_pem`, and `document_b64` or `e_hex`), or a CMS SignedData (GM/T 0010, `cms_b64`:
attached, or detached with `document_b64` or, for large files, `document_sm3_hex`), whose signer
certificate and signature timestamp travel inside it (signing/verification_cms.py).

Checks, in order: the certificate chains to the platform CA (else INDETERMINATE /
NO_CERTIFICATE_CHAIN_FOUND) → the signature is well formed (strict DER with 1 ≤ r, s ≤ n−1; a
parsable SignedData) (else TOTAL_FAILED / FORMAT_FAILURE) → it verifies (raw: over e, else
TOTAL_FAILED / HASH_FAILURE when the platform made this signature over another e, SIG_CRYPTO_FAILURE
otherwise; CMS: over the signed attributes, else SIG_CRYPTO_FAILURE, then messageDigest = SM3(content),
else HASH_FAILURE) → revocation, then validity, at the proof-of-existence (PoE) time → TOTAL_PASSED.
Undecodable input (Base64, hex, PEM, a SignedData without a signer certificate) is a 400 problem.

Proof of existence (ETSI EN 319 102-1 §5.6.2 / DSS "past signature validation"): a SignedData's
signature timestamp (unsigned attribute id-aa-signatureTimeStampToken) that verifies — the TSA's
SM2 signature, its certificate from the platform CA, neither revoked nor expired, imprint =
SM3(signature value) — proves the signature existed at its genTime (poe_time). Then:
- certificate revoked, genTime < revoked_at → TOTAL_PASSED ("time-stamped before revocation");
  genTime ≥ revoked_at → TOTAL_FAILED / REVOKED; no usable timestamp → INDETERMINATE / REVOKED_NO_POE;
- certificate outside its validity now, genTime within it → TOTAL_PASSED; otherwise INDETERMINATE /
  OUT_OF_BOUNDS_NO_POE;
- a timestamp that is tampered with, or whose TSA certificate is revoked or expired, is reported in
  `timestamp` ({valid: false, reason, tsa_status}) and never used as proof of existence.
Revocation is judged at the PoE time (`revocation.status_at_poe`), or now without one. Raw
signatures carry no timestamp: their answers are those of issue 14.

Hot path: the parsed CA and the parsed, chain-checked certificates are cached (a certificate's
chain check never changes while the CA does not); the revocation status is read live, every
call, with SQL built once.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from flask import current_app

from app import audit
from app.crypto import x509
from app.crypto.ca import platform_ca
from app.crypto.sm2 import SM2PublicKey, decode_signature
from app.crypto.sm3 import sm3_hex
from app.db import utcnow
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.security.pii import mask_name
from signing import models, report, report_models
from signing.errors import VerificationInputInvalid
from signing.report_findings import FORMAT_RAW, Findings

TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE = "TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"
_CACHE_MAX = 4096


@dataclass(frozen=True)
class _Cert:
    serial: str
    issuer: str
    subject: str
    chain_ok: bool
    public_key: SM2PublicKey | None
    not_before: datetime
    not_after: datetime
    signer: dict[str, str | None]
    der: bytes


_cache: dict[str, Any] = {"ca_der": None, "ca_key": None, "ca_subject": None, "certs": {}}


def _ca_state() -> tuple[SM2PublicKey, bytes]:
    ca_der = platform_ca().certificate_der()
    if _cache["ca_der"] != ca_der:  # first call, or another CA (tests, a CA renewal): start over
        cert = asn1_x509.Certificate.load(ca_der)
        _cache.update(ca_der=ca_der, ca_key=SM2PublicKey.from_der(cert.public_key.dump()),
                      ca_subject=cert.subject.dump(), certs={})
    return _cache["ca_key"], _cache["ca_subject"]


def _signer(cert: asn1_x509.Certificate) -> dict[str, str | None]:
    subject = cert.subject.native
    return {"name_masked": mask_name(subject.get("common_name")),
            "id_number_masked": subject.get("organizational_unit_name")}  # masked at issuance


def parse_certificate(pem: str, field: str = "certificate_pem") -> _Cert:
    """The certificate, chain-checked against the platform CA (cached); VerificationInputInvalid
    naming `field` when it cannot be parsed."""
    ca_key, ca_subject = _ca_state()
    cached = _cache["certs"].get(pem)
    if cached is not None:
        return cached
    try:
        cert = x509.load_certificate(pem.encode())
        tbs = cert["tbs_certificate"]
        chain_ok = (cert.issuer.dump() == ca_subject
                    and cert["signature_algorithm"]["algorithm"].dotted == x509.SM2_SM3_OID
                    and ca_key.verify(cert["signature_value"].native, tbs.dump()))
        public_key = SM2PublicKey.from_der(cert.public_key.dump()) if chain_ok else None
        parsed = _Cert(serial=x509.serial_hex(cert.serial_number), issuer=cert.issuer.human_friendly,
                       subject=cert.subject.human_friendly, chain_ok=chain_ok, public_key=public_key,
                       not_before=cert.not_valid_before, not_after=cert.not_valid_after, signer=_signer(cert),
                       der=cert.dump())
    except Exception:  # noqa: BLE001 - asn1crypto raises ValueError, TypeError, KeyError … on garbage
        raise VerificationInputInvalid(errors={field: [N_("证书无法解析。")]}) from None
    if len(_cache["certs"]) >= _CACHE_MAX:
        _cache["certs"].clear()
    _cache["certs"][pem] = parsed
    return parsed


def certificate_part(cert: _Cert) -> dict[str, Any]:
    """The answer's `certificate`, with the revocation status read live (an untrusted chain: unknown)."""
    part: dict[str, Any] = {"serial": cert.serial, "issuer": cert.issuer, "status": "unknown",
                            "not_before": cert.not_before, "not_after": cert.not_after}
    if cert.chain_ok:
        status, revoked_at, reason = models.certificate_status(cert.serial)
        part.update(status=status, revoked_at=revoked_at, revocation_reason=reason)
    return part


def judge_time(found: Findings, cert: _Cert, now: datetime, poe: datetime | None) -> None:
    """Once the signature and digest checks passed: revocation, then validity, at the PoE time
    (the module's rules); sets the indication, sub-indication and status at PoE."""
    part = found.certificate_part
    status, revoked_at = part["status"], part.get("revoked_at")
    at = poe or now
    found.poe_time = poe
    found.status_at_poe = ("revoked" if status == "revoked" and revoked_at is not None and revoked_at <= at
                           else "good" if status in ("good", "revoked") else status)
    if now > cert.not_after or now < cert.not_before:
        part["status"] = part["status"] if status == "revoked" else ("expired" if now > cert.not_after
                                                                      else "not_yet_valid")
    if status == "revoked" and (poe is None or revoked_at is None):
        found.indication, found.sub_indication = INDETERMINATE, "REVOKED_NO_POE"
    elif status == "revoked" and poe >= revoked_at:
        found.indication, found.sub_indication = TOTAL_FAILED, "REVOKED"
    elif status not in ("good", "revoked"):
        found.indication, found.sub_indication = INDETERMINATE, "REVOKED_NO_POE"
    elif not (cert.not_before <= now <= cert.not_after) and not (poe and cert.not_before <= poe <= cert.not_after):
        found.indication, found.sub_indication = INDETERMINATE, "OUT_OF_BOUNDS_NO_POE"
    else:
        found.indication, found.sub_indication = TOTAL_PASSED, None


def _b64(body: dict[str, Any], name: str) -> bytes | None:
    if body.get(name) is None:
        return None
    try:
        return base64.b64decode(body[name], validate=True)
    except (binascii.Error, ValueError):
        raise VerificationInputInvalid(errors={name: [N_("Base64 编码无效。")]}) from None


def _assess_raw(body: dict[str, Any], now: datetime) -> Findings:
    document, signature = _b64(body, "document_b64"), _b64(body, "signature_b64")
    e = bytes.fromhex(body["e_hex"]) if body.get("e_hex") else None
    cert = parse_certificate(body["certificate_pem"])
    found = Findings(format=FORMAT_RAW, indication=INDETERMINATE, sub_indication="NO_CERTIFICATE_CHAIN_FOUND",
                     certificate=cert, certificate_der=cert.der, certificate_part=certificate_part(cert),
                     signature_value=signature, checked_at=now)
    found.platform_record = report_models.platform_signature(signature_sm3=sm3_hex(signature))
    found.digest = {"algorithm": "SM3", "source": "document" if document is not None else "e_hex",
                    "content_sm3": sm3_hex(document) if document is not None else None, "match": None}
    if not cert.chain_ok:
        return found
    try:
        decode_signature(signature)
    except ValueError:
        found.format_ok = False
        found.indication, found.sub_indication = TOTAL_FAILED, "FORMAT_FAILURE"
        return found
    if e is None:
        e = cert.public_key.digest(document)
    found.digest["e"] = e.hex()
    found.signature_ok = cert.public_key.verify_digest(signature, e)
    if not found.signature_ok:
        recorded = models.signature_record(sm3_hex(signature))
        hash_failure = bool(recorded and recorded[0] != e.hex())
        found.indication = TOTAL_FAILED
        found.sub_indication = "HASH_FAILURE" if hash_failure else "SIG_CRYPTO_FAILURE"
        if hash_failure:  # the platform signed this value over another e: the signature is intact, the content not
            found.signature_ok, found.digest["match"] = True, False
        return found
    if document is not None:
        found.digest["match"] = True
    judge_time(found, cert, now, None)
    return found


def verify(*, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The validation report for one signature, signed by the platform and stored for the client;
    every call is rate-limited per client and audited."""
    consume([Limit(f"verify-sig:{client_id}", current_app.config["SIGNATURE_VERIFY_PER_MINUTE"], 60)])
    now = utcnow()
    if body.get("cms_b64") is not None:
        from signing.verification_cms import assess_cms  # the CMS path imports back judge_time / parse_certificate
        found = assess_cms(body, now)
    else:
        found = _assess_raw(body, now)

    def audit_row(report_id: str) -> None:  # in the report's transaction
        audit.record("signing.verify", outcome="success" if found.indication == TOTAL_PASSED else "refused",
                     actor_kind="client", actor_id=client_id, target=found.certificate.serial,
                     details={"indication": found.indication, "sub_indication": found.sub_indication,
                              "format": found.format, "report": report_id})

    return report.issue(found, client_id=client_id, audit_row=audit_row)
