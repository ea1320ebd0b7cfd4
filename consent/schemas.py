"""Consent schemas (用证授权): the verifier's request object and the answers of both parties."""
from __future__ import annotations

import marshmallow as ma

from app.fields import Phone
from app.i18n import N_

_TOKEN = ma.validate.Regexp(r"^[A-Za-z0-9._~-]+$", error=N_("只能包含字母、数字和 . _ ~ -。"))
_KEY = ma.validate.Regexp(r"^[a-z][a-z0-9_]*$", error=N_("只能包含小写字母、数字和下划线。"))


class ConsentCitizenSchema(ma.Schema):
    phone = Phone(required=True, validate=ma.validate.Length(max=32), metadata={
        "description": "公民在本机构办理业务时提供的手机号码。平台据此通知其本人；该号码无人实名使用时同样返回 201，"
                       "请求到期作废（接口不能用来探测谁注册了一网）。不接受身份证号查询。"})


class ConsentMetaSchema(ma.Schema):
    type_values = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(min=1, max=64), _KEY]),
                                 validate=ma.validate.Length(min=1, max=10),
                                 metadata={"description": "接受的证照类型编码（GET /api/v1/licence-types），须在事项接受的类型之内；"
                                                          "缺省为事项接受的全部类型"})


class ConsentClaimSchema(ma.Schema):
    id = ma.fields.String(validate=[ma.validate.Length(min=1, max=64), _TOKEN])
    path = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(min=1, max=64), _KEY]), required=True,
                          validate=ma.validate.Length(equal=1),
                          metadata={"description": "字段键，一级路径，如 [\"vehicle_class\"]"})


class ConsentCredentialQuerySchema(ma.Schema):
    id = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), _TOKEN])
    format = ma.fields.String(load_default="yiwang-licence", validate=ma.validate.OneOf(["yiwang-licence"]))
    meta = ma.fields.Nested(ConsentMetaSchema)
    claims = ma.fields.List(ma.fields.Nested(ConsentClaimSchema), validate=ma.validate.Length(min=1, max=40),
                            metadata={"description": "要求的字段，须在事项披露的字段之内（否则 422 consent_query_invalid）；"
                                                     "缺省为事项的全部字段"})


class ConsentDcqlQuerySchema(ma.Schema):
    credentials = ma.fields.List(ma.fields.Nested(ConsentCredentialQuerySchema), required=True,
                                 validate=ma.validate.Length(equal=1),
                                 metadata={"description": "一网一次只请求一张证照（DCQL 允许多张）"})


class ConsentCreateRequestSchema(ma.Schema):
    citizen = ma.fields.Nested(ConsentCitizenSchema, required=True)
    matter = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), _KEY], metadata={
        "description": "用证事项编码（GET /api/v1/counter/matters）；未知或停用 422 consent_matter_unknown（列出可选事项）"})
    dcql_query = ma.fields.Nested(ConsentDcqlQuerySchema, required=True, metadata={
        "description": "DCQL 风格的查询（OpenID4VP 1.0 §6），只能收窄事项的证照类型与字段",
        "example": {"credentials": [{"id": "dl", "format": "yiwang-licence",
                                     "meta": {"type_values": ["driving_licence"]},
                                     "claims": [{"path": ["vehicle_class"]}, {"path": ["valid_until"]}]}]}})
    nonce = ma.fields.String(required=True, validate=[ma.validate.Length(min=16, max=128), _TOKEN], metadata={
        "description": "验证方生成的随机数（≥ 16 字符），原样写入签名披露，防重放"})
    state = ma.fields.String(load_default=None, validate=[ma.validate.Length(min=1, max=128), _TOKEN], metadata={
        "description": "验证方的会话标识，原样写入签名披露并随 direct_post 回传"})
    response_mode = ma.fields.String(required=True, validate=ma.validate.OneOf(["direct_post", "poll"]), metadata={
        "description": "direct_post：平台将结果以表单 POST 到 response_uri（并可轮询）；poll：只轮询 "
                       "GET /api/v1/verifier/requests/{id}（一网的扩展）"})
    response_uri = ma.fields.String(load_default=None, validate=ma.validate.Length(min=8, max=512), metadata={
        "format": "uri", "example": "https://verifier.example.com/yiwang/response",
        "description": "direct_post 时必填，须为 https（否则 422 consent_response_uri_invalid）；不跟随重定向"})
    expires_in = ma.fields.Integer(load_default=None, validate=ma.validate.Range(60, 900), metadata={
        "description": "有效期（秒），缺省 CONSENT_REQUEST_TTL（300）"})


class ConsentVerifierRequestSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "approved", "refused", "expired"]})
    matter = ma.fields.String()
    nonce = ma.fields.String()
    state = ma.fields.String(allow_none=True)
    response_mode = ma.fields.String()
    response_uri = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    answered_at = ma.fields.DateTime(allow_none=True)
    vp_token = ma.fields.String(allow_none=True, metadata={
        "description": "同意后的签名披露（紧凑形式，见本接口说明）；其他状态为 null"})
    error = ma.fields.String(allow_none=True, metadata={
        "enum": ["access_denied", "expired_request", None],
        "description": "access_denied：公民拒绝；expired_request：公民未在有效期内处理"})
    delivery = ma.fields.String(metadata={
        "enum": ["none", "pending", "delivered", "failed"],
        "description": "direct_post 回传状态：none（轮询方式）、pending（待重试）、delivered、failed"})


class ConsentNamedSchema(ma.Schema):
    name = ma.fields.String()


class ConsentCitizenMatterSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    legal_basis = ma.fields.String(allow_none=True, metadata={"description": "事项的法律依据"})


class ConsentCodeNameSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class ConsentFieldSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()


class ConsentCitizenRequestSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "approved", "refused", "expired"]})
    verifier = ma.fields.Nested(ConsentNamedSchema, metadata={"description": "请求方（在平台登记的名称）"})
    matter = ma.fields.Nested(ConsentCitizenMatterSchema)
    licence_types = ma.fields.List(ma.fields.Nested(ConsentCodeNameSchema))
    fields = ma.fields.List(ma.fields.Nested(ConsentFieldSchema), metadata={"description": "请求的字段（名称，不含值）"})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    answered_at = ma.fields.DateTime(allow_none=True)
    licence_id = ma.fields.String(allow_none=True)
    disclosed_fields = ma.fields.List(ma.fields.String(), allow_none=True)
    step_up = ma.fields.String(allow_none=True, metadata={"enum": ["sms", "pin", None]})


class ConsentCitizenRequestListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ConsentCitizenRequestSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ConsentListArgsSchema(ma.Schema):
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf(["pending", "approved", "refused", "expired"]))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))


class ConsentApproveSchema(ma.Schema):
    licence_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32),
                                  metadata={"description": "出示哪一张证照（须为请求的证照类型）"})
    sms_code = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$"), metadata={
        "example": "123456", "description": "二次核验（与 pin 二选一）：POST /api/v1/consent/requests/{id}/step-up-code "
                                            "发送到本人绑定手机的验证码，只对这一个请求有效"})
    pin = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$"), metadata={
        "description": "二次核验（与 sms_code 二选一）：本人的电子签名密码，输错计入锁定次数"})


class ConsentStepUpCodeSchema(ma.Schema):
    expires_in = ma.fields.Integer()
    resend_after = ma.fields.Integer()
    phone_masked = ma.fields.String()
