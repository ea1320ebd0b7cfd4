"""Request and response shapes of the identity endpoints."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.fields import IdNumber, Phone, StrictBoolean
from app.i18n import N_
from identity.stepup import PURPOSES


class PhoneSchema(ma.Schema):
    phone = Phone(required=True, validate=validate.Length(max=20))


class SmsCodeSentSchema(ma.Schema):
    expires_in = ma.fields.Integer()
    resend_after = ma.fields.Integer()


class SmsLoginSchema(PhoneSchema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"), metadata={"example": "123456"})


class UserSchema(ma.Schema):
    id = ma.fields.String()
    phone_masked = ma.fields.String(allow_none=True, metadata={"example": "138****8000"})
    name_masked = ma.fields.String(allow_none=True, metadata={"example": "张*"})
    id_number_masked = ma.fields.String(allow_none=True, metadata={"example": "3401**********1234"})
    assurance_level = ma.fields.String(metadata={"example": "L2"})
    real_name_verified = ma.fields.Boolean()
    real_name_verified_at = ma.fields.DateTime(allow_none=True)
    liveness_verified_at = ma.fields.DateTime(allow_none=True)
    phone_bound = ma.fields.Boolean()
    ncid_linked = ma.fields.Boolean(metadata={"description": "已关联网号（可用网号登录）"})
    real_name_source = ma.fields.String(allow_none=True, metadata={
        "enum": ["registry", "ncid", None], "description": "身份如何确立：registry 人口库核验，ncid 网号；null 未实名"})
    created_at = ma.fields.DateTime()


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer()


class CitizenTokensSchema(TokenPairSchema):
    user = ma.fields.Nested(UserSchema)
    phone_bound = ma.fields.Boolean()


class StaffSchema(ma.Schema):
    id = ma.fields.String()
    username = ma.fields.String()
    role = ma.fields.String(metadata={"example": "clerk"})
    hall_code = ma.fields.String(allow_none=True)


class StaffTokensSchema(TokenPairSchema):
    staff = ma.fields.Nested(StaffSchema)


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class WeChatLoginSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))


class BindPhoneSchema(ma.Schema):
    """Either `wechat_code` (the getPhoneNumber button's code) or `phone` + `code` (SMS)."""

    wechat_code = ma.fields.String(validate=validate.Length(min=1, max=128))
    phone = Phone(validate=validate.Length(max=20))
    code = ma.fields.String(validate=validate.Regexp(r"^\d{6}$"))

    @ma.validates_schema
    def _one_proof(self, data, **kwargs):
        if not data.get("wechat_code") and not (data.get("phone") and data.get("code")):
            raise ma.ValidationError(N_("需要 wechat_code，或 phone 与 code。"), "_schema")


class RefreshedTokensSchema(TokenPairSchema):
    """A rotated pair, with the profile of whoever holds it (citizen `user` or `staff`)."""

    user = ma.fields.Nested(UserSchema)
    staff = ma.fields.Nested(StaffSchema)


class StaffLoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class ClientTokenRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # RFC 6749 §3.2: the token endpoint ignores parameters it does not know

    # The enum is documented, not validated here: RFC 6749 §5.2 wants 400 unsupported_grant_type.
    grant_type = ma.fields.String(required=True, validate=validate.Length(max=64),
                                  metadata={"enum": ["client_credentials"]})
    client_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    client_secret = ma.fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    scope = ma.fields.String(validate=validate.Length(max=512))


class ClientTokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    scope = ma.fields.String()


class RealNameSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "张三"})
    id_number = IdNumber(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"example": "34010219900307123X"})


class LivenessStartSchema(ma.Schema):
    session_id = ma.fields.String()
    biz_token = ma.fields.String()
    expires_in = ma.fields.Integer()


class SmsOutboxItemSchema(ma.Schema):
    phone = ma.fields.String()
    code = ma.fields.String()
    sent_at = ma.fields.String()


class SmsOutboxSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SmsOutboxItemSchema))


class SmsOutboxQuerySchema(ma.Schema):
    phone = ma.fields.String(validate=validate.Length(max=20))


class LivenessCompleteSchema(ma.Schema):
    passed = StrictBoolean(required=True)


class StepUpRequestSchema(ma.Schema):
    purpose = ma.fields.String(required=True, validate=validate.OneOf(PURPOSES),
                               metadata={"example": "signing", "description": "signing：吊销证书、开通签名；proxy_grant：授权代办"})


class StepUpSentSchema(SmsCodeSentSchema):
    phone_masked = ma.fields.String(metadata={"example": "138****8000"})
