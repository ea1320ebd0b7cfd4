"""Request and answer shapes of the assurance endpoints (/me/assurance, /me/step-up…, the counter's
identity check). Levels are "L0".."L4" on the wire."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from identity.assurance import IDENTITY_CODE_TTL, METHOD_MAX_LEVEL
from identity.stepup import LEVEL_PURPOSES

_LEVEL = validate.OneOf(["L1", "L2", "L3", "L4"])
_PURPOSE_DOC = "操作名称，见配置 ASSURANCE_POLICY：" + "、".join(LEVEL_PURPOSES)


class AssuranceEventSchema(ma.Schema):
    level = ma.fields.String(metadata={"example": "L3"})
    method = ma.fields.String(metadata={"enum": sorted(METHOD_MAX_LEVEL), "example": "face"})
    at = ma.fields.DateTime()


class AssuranceSchema(ma.Schema):
    level = ma.fields.String(metadata={"example": "L2", "description": "常驻等级：曾达到的最高等级（不衰减）"})
    source = ma.fields.String(allow_none=True, metadata={
        "enum": ["registry", "ncid", None], "description": "身份如何确立：registry 人口库，ncid 网号；null 未实名（至多 L1）"})
    events = ma.fields.List(ma.fields.Nested(AssuranceEventSchema), metadata={"description": "最近 20 次核验，新的在前"})


class StepUpQuerySchema(ma.Schema):
    required_level = ma.fields.String(required=True, validate=_LEVEL, metadata={"example": "L3"})
    max_age = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=86400),
                                metadata={"example": 600, "description": "须在多少秒内完成核验"})
    purpose = ma.fields.String(load_default=None, validate=validate.OneOf(LEVEL_PURPOSES),
                               metadata={"example": "signing", "description": _PURPOSE_DOC})


class StepUpStartSchema(ma.Schema):
    method = ma.fields.String(metadata={"example": "POST"})
    url = ma.fields.String(metadata={"example": "/api/v1/me/liveness"})


class StepUpMethodSchema(ma.Schema):
    method = ma.fields.String(metadata={"enum": ["face", "ncid", "sms"]})
    level = ma.fields.String(metadata={"example": "L3", "description": "完成后得到的（新鲜）等级"})
    start = ma.fields.Nested(StepUpStartSchema)


class StepUpOptionsSchema(ma.Schema):
    required_level = ma.fields.String(metadata={"example": "L3"})
    max_age = ma.fields.Integer(allow_none=True, metadata={"example": 600})
    purpose = ma.fields.String(allow_none=True, metadata={"example": "signing"})
    methods = ma.fields.List(ma.fields.Nested(StepUpMethodSchema), metadata={
        "description": "可用的核验方式（可能为空：例如未实名的账号要先实名认证）；完成后原样重试原请求"})


class LevelSmsSchema(ma.Schema):
    purpose = ma.fields.String(required=True, validate=validate.OneOf(LEVEL_PURPOSES),
                               metadata={"example": "agent_revoke", "description": _PURPOSE_DOC})


class LevelSmsVerifySchema(LevelSmsSchema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"), metadata={"example": "123456"})


class LevelSmsSentSchema(ma.Schema):
    expires_in = ma.fields.Integer()
    resend_after = ma.fields.Integer()
    phone_masked = ma.fields.String(metadata={"example": "138****8000"})


class SteppedUpSchema(ma.Schema):
    level = ma.fields.String(metadata={"example": "L2"})
    method = ma.fields.String(metadata={"example": "sms"})
    purpose = ma.fields.String()


class IdentityCodeSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "40275513", "description": "8 位一次性核验码，出示给窗口工作人员"})
    expires_in = ma.fields.Integer(metadata={"example": IDENTITY_CODE_TTL})


class IdentityCheckSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^\d{8}$"), metadata={"example": "40275513"})


class CheckedPersonSchema(ma.Schema):
    id = ma.fields.String()
    name_masked = ma.fields.String(allow_none=True, metadata={"example": "张*"})
    id_number_masked = ma.fields.String(allow_none=True, metadata={"example": "3401**********1234"})


class IdentityCheckedSchema(ma.Schema):
    user = ma.fields.Nested(CheckedPersonSchema)
    level = ma.fields.String(metadata={"example": "L4"})
    at = ma.fields.DateTime()
