"""The verification report (验签报告, issue 18): built from the findings, signed by the platform, kept.

The report is DSS-like: indication and sub-indication, format ("CMS GM/T 0010" | "raw SM2"), the
signer (masked), the certificate chain (signer and platform CA: subject, serial, validity, SM3
fingerprint of the DER), revocation at the proof-of-existence time, the digest check, the
timestamp, the SM2 distinguishing ID and digest contract, the four conditions of article 13
(signing/report_article13.py) and the commands that re-check each step (signing/report_recheck.py).

Signed by the platform: the report's canonical JSON — UTF-8, keys sorted, no spaces
(`json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`), times RFC 3339
in China time — is the eContent of an attached CMS SignedData (GM/T 0010 profile, SM2/SM3) made by
the platform key of purpose "report" (app/crypto/platform_keys.py) with its certificate inside.
The JSON in the SignedData is the report: a relying party keeps the SignedData (`report_cms_b64`)
and anyone can check it with `gmssl cmsverify` and the platform CA certificate.

Kept in `verify_report` for the client that asked (GET /verify/reports/{id}, JSON or PDF; another
client's id is 404), VERIFY_REPORT_RETENTION_DAYS days (`flask signing prune-reports`).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from asn1crypto import x509 as asn1_x509
from flask import current_app

from app.clock import rfc3339
from app.crypto import cms, platform_keys, x509
from app.crypto.ca import keystore, platform_ca
from app.crypto.sm3 import sm3_hex
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_, language, translate
from app.security.pii import mask_name
from signing import report_models
from signing.report_article13 import conditions
from signing.report_findings import FORMAT_CMS, Findings
from signing.report_recheck import commands

PURPOSE = "report"  # the platform key that signs reports
VERSION = 1
SM2_ID = "1234567812345678"
CANONICAL = "UTF-8 JSON, keys sorted, no spaces (separators \",\" and \":\"), times RFC 3339 +08:00"


def canonical(report: dict[str, Any]) -> bytes:
    """The exact bytes the platform signs: UTF-8 JSON, keys sorted, no spaces; datetimes RFC 3339 (+08:00)."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=lambda v: rfc3339(v) if isinstance(v, datetime) else str(v)).encode("utf-8")


def _subject(cert: asn1_x509.Certificate, *, mask: bool) -> str:
    """The subject as C, O, OU, CN; the signer's CN (a person's name) masked as the answer's signer."""
    native = cert.subject.native
    parts = [("C", native.get("country_name")), ("O", native.get("organization_name")),
             ("OU", native.get("organizational_unit_name")),
             ("CN", mask_name(native.get("common_name")) if mask else native.get("common_name"))]
    return ", ".join(f"{k}={v}" for k, v in parts if v)


@lru_cache(maxsize=1024)
def _chain_facts(der: bytes, role: str) -> tuple[tuple[str, Any], ...]:
    """What the chain part says of a certificate (parsed once per certificate: the verification hot path)."""
    cert = asn1_x509.Certificate.load(der)
    return (("role", role), ("subject", _subject(cert, mask=role == "signer")),
            ("serial", x509.serial_hex(cert.serial_number)), ("not_before", cert.not_valid_before),
            ("not_after", cert.not_valid_after), ("sm3_fingerprint", sm3_hex(der)))


def _chain_entry(der: bytes, role: str) -> dict[str, Any]:
    return dict(_chain_facts(der, role))


def _revocation(found: Findings) -> dict[str, Any]:
    part = found.certificate_part
    revoked = part.get("status") == "revoked" or part.get("revoked_at") is not None
    note = None
    if revoked and found.poe_time is not None and found.status_at_poe == "good":
        note = translate(N_("签名在证书吊销之前已加盖时间戳（时间戳早于吊销时间），签名仍然有效。"))
    elif revoked and found.sub_indication == "REVOKED":
        note = translate(N_("时间戳晚于证书吊销时间：签名在证书吊销之后才存在，签名无效。"))
    elif revoked and found.sub_indication == "REVOKED_NO_POE":
        note = translate(N_("证书已吊销，且没有可用的时间戳证明签名早于吊销时间。"))
    return {"status_now": "revoked" if revoked else part.get("status"), "revoked_at": part.get("revoked_at"),
            "reason": part.get("revocation_reason"), "poe_time": found.poe_time,
            "poe_source": "timestamp" if found.poe_time else "none",
            "status_at_poe": found.status_at_poe if found.certificate.chain_ok else "unknown",
            "checked_at": found.checked_at, "source": "platform CA (GET /api/v1/signing/crl)", "note": note}


def _sm2_contract(found: Findings) -> dict[str, Any]:
    if found.format == FORMAT_CMS:
        text = N_("messageDigest = SM3(content)；SM2 签名覆盖签名属性（GM/T 0010；GmSSL 约定为对 "
                  "SM3(内容信息‖签名属性) 直接签名，亦接受 RFC 5652 约定：带 Z、区分标识 1234567812345678）。")
    else:
        text = N_("SM2 签名的对象是 e = SM3(Z‖M)，Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA)，区分标识 ID = 1234567812345678。")
    return {"distinguishing_id": SM2_ID, "algorithm": "SM2-with-SM3 (1.2.156.10197.1.501)",
            "hash": "SM3 (1.2.156.10197.1.401)", "digest_contract": translate(text)}


def build(found: Findings, report_id: str) -> dict[str, Any]:
    """The report as signed (JSON-ready: datetimes become RFC 3339 in `canonical`)."""
    chain = [_chain_entry(found.certificate_der, "signer")]
    if found.certificate.chain_ok:
        chain.append(_chain_entry(platform_ca().certificate_der(), "ca"))
    return {
        "report_id": report_id, "version": VERSION, "language": language(),
        "indication": found.indication, "sub_indication": found.sub_indication,
        "valid": found.indication == "TOTAL_PASSED", "format": found.format,
        "signer": found.certificate.signer, "certificate": found.certificate_part, "certificate_chain": chain,
        "revocation": _revocation(found), "poe_time": found.poe_time,
        "signature_check": {"algorithm": "SM2-with-SM3", "signed_over": found.signed_over,
                            "valid": found.signature_ok, "signature_sm3": sm3_hex(found.signature_value)},
        "digest": found.digest, "timestamp": found.timestamp, "cms": found.extra or None,
        "sm2": _sm2_contract(found), "article_13": conditions(found),
        "platform_signature": found.platform_record is not None,
        "recheck": commands(found), "checked_at": found.checked_at,
        "report_signature": {"format": "CMS SignedData GM/T 0010, attached", "canonicalisation": CANONICAL,
                             "key_purpose": PURPOSE},
    }


def sign_report(data: bytes) -> bytes:
    """An attached GM/T 0010 SignedData over `data`, by the platform's current "report" key."""
    key = platform_keys.current(PURPOSE)
    signer = cms.Signer.from_key_store(key.certificate_der, keystore(), key.key_id)
    return cms.sign(data, signer=signer, detached=False, profile=cms.PROFILE_GM)


def issue(found: Findings, *, client_id: str,
          audit_row: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build, sign and keep the report for `client_id`: the answer (the report, its id and its CMS).
    `audit_row(report_id)` writes the caller's audit row in the report's transaction (one commit)."""
    report_id = new_id("vrp")
    data = canonical(build(found, report_id))
    cms_der = sign_report(data)  # outside the transaction: the signature is CPU work
    with unit_of_work():
        report_models.insert_report(report_id=report_id, client_id=client_id, created_at=found.checked_at,
                                    report=data.decode("utf-8"), cms_der=cms_der)
        if audit_row is not None:
            audit_row(report_id)
    return answer(data, cms_der)


def answer(data: bytes, cms_der: bytes) -> dict[str, Any]:
    return {**json.loads(data), "report_cms_b64": base64.b64encode(cms_der).decode()}


def stored(*, report_id: str, client_id: str) -> tuple[bytes, bytes] | None:
    """(canonical JSON, CMS DER) of the client's report, or None (unknown, or another client's)."""
    row = report_models.find_report(report_id=report_id, client_id=client_id)
    return (row.report.encode("utf-8"), bytes(row.cms_der)) if row else None


def prune(now: datetime | None = None) -> int:
    """Remove the reports older than VERIFY_REPORT_RETENTION_DAYS; the number removed."""
    days = current_app.config.get("VERIFY_REPORT_RETENTION_DAYS", 3650)
    with unit_of_work():
        return report_models.delete_reports_before((now or utcnow()) - timedelta(days=days))
