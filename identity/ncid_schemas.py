"""Request and response shapes of the 网号 routes (identity/ncid_routes.py)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from identity.ncid_consent import PURPOSES as CONSENT_PURPOSES
from identity.schemas import CitizenTokensSchema

AUTH_MODES = ("R01", "R02", "R03", "R04")
_MODE_TEXT = "R01 网证；R02 网证+口令；R03 网证+人脸；R04 网证+口令+人脸"


class NcidLoginSessionRequestSchema(ma.Schema):
    purpose = ma.fields.String(required=True, validate=validate.OneOf(("login",)), metadata={"example": "login"})


class NcidSessionRequestSchema(ma.Schema):
    purpose = ma.fields.String(required=True, validate=validate.OneOf(("link", "step_up", "consent")),
                               metadata={"example": "link",
                                         "description": "link：关联网号；step_up：网证核验提升等级；consent：同意提供身份信息"})


class NcidSessionSchema(ma.Schema):
    biz_seq = ma.fields.String(metadata={"description": "本次认证的业务流水号（UUID，300 秒内有效，只能使用一次）"})
    org_id = ma.fields.String(metadata={"description": "wx.ncidas 的 orgID"})
    business_id = ma.fields.String(metadata={"description": "wx.ncidas 的 businessID"})
    type = ma.fields.Integer(metadata={"description": "wx.ncidas 的 type：0 网证，1 网证+口令"})
    expires_in = ma.fields.Integer(metadata={"example": 300})


class NcidProofSchema(ma.Schema):
    """What the national app returned for the session `biz_seq` (opaque to the client)."""

    biz_seq = ma.fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))
    id_card_auth_data = ma.fields.String(required=True, validate=validate.Length(min=1, max=8192),
                                         metadata={"description": "网络身份认证数据（不透明）"})
    cert_pwd_data = ma.fields.String(validate=validate.Length(max=8192), allow_none=True,
                                     metadata={"description": "网证口令数据（口令模式，不透明）"})
    auth_mode = ma.fields.String(required=True, validate=validate.OneOf(AUTH_MODES),
                                 metadata={"example": "R02", "description": _MODE_TEXT})


class NcidTokensSchema(CitizenTokensSchema):
    account_created = ma.fields.Boolean(metadata={"description": "本次登录新建了账号（不含手机号、姓名和身份证号码）"})


class NcidStepUpSchema(ma.Schema):
    level = ma.fields.String(metadata={"example": "L3"})
    method = ma.fields.String(metadata={"example": "ncid:R02"})
    at = ma.fields.DateTime()


class IdentityConsentRequestSchema(NcidProofSchema):
    purpose = ma.fields.String(required=True, validate=validate.OneOf(tuple(CONSENT_PURPOSES)), metadata={
        "example": "licence_matching",
        "description": "licence_matching：只保存身份证号码的不可逆索引（证照、办件归户）；signing：另加密保存姓名和号码"
                       "（签名证书主体）；enterprise_registration：索引与姓名（法定代表人核验）"})


class IdentityConsentSchema(ma.Schema):
    purpose = ma.fields.String(metadata={"example": "licence_matching"})
    granted_at = ma.fields.DateTime()
