"""Proxy schemas (授权代理): requests and answers of /proxies."""
from __future__ import annotations

import marshmallow as ma

from app.fields import Phone
from proxies.service import SCOPES


class CreateProxySchema(ma.Schema):
    phone = Phone(required=True, validate=ma.validate.Length(max=32),
                  metadata={"description": "亲友的手机号码（须已注册并完成实名认证）"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"description": "亲友的真实姓名，须与其实名信息一致"})
    # The enum is documented, not validated here: another scope keeps its own error, 422 proxy_scope_invalid.
    scopes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=64), metadata={"enum": list(SCOPES)}),
                            required=True,
                            validate=ma.validate.Length(min=1, max=len(SCOPES) + 2),
                            metadata={"description": "可授权：" + ", ".join(SCOPES) + "；签名等其他事项不可授权"})
    expires_at = ma.fields.AwareDateTime(required=True,
                                         metadata={"description": "授权截止时间（RFC 3339，最长 365 天）"})
    # The step-up (issue 14 item 2): one of the two is needed; none, or a wrong one, is refused.
    sms_code = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$"),
                                metadata={"example": "123456",
                                          "description": "二次核验（与 pin 二选一）：发送到本人绑定手机的短信验证码，先调用 "
                                                         "POST /api/v1/me/step-up/sms-codes {\"purpose\": \"proxy_grant\"}"})
    pin = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$"),
                           metadata={"description": "二次核验（与 sms_code 二选一）：本人的电子签名密码；"
                                                    "输错计入签名密码锁定次数"})


class ProxyListArgsSchema(ma.Schema):
    role = ma.fields.String(load_default="principal", validate=ma.validate.OneOf(["principal", "proxy"]),
                            metadata={"description": "principal：我授权给别人的；proxy：别人授权给我的"})
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))


class ActivityArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))


class PartySchema(ma.Schema):
    id = ma.fields.String()
    name_masked = ma.fields.String(allow_none=True)


class ProxyPartySchema(PartySchema):
    phone_masked = ma.fields.String(allow_none=True)


class ProxyGrantSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "active", "declined", "revoked", "expired"],
                                        "description": "pending：待亲友接受（尚未生效）；active：已生效；declined：亲友已拒绝；"
                                                       "revoked：已撤销；expired：已过期"})
    scopes = ma.fields.List(ma.fields.String())
    scope_labels = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)
    revoked_by = ma.fields.String(allow_none=True, metadata={
        "enum": ["principal", "proxy", "session", None],
        "description": "principal：授权人撤销；proxy：代办人放弃；session：授权人撤销了创建该授权的登录会话"})
    accepted_at = ma.fields.DateTime(allow_none=True, metadata={"description": "亲友接受、授权生效的时间"})
    declined_at = ma.fields.DateTime(allow_none=True)
    principal = ma.fields.Nested(PartySchema, metadata={"description": "授权人（本人）"})
    proxy = ma.fields.Nested(ProxyPartySchema, metadata={"description": "代办人（亲友）"})


class ProxyGrantListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProxyGrantSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ProxySessionSchema(ma.Schema):
    access_token = ma.fields.String(metadata={"description": "代办令牌：sub 为授权人，act.sub 为代办人"})
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    scope = ma.fields.String()
    grant_id = ma.fields.String()
    principal = ma.fields.Nested(PartySchema)


class ProxyActionSchema(ma.Schema):
    id = ma.fields.String()
    at = ma.fields.DateTime()
    method = ma.fields.String()
    route = ma.fields.String()
    scope = ma.fields.String(allow_none=True)
    status = ma.fields.Integer(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    principal = ma.fields.Nested(PartySchema)
    proxy = ma.fields.Nested(PartySchema)


class ProxyActionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProxyActionSchema))
    next_cursor = ma.fields.String(allow_none=True)
