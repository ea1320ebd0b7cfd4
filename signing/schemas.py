"""Request and response shapes of the signing and verification endpoints."""
from __future__ import annotations

import marshmallow as ma

from app.fields import SigningPin
from app.i18n import N_
from app.openapi import ProblemSchema
from signing.enrolment import CITIZEN_REVOCATION_REASONS

_HEX64 = ma.validate.Regexp(r"^[0-9a-fA-F]{64}$", error=N_("须为 64 位十六进制。"))
_PIN = SigningPin(required=True, metadata={"example": "802417"})
E_HEX_DOC = ("预先计算的 e = SM3(Z‖M)（十六进制）。Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA) 依赖签名人公钥与默认 ID "
             "1234567812345678，所以不能签 SM3(M)：SM2 签名的对象是 e，而不是文件摘要本身。"
             "大文件请用证书中的公钥在本地计算 e 后提交。")


DOCUMENT_SM3_DOC = ("可选，仅与 e_hex 一起：文件的 SM3（十六进制）。提交后，签署时除 e 上的 SM2 签名外，还生成以此为 "
                    "messageDigest 的 CMS SignedData（GM/T 0010）和可信时间戳；平台看不到文件，无法核对它与 e "
                    "是否出自同一文件，由发起方（本人的 App）负责，签名人授权时确认。不提交则只有 SM2 签名，"
                    "cms_b64 为 null。")


def _one_of_document_or_e(data: dict, **_kw) -> None:
    if (data.get("document_b64") is None) == (data.get("e_hex") is None):
        raise ma.ValidationError(N_("document_b64 与 e_hex 须且仅须提供其一。"), field_name="_schema")


_SMS_CODE_DOC = "短信验证码：先调用 POST /api/v1/me/step-up/sms-codes {\"purpose\": \"signing\"} 发送到绑定手机"
_LIVENESS_DOC = ("人脸核验会话：POST /api/v1/me/liveness 发起、在 SDK 中完成（可已调用 confirm），10 分钟内提交；"
                 "一次会话只能用于一次操作")
_SMS_CODE = ma.validate.Regexp(r"^\d{6}$", error=N_("短信验证码须为 6 位数字。"))
_SESSION_ID = ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error=N_("人脸核验会话编号格式不正确。"))


class EnrolSchema(ma.Schema):
    """Enrolment needs more than the login (issue 14 item 1): the SMS step-up code, and after an
    earlier credential (re-enrolment) a fresh liveness session."""

    pin = _PIN
    sms_code = ma.fields.String(required=True, validate=_SMS_CODE,
                                metadata={"example": "123456", "description": _SMS_CODE_DOC})
    liveness_session_id = ma.fields.String(load_default=None, allow_none=False, validate=_SESSION_ID, metadata={
        "example": "lv_3zq7x2kd5m4n6p8r2t4v6x8z", "description": f"重新开通（曾吊销证书）时必填。{_LIVENESS_DOC}"})


class CertificateSubjectSchema(ma.Schema):
    name_masked = ma.fields.String(metadata={"example": "张*"})
    id_number_masked = ma.fields.String(metadata={"example": "3401**********1232"})


class CertificateSchema(ma.Schema):
    """The citizen's signing certificate (签名证书)."""

    serial = ma.fields.String(metadata={"description": "证书序列号（小写十六进制）"})
    certificate_pem = ma.fields.String()
    status = ma.fields.String(metadata={"description": "good | revoked"})
    not_after = ma.fields.DateTime()
    enrolled_at = ma.fields.DateTime()
    locked_until = ma.fields.DateTime(allow_none=True, metadata={
        "description": "签名密码错误过多时锁定至此时间（未锁定为 null）；可用 POST /signing/pin/reset 立即解除"})
    subject = ma.fields.Nested(CertificateSubjectSchema)


class RevokeSchema(ma.Schema):
    """Proof beyond the login (issue 14 item 1): the current signing `pin`, or — PIN forgotten —
    `sms_code` (step-up, purpose signing) together with a fresh `liveness_session_id`."""

    required_alternatives = (("pin",), ("sms_code", "liveness_session_id"))  # OpenAPI anyOf (app/openapi.py)
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(CITIZEN_REVOCATION_REASONS),
                              metadata={"example": "keyCompromise", "description": "RFC 5280 原因；丢失手机选 keyCompromise"})
    pin = SigningPin(load_default=None, allow_none=False,
                     metadata={"example": "802417", "description": "当前签名密码（错误计入锁定次数）"})
    sms_code = ma.fields.String(load_default=None, allow_none=False, validate=_SMS_CODE,
                                metadata={"description": f"忘记签名密码时与 liveness_session_id 一起提交。{_SMS_CODE_DOC}"})
    liveness_session_id = ma.fields.String(load_default=None, allow_none=False, validate=_SESSION_ID,
                                           metadata={"description": f"忘记签名密码时与 sms_code 一起提交。{_LIVENESS_DOC}"})

    @ma.validates_schema
    def _one_proof(self, data, **kw):
        if data.get("pin") is None and (data.get("sms_code") is None or data.get("liveness_session_id") is None):
            raise ma.ValidationError(N_("须提供 pin，或 sms_code 与 liveness_session_id。"), field_name="_schema")


class RevokedSchema(ma.Schema):
    serial = ma.fields.String()
    status = ma.fields.String()
    revoked_at = ma.fields.DateTime()
    reason = ma.fields.String()


class PinChangeSchema(ma.Schema):
    """Change the signing PIN: the current one proves it is the citizen (a bearer token alone is not enough)."""

    old_pin = SigningPin(required=True, metadata={
        "example": "802417", "description": "当前签名密码（错误计入锁定次数，锁定期间拒绝：请改用 /signing/pin/reset）"})
    new_pin = SigningPin(required=True, metadata={"example": "730915", "description": (
        "新的 6 位签名密码：须与当前密码不同（否则 422 pin_unchanged）；不能是重复或连续的数字、常见的简单密码、"
        "出生日期或证件号码后六位（否则 422 pin_weak）")})


class PinResetSchema(ma.Schema):
    """Reset a forgotten signing PIN: an SMS step-up code and a fresh liveness check (L3), then the new PIN."""

    sms_code = ma.fields.String(required=True, validate=_SMS_CODE,
                                metadata={"example": "123456", "description": _SMS_CODE_DOC})
    liveness_session_id = ma.fields.String(required=True, validate=_SESSION_ID, metadata={
        "example": "lv_3zq7x2kd5m4n6p8r2t4v6x8z", "description": _LIVENESS_DOC})
    new_pin = SigningPin(required=True, metadata={"example": "730915"})


class PinChangedSchema(ma.Schema):
    """The PIN was replaced; the key and the certificate are the same."""

    serial = ma.fields.String(metadata={"description": "签名证书序列号（不变）"})
    pin_changed_at = ma.fields.DateTime()
    via = ma.fields.String(metadata={"description": "change（凭原密码修改）| reset（短信验证码 + 人脸核验重设，解除锁定）"})


class SigningLockedProblemSchema(ProblemSchema):
    """423 signing_locked: until when, and the way out now."""

    locked_until = ma.fields.DateTime(metadata={"description": "锁定结束时间；届时可再试（亦见 Retry-After）"})
    reset_url = ma.fields.String(metadata={
        "example": "/api/v1/signing/pin/reset",
        "description": "忘记签名密码：凭短信验证码与新的人脸核验重设签名密码，锁定期间可用，重设后立即解除锁定"})


class CertificateStatusSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "good | revoked | unknown"})
    revoked_at = ma.fields.DateTime(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    not_after = ma.fields.DateTime(allow_none=True)


class CreateRequestSchema(ma.Schema):
    """A document to sign (Base64, at most SIGNING_MAX_DOCUMENT_BYTES) or its precomputed e."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 128), metadata={"example": "房屋租赁合同"})
    document_b64 = ma.fields.String(load_default=None, metadata={"description": "文件内容（Base64）"})
    e_hex = ma.fields.String(load_default=None, validate=_HEX64, metadata={"description": E_HEX_DOC})
    document_sm3 = ma.fields.String(load_default=None, validate=_HEX64, metadata={"description": DOCUMENT_SM3_DOC})

    @ma.validates_schema
    def _exactly_one(self, data, **kw):
        _one_of_document_or_e(data)
        if data.get("document_sm3") is not None and data.get("e_hex") is None:
            raise ma.ValidationError(N_("document_sm3 只能与 e_hex 一起提交（提交文件时由平台计算）。"),
                                     field_name="_schema")


class RequesterSchema(ma.Schema):
    """Who asked for the signature (发起方)."""

    kind = ma.fields.String(metadata={"description": "citizen（本人在自己的 App 中发起）| client（接入机构）",
                                      "example": "client"})
    name = ma.fields.String(metadata={"description": "client：机构登记的名称（发起时）；citizen：“本人”（按 Accept-Language）",
                                      "example": "合肥市住房公积金管理中心"})


class SigningRequestSchema(ma.Schema):
    """What will be signed — 待签署内容."""

    id = ma.fields.String()
    title = ma.fields.String()
    e_hex = ma.fields.String(metadata={"description": "将被签名的 e = SM3(Z‖M)"})
    document_sm3 = ma.fields.String(allow_none=True, metadata={"description": "文件的 SM3（提交文件时）"})
    document_size = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"description": "pending | signed | refused | expired（待签署而已过 expires_at）"})
    batch_id = ma.fields.String(allow_none=True)
    requested_by = ma.fields.Nested(RequesterSchema)
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    signed_at = ma.fields.DateTime(allow_none=True)
    refused_at = ma.fields.DateTime(allow_none=True)
    refusal_reason = ma.fields.String(allow_none=True, metadata={"description": "拒绝签署时本人填写的原因（未填为 null）"})


# A line of free text: no control characters (C0, DEL, C1); NUL is refused for every string by app/input_guard.py.
_NO_CONTROLS = ma.validate.Regexp(r"^[^\u0000-\u001f\u007f-\u009f]*$", error=N_("不能包含换行符等控制字符。"))


class RefuseSchema(ma.Schema):
    """The body of a refusal, optional: `{}` or no body at all refuses without a reason."""

    reason = ma.fields.String(load_default=None, allow_none=True,
                              validate=[ma.validate.Length(max=200), _NO_CONTROLS],
                              metadata={"example": "金额与约定不符",
                                        "description": "拒绝原因（可选）：至多 200 个字符、单行，首尾空白去掉；只有本人可见，"
                                                       "不写入日志"})


REQUEST_STATES = ("pending", "signed", "refused", "expired")


class RequestListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(REQUEST_STATES), metadata={
        "description": "pending（待签署且未过期）| signed | refused | expired（待签署而已过期）；不填为全部"})


class SigningRequestListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SigningRequestSchema))
    next_cursor = ma.fields.String(allow_none=True)


class CreateBatchSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CreateRequestSchema), required=True,
                           validate=ma.validate.Length(min=1),
                           metadata={"description": "至多 SIGNING_BATCH_MAX 份（CSC numSignatures）"})


class BatchSchema(ma.Schema):
    """A batch and its documents, in the order they were listed: one authorisation signs them all."""

    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending | signed | expired（整批一同签署）"})
    requested_by = ma.fields.Nested(RequesterSchema)
    items = ma.fields.List(ma.fields.Nested(SigningRequestSchema))
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()


class AuthorizeSchema(ma.Schema):
    """The citizen's consent: PIN, plus an SMS code when SIGNING_REQUIRE_SMS is set."""

    pin = _PIN
    sms_code = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$"))
    liveness_session_id = ma.fields.String(load_default=None, allow_none=False, validate=_SESSION_ID, metadata={
        "description": "可选（旧客户端）：一次已通过的人脸核验会话（POST /me/liveness），提交即用掉并记为一次 L3 核验。"
                       "新客户端先按 403 的 step_up_url 完成核验再重试。"})


class SignatureTimestampSchema(ma.Schema):
    """The platform TSA's RFC 3161 token on the SignedData (proof the signature existed then)."""

    gen_time = ma.fields.DateTime(metadata={"description": "时间戳令牌的 genTime"})
    tsa_serial = ma.fields.String(metadata={"description": "时间戳服务（TSA）证书序列号（小写十六进制）"})


class SignedForSchema(ma.Schema):
    """The enterprise a signature was made for (issue 19): signed by its agent with the agent's certificate."""

    kind = ma.fields.String(metadata={"enum": ["enterprise"]})
    id = ma.fields.String(metadata={"description": "企业 ID（en_…）"})
    name = ma.fields.String(allow_none=True, metadata={"description": "企业全称"})


class SignatureSchema(ma.Schema):
    signature_id = ma.fields.String()
    request_id = ma.fields.String()
    title = ma.fields.String()
    e_hex = ma.fields.String()
    document_sm3 = ma.fields.String(allow_none=True)
    signature_b64 = ma.fields.String(metadata={"description": "DER SEQUENCE {r, s}（Base64）"})
    certificate_serial = ma.fields.String()
    certificate_pem = ma.fields.String()
    signed_at = ma.fields.DateTime()
    cms_b64 = ma.fields.String(allow_none=True, metadata={
        "description": "分离式 CMS SignedData（GM/T 0010，DER，Base64）：签名属性含 contentType、messageDigest = "
                       "SM3(文件)、signingTime、signingCertificateV2，非签名属性含时间戳令牌"
                       "（id-aa-signatureTimeStampToken）；文件摘要未知（仅提交 e_hex）时为 null"})
    timestamp = ma.fields.Nested(SignatureTimestampSchema, allow_none=True,
                                 metadata={"description": "签名值的可信时间戳；无 CMS 时为 null"})
    cms_attached_available = ma.fields.Boolean(metadata={
        "description": "可否取得含原文的 CMS（POST .../cms）：仅提交文件签署时为 true（GmSSL 3.1 的签名覆盖原文，"
                       "须在签署时对原文签名）"})
    acting_for = ma.fields.Nested(SignedForSchema, allow_none=True, metadata={
        "description": "代表企业签署时所代表的企业（经办人以本人证书签名）；本人签署为 null"})


class AttachDocumentSchema(ma.Schema):
    """The signed document, to be put into the SignedData as eContent (attached form)."""

    document_b64 = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", error=N_("不是有效的 Base64 编码。")),
        metadata={"description": "签名时的文件（Base64，至多 SIGNING_MAX_DOCUMENT_BYTES）：其 SM3 须等于签名属性中的 "
                                 "messageDigest，否则 422 document_mismatch"})


class BatchSignaturesSchema(ma.Schema):
    batch_id = ma.fields.String()
    signatures = ma.fields.List(ma.fields.Nested(SignatureSchema))


class ListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None)


class SignatureListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SignatureSchema))
    next_cursor = ma.fields.String(allow_none=True)


class SmsSentSchema(ma.Schema):
    expires_in = ma.fields.Integer()
