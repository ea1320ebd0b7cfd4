"""Agent schemas (经办人): requests and answers of /enterprises/{id}/agents, /me/enterprise-grants,
/enterprise-grants/{id}/accept|decline and /enterprises/{id}/sessions."""
from __future__ import annotations

import marshmallow as ma

from app.fields import Phone
from app.security.acting_for import ActingForSchema
from orgs.agents import MAX_DAYS, SCOPES


class CreateAgentSchema(ma.Schema):
    phone = Phone(required=True, validate=ma.validate.Length(max=32),
                  metadata={"description": "经办人的手机号码（须已注册并完成实名认证）"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"description": "经办人的真实姓名，须与其实名信息一致；手机号与姓名不符时统一答复 "
                                                     "422 agent_not_found"})
    # The enum is documented, not validated here: another scope keeps its own error, 422 agent_scope_invalid.
    scopes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=64), metadata={"enum": list(SCOPES)}),
                            required=True, validate=ma.validate.Length(min=1, max=len(SCOPES) + 2),
                            metadata={"description": "可授权：" + ", ".join(SCOPES)
                                                     + "（licences:present 含 licences:view）"})
    expires_at = ma.fields.AwareDateTime(required=True,
                                         metadata={"description": f"授权截止时间（RFC 3339，最长 {MAX_DAYS} 天）"})


class EnterpriseRefSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String(allow_none=True)


class AgentRefSchema(ma.Schema):
    id = ma.fields.String()
    name_masked = ma.fields.String(allow_none=True)


class AgentGrantSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "active", "declined", "revoked", "expired"],
                                        "description": "pending：待经办人接受（尚未生效）；active：已生效；declined：已拒绝；"
                                                       "revoked：已撤销；expired：已过期"})
    scopes = ma.fields.List(ma.fields.String())
    scope_labels = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    accepted_at = ma.fields.DateTime(allow_none=True)
    declined_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    enterprise = ma.fields.Nested(EnterpriseRefSchema)
    agent = ma.fields.Nested(AgentRefSchema)


class AgentGrantListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AgentGrantSchema))


class EnterpriseSessionSchema(ma.Schema):
    access_token = ma.fields.String(metadata={"description": "企业令牌：sub 为企业 ID，act.sub 为经办人（或法定代表人），"
                                                             "无刷新令牌，最长 15 分钟且不超过授权截止时间"})
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    scope = ma.fields.String()
    acting_for = ma.fields.Nested(ActingForSchema)
