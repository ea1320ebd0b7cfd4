"""The four conditions of article 13 of the Electronic Signature Law (电子签名法第十三条) in the report.

A reliable electronic signature needs: (1) the creation data belongs exclusively to the signer; (2)
it is under the signer's sole control when signing; (3) any change to the signature after signing
can be detected; (4) any change to the content and form after signing can be detected. Each is
answered `met`, `not_met` or `not_established` (this platform cannot tell), with the evidence it
rests on: the certificate, the enrolment and authorisation records of the audit trail (their id,
time and place in the keyed SM3 hash chain — `seq` and `chain_hash`, null until sealed; `flask audit
verify` re-checks the chain), the SM2 verification and the digest check.

Only a signature this platform made (found by the SM3 of its signature value) has enrolment and
authorisation records: for any other, (1) and (2) are `not_established`.
"""
from __future__ import annotations

import json
from typing import Any

from flask import current_app

from app.clock import rfc3339
from app.i18n import N_, translate
from signing import report_models
from signing.report_findings import Findings

MET, NOT_MET, NOT_ESTABLISHED = "met", "not_met", "not_established"

CONDITIONS = (
    N_("电子签名制作数据用于电子签名时，属于电子签名人专有。"),
    N_("签署时电子签名制作数据仅由电子签名人控制。"),
    N_("签署后对电子签名的任何改动能够被发现。"),
    N_("签署后对数据电文内容和形式的任何改动能够被发现。"),
)


def _event(row: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    """An audit row as evidence: where it sits in the hash chain, not what personal data it names."""
    return {"kind": "audit_event", "action": row["action"], "audit_id": row["id"], "at": rfc3339(row["at"]),
            "outcome": row["outcome"], "chain_seq": row["seq"], "chain_hash": row["chain_hash"],
            "text": translate(text), **extra}


def _details(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(row["details"] or "{}")
    except ValueError:
        return {}


def _certificate(found: Findings) -> dict[str, Any]:
    cert = found.certificate
    if cert.chain_ok:
        text = N_("平台 CA 签发的证书（序列号 {serial}）把验证签名所用的公钥绑定到签名人。", serial=cert.serial)
    else:
        text = N_("证书（序列号 {serial}）不是平台 CA 签发的：公钥与签名人的绑定无法确认。", serial=cert.serial)
    return {"kind": "certificate", "serial": cert.serial, "chain_ok": cert.chain_ok, "text": translate(text)}


def _exclusive(found: Findings, events: dict[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    evidence = [_certificate(found)]
    record = found.platform_record
    part = found.certificate_part
    if found.certificate.chain_ok and found.signature_ok and part.get("revocation_reason") == "keyCompromise" \
            and part.get("status") == "revoked":
        if found.poe_time is not None and found.status_at_poe == "revoked":
            evidence.append({"kind": "revocation", "reason": "keyCompromise", "text": translate(
                N_("签名时证书已因密钥泄露（keyCompromise）被吊销：制作数据不再专属于签名人。"))})
            return {"verdict": NOT_MET, "evidence": evidence}
        if found.poe_time is None:  # compromised at some time, and nothing proves the signature came before
            evidence.append({"kind": "revocation", "reason": "keyCompromise", "text": translate(
                N_("证书已因密钥泄露（keyCompromise）被吊销，且没有时间戳证明签名早于吊销：专有性无法确认。"))})
            return {"verdict": NOT_ESTABLISHED, "evidence": evidence}
    if record is None or not found.certificate.chain_ok or not found.signature_ok:
        evidence.append({"kind": "platform_record", "found": record is not None, "text": translate(
            N_("这不是本平台可查到开通记录的签名：密钥的生成与保管无从证明。"))})
        return {"verdict": NOT_ESTABLISHED, "evidence": evidence}
    enrolments = events[("signing.enrol", record.credential_id)]
    key_id = _details(enrolments[0]).get("key") if enrolments else None
    keys = report_models.audit_events_of([("key.generate", key_id), ("key.import", key_id)]) if key_id else {}
    generated, imported = keys.get(("key.generate", key_id), []), keys.get(("key.import", key_id), [])
    for row in enrolments[:1]:
        evidence.append(_event(row, N_("开通记录：为该签名凭证在平台密钥库中生成密钥并签发证书。"),
                               credential_id=record.credential_id))
    for row in generated[:1]:
        evidence.append(_event(row, N_("密钥库生成记录：私钥在密钥库内生成、加密保存，密钥库不提供导出私钥的操作，"
                                       "该密钥也没有导入记录。")))
    met = bool(enrolments and generated and not imported)
    return {"verdict": MET if met else NOT_ESTABLISHED, "evidence": evidence}


def _sole_control(found: Findings, events: dict[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    record = found.platform_record
    if record is None:
        return {"verdict": NOT_ESTABLISHED, "evidence": [{"kind": "platform_record", "found": False, "text": translate(
            N_("该签名不是在本平台授权生成的：签署时的控制情况无从证明。"))}]}
    signs = [r for r in events[("signing.sign", record.id)] if r["outcome"] == "success"]
    if not signs:
        return {"verdict": NOT_ESTABLISHED, "evidence": [{"kind": "platform_record", "found": True, "text": translate(
            N_("平台有该签名的记录，但审计链中没有找到授权记录。"))}]}
    cfg = current_app.config  # signatures made before the audit row recorded its factors: today's settings, said so
    factors = _details(signs[0]).get("factors") or {
        "sms": bool(cfg["SIGNING_REQUIRE_SMS"]), "liveness": bool(cfg["SIGNING_REQUIRE_LIVENESS"]), "source": "settings"}
    text = N_("授权记录：签名人在 {at} 输入签名密码并通过核验后，平台才用其密钥签名，且每个签署请求只能授权一次。",
              at=rfc3339(signs[0]["at"]))
    return {"verdict": MET, "evidence": [_event(signs[0], text, pin_verified=True, second_factors=factors,
                                                signature_id=record.id)]}


def _signature_intact(found: Findings) -> dict[str, Any]:
    over = "signed_attributes" if found.signed_over == "signed_attributes" else "e"
    evidence = {"kind": "signature_check", "algorithm": "SM2-with-SM3", "signed_over": over,
                "valid": found.signature_ok}
    if found.signature_ok is None:
        evidence["text"] = translate(N_("没有可信的公钥（证书链未建立或格式错误），签名值无法核验。"))
        return {"verdict": NOT_MET if not found.format_ok else NOT_ESTABLISHED, "evidence": [evidence]}
    if found.signature_ok:
        evidence["text"] = translate(N_("SM2 签名值用证书公钥核验通过：签名值的任何改动都会使核验失败。"))
        return {"verdict": MET, "evidence": [evidence]}
    evidence["text"] = translate(N_("SM2 签名值用证书公钥核验不通过：签名已被改动或不是该证书所签。"))
    return {"verdict": NOT_MET, "evidence": [evidence]}


def _content_intact(found: Findings) -> dict[str, Any]:
    digest = found.digest
    evidence = {"kind": "digest_check", "algorithm": "SM3", "source": digest.get("source"),
                "message_digest": digest.get("message_digest"), "content_sm3": digest.get("content_sm3"),
                "match": digest.get("match")}
    if digest.get("match") is True:
        evidence["text"] = translate(N_("内容的 SM3 摘要与签名所覆盖的摘要一致：内容的任何改动都会被发现。"))
        return {"verdict": MET, "evidence": [evidence]}
    if digest.get("match") is False:
        evidence["text"] = translate(N_("内容的 SM3 摘要与签名所覆盖的摘要不一致：内容在签署后被改动过。"))
        return {"verdict": NOT_MET, "evidence": [evidence]}
    evidence["text"] = translate(N_("没有提交原文或其摘要（或签名无法核验），内容是否被改动无法判断。"))
    return {"verdict": NOT_ESTABLISHED, "evidence": [evidence]}


def conditions(found: Findings) -> list[dict[str, Any]]:
    """The four conditions in order, each {number, condition, verdict, evidence: [...]}, in the answer's language."""
    record = found.platform_record  # its enrolment and authorisation rows: one query for both conditions
    events = (report_models.audit_events_of([("signing.enrol", record.credential_id), ("signing.sign", record.id)])
              if record is not None else {})
    answers = (_exclusive(found, events), _sole_control(found, events), _signature_intact(found),
               _content_intact(found))
    return [{"number": n, "condition": translate(text), **answer}
            for n, (text, answer) in enumerate(zip(CONDITIONS, answers), start=1)]
