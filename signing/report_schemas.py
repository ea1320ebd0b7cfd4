"""Shapes of the verification API (issue 18): the request (raw SM2 or CMS SignedData) and the signed report."""
from __future__ import annotations

import marshmallow as ma

from app.i18n import N_

_HEX64 = ma.validate.Regexp(r"^[0-9a-fA-F]{64}$", error=N_("须为 64 位十六进制。"))
_TIME = {"format": "date-time"}
E_HEX_DOC = ("预先计算的 e = SM3(Z‖M)（十六进制，仅原始签名形式）。Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA) 依赖签名人公钥与默认 "
             "ID 1234567812345678，所以不是 SM3(M)。")
FORMS_DOC = (
    "两种形式，须且仅须其一（oneOf）：\n\n"
    "1. 原始 SM2 签名：`signature_b64` + `certificate_pem` + `document_b64` 或 `e_hex`（其一）；\n"
    "2. CMS SignedData（GM/T 0010，SM2/SM3）：`cms_b64`，附带原文时单独提交即可；分离式再加 `document_b64` 或"
    "（大文件）`document_sm3_hex`（其一，都不给时为 INDETERMINATE / SIGNED_DATA_NOT_FOUND）。签名人证书取自 "
    "SignedData（`certificate_pem` 可省略，给出时须为同一证书），签名时间戳（id-aa-signatureTimeStampToken）"
    "用作存在性证明。\n\n混用两种形式的字段为 400 verification_input_invalid。\n\n"
    "存在性证明（ETSI EN 319 102-1）：证书已吊销而时间戳早于吊销时间 → TOTAL_PASSED；时间戳不早于吊销时间 → "
    "TOTAL_FAILED / REVOKED；没有可用的时间戳（缺失、被篡改、TSA 证书已吊销或过期）→ INDETERMINATE / "
    "REVOKED_NO_POE；证书现已过期而时间戳在其有效期内 → TOTAL_PASSED。\n\n"
    "报告由平台签名：报告的规范 JSON（UTF-8、键排序、无空格：`json.dumps(report, sort_keys=True, "
    "separators=(\",\", \":\"), ensure_ascii=False)`）是一个附带原文的 GM/T 0010 SignedData 的内容"
    "（`report_cms_b64`，平台 report 密钥签名，证书链到平台 CA）。离线核验：把它写成 PEM（标签 CMS）后 "
    "`gmssl cmsverify -in report.cms.pem -out report.json`。报告按 `report_id` 保存，"
    "`GET /api/v1/verify/reports/{report_id}`（JSON）与 `.pdf` 可再取（仅限同一客户端）。")


class VerifyRequestSchema(ma.Schema):
    """A signature to verify, in one of two forms (FORMS_DOC: the operation's description)."""

    required_alternatives = (("signature_b64", "certificate_pem"), ("cms_b64",))  # OpenAPI anyOf (app/openapi.py)

    document_b64 = ma.fields.String(load_default=None, metadata={"description": "原文（Base64）"})
    e_hex = ma.fields.String(load_default=None, validate=_HEX64, metadata={"description": E_HEX_DOC})
    signature_b64 = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 1024), metadata={
        "description": "原始形式：DER SEQUENCE {r, s}（Base64）"})
    certificate_pem = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 16384), metadata={
        "description": "原始形式必填；CMS 形式可省略（给出时须为 SignedData 中的签名人证书）"})
    cms_b64 = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 16 * 1024 * 1024), metadata={
        "description": "CMS 形式：DER ContentInfo（SignedData，GM/T 0010 或 RFC 5652 的 OID），Base64"})
    document_sm3_hex = ma.fields.String(load_default=None, validate=_HEX64, metadata={
        "description": "CMS 分离式：原文的 SM3（十六进制，大文件在本地计算），应等于 messageDigest"})

    @ma.validates_schema
    def _one_form(self, data, **kw):
        def given(*names):
            return [n for n in names if data.get(n) is not None]

        if data.get("cms_b64") is not None:
            if given("signature_b64", "e_hex"):
                raise ma.ValidationError(N_("cms_b64 不能与 signature_b64、e_hex 同时提交。"), field_name="_schema")
            if len(given("document_b64", "document_sm3_hex")) > 1:
                raise ma.ValidationError(N_("document_b64 与 document_sm3_hex 至多提供其一。"), field_name="_schema")
            return
        if not given("signature_b64") or not given("certificate_pem"):
            raise ma.ValidationError(N_("须提供 cms_b64，或 signature_b64 与 certificate_pem。"), field_name="_schema")
        if given("document_sm3_hex") or len(given("document_b64", "e_hex")) != 1:
            raise ma.ValidationError(N_("document_b64 与 e_hex 须且仅须提供其一。"), field_name="_schema")


class ReportSignerSchema(ma.Schema):
    name_masked = ma.fields.String(allow_none=True)
    id_number_masked = ma.fields.String(allow_none=True)


class ReportCertificateSchema(ma.Schema):
    serial = ma.fields.String()
    status = ma.fields.String(metadata={"description": "good | revoked | expired | not_yet_valid | unknown（现在）"})
    issuer = ma.fields.String()
    not_before = ma.fields.String(metadata=_TIME)
    not_after = ma.fields.String(metadata=_TIME)
    revoked_at = ma.fields.String(allow_none=True, metadata=_TIME)
    revocation_reason = ma.fields.String(allow_none=True)


class ChainEntrySchema(ma.Schema):
    role = ma.fields.String(metadata={"description": "signer | ca"})
    subject = ma.fields.String(metadata={"description": "签名人的 CN 已脱敏"})
    serial = ma.fields.String()
    not_before = ma.fields.String(metadata=_TIME)
    not_after = ma.fields.String(metadata=_TIME)
    sm3_fingerprint = ma.fields.String(metadata={"description": "证书 DER 的 SM3（十六进制）"})


class RevocationSchema(ma.Schema):
    status_now = ma.fields.String()
    revoked_at = ma.fields.String(allow_none=True, metadata=_TIME)
    reason = ma.fields.String(allow_none=True)
    poe_time = ma.fields.String(allow_none=True, metadata={**_TIME, "description": "存在性证明时间（时间戳 genTime）"})
    poe_source = ma.fields.String(metadata={"description": "timestamp | none（无时则按核验时间判断）"})
    status_at_poe = ma.fields.String(metadata={"description": "good | revoked | unknown：存在性证明时间的吊销状态"})
    checked_at = ma.fields.String(metadata=_TIME)
    source = ma.fields.String()
    note = ma.fields.String(allow_none=True, metadata={"description": "如“签名在证书吊销之前已加盖时间戳”"})


class TimestampPartSchema(ma.Schema):
    present = ma.fields.Boolean()
    valid = ma.fields.Boolean()
    reason = ma.fields.String(allow_none=True, metadata={
        "description": "format | signature_invalid | imprint_mismatch | untrusted_tsa | not_tsa_certificate | "
                       "tsa_certificate_revoked | tsa_certificate_expired"})
    gen_time = ma.fields.String(allow_none=True, metadata=_TIME)
    serial = ma.fields.String(allow_none=True)
    policy = ma.fields.String(allow_none=True)
    hash_algorithm = ma.fields.String(allow_none=True)
    imprint_of = ma.fields.String()
    tsa_serial = ma.fields.String(allow_none=True)
    tsa_status = ma.fields.String(allow_none=True, metadata={"description": "good | revoked | expired | unknown"})
    tsa_revoked_at = ma.fields.String(allow_none=True, metadata=_TIME)
    used_as_poe = ma.fields.Boolean()
    count = ma.fields.Integer()


class ConditionSchema(ma.Schema):
    number = ma.fields.Integer(metadata={"description": "电子签名法第十三条第 1–4 项"})
    condition = ma.fields.String(metadata={"description": "条件原文（按 Accept-Language）"})
    verdict = ma.fields.String(metadata={"description": "met | not_met | not_established"})
    evidence = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "证据：kind = certificate | audit_event（审计链 audit_id、chain_seq、chain_hash）| "
                       "platform_record | revocation | signature_check | digest_check，text 为说明"})


class RecheckSchema(ma.Schema):
    step = ma.fields.String()
    command = ma.fields.String()


class ValidationReportSchema(ma.Schema):
    """EU DSS-style validation report, signed by the platform (canonical JSON in an attached GM/T 0010
    SignedData: `report_cms_b64`), kept for the client that asked (`report_id`)."""

    report_id = ma.fields.String()
    version = ma.fields.Integer()
    language = ma.fields.String(metadata={"description": "zh-CN | en（Accept-Language）"})
    indication = ma.fields.String(metadata={"description": "TOTAL_PASSED | TOTAL_FAILED | INDETERMINATE"})
    sub_indication = ma.fields.String(allow_none=True, metadata={
        "description": "HASH_FAILURE | SIG_CRYPTO_FAILURE | REVOKED | REVOKED_NO_POE | NO_CERTIFICATE_CHAIN_FOUND | "
                       "NO_SIGNING_CERTIFICATE_FOUND | OUT_OF_BOUNDS_NO_POE | FORMAT_FAILURE | SIGNED_DATA_NOT_FOUND"})
    valid = ma.fields.Boolean()
    format = ma.fields.String(metadata={"description": "CMS GM/T 0010 | raw SM2"})
    signer = ma.fields.Nested(ReportSignerSchema)
    certificate = ma.fields.Nested(ReportCertificateSchema)
    certificate_chain = ma.fields.List(ma.fields.Nested(ChainEntrySchema))
    revocation = ma.fields.Nested(RevocationSchema)
    poe_time = ma.fields.String(allow_none=True, metadata=_TIME)
    signature_check = ma.fields.Dict()
    digest = ma.fields.Dict(metadata={"description": "algorithm, source, message_digest, content_sm3, match"})
    timestamp = ma.fields.Nested(TimestampPartSchema, allow_none=True)
    cms = ma.fields.Dict(allow_none=True, metadata={"description": "profile, content_type, detached, signing_time"})
    sm2 = ma.fields.Dict(metadata={"description": "distinguishing_id 1234567812345678, digest_contract"})
    article_13 = ma.fields.List(ma.fields.Nested(ConditionSchema))
    platform_signature = ma.fields.Boolean(metadata={"description": "本平台授权生成的签名"})
    recheck = ma.fields.List(ma.fields.Nested(RecheckSchema))
    checked_at = ma.fields.String(metadata=_TIME)
    report_signature = ma.fields.Dict()
    report_cms_b64 = ma.fields.String(metadata={"description": "本报告的 SignedData（DER，Base64）：内容即报告的规范 JSON"})
