"""The holder's shapes in the wallet endpoints (a person or, issue 19, an enterprise), split out of
wallet/schemas.py."""
from __future__ import annotations

import marshmallow as ma

from app.fields import IdNumber
from app.i18n import N_

HOLDER_KINDS = ("person", "enterprise")  # wallet/issuance.py PERSON, ENTERPRISE
_USCC_DOC = ("企业持证人的统一社会信用代码（GB 32100：18 位，第 9–17 位为组织机构代码并满足 GB 11714 校验，"
             "登记管理部门码、机构类别码与行政区划码有效，第 18 位 MOD 31 校验位）。不符：422 uscc_invalid")


class HolderSchema(ma.Schema):
    """The holder: a person {name, id_number}, or an enterprise {kind: "enterprise", uscc, name} (issue 19)."""

    kind = ma.fields.String(load_default="person", validate=ma.validate.OneOf(HOLDER_KINDS), metadata={
        "description": "person 个人（按身份证号归入其卡包）；enterprise 企业（按统一社会信用代码归入企业，企业未注册时暂存，"
                       "法定代表人注册该企业后自动归入；仅可用于带统一社会信用代码字段的证照类型，如营业执照）"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200), metadata={
        "example": "张三", "description": "个人姓名（≤ 64 字符）或企业名称（≤ 200 字符）"})
    id_number = IdNumber(validate=ma.validate.Length(1, 32), metadata={
        "example": "340102199003071232", "description": "个人持证人必填；企业持证人不得提供"})
    uscc = ma.fields.String(validate=ma.validate.Length(1, 32), metadata={
        "example": "91340100MA2N0X4G5T", "description": _USCC_DOC + "。企业持证人必填；个人持证人不得提供"})

    @ma.validates_schema
    def _one_holder(self, data, **kwargs):
        if data.get("kind", "person") == "enterprise":
            if data.get("uscc") is None:
                raise ma.ValidationError(N_("企业持证人须提供统一社会信用代码。"), "uscc")
            if data.get("id_number") is not None:
                raise ma.ValidationError(N_("企业持证人不能提供身份证号码。"), "id_number")
            return
        if data.get("id_number") is None:
            raise ma.ValidationError(N_("个人持证人须提供身份证号码。"), "id_number")
        if data.get("uscc") is not None:
            raise ma.ValidationError(N_("个人持证人不能提供统一社会信用代码。"), "uscc")
        if len(data.get("name") or "") > 64:
            raise ma.ValidationError(N_("个人姓名不能超过 64 个字符。"), "name")


class MaskedHolderSchema(ma.Schema):
    """The holder: a person masked; an enterprise (kind "enterprise") by its name and USCC in full."""

    kind = ma.fields.String(metadata={"description": "仅企业持证人有：enterprise（issue 19）"})
    name = ma.fields.String(metadata={"description": "企业持证人：企业名称"})
    name_masked = ma.fields.String(metadata={"description": "个人：打码的姓名；企业：企业名称（公开登记信息，不打码）"})
    id_number_masked = ma.fields.String(metadata={"description": "个人持证人的打码身份证号码"})
    uscc = ma.fields.String(metadata={"description": "企业持证人的统一社会信用代码"})


class VerifiedHolderSchema(MaskedHolderSchema):
    """The holder, shown once on the counter card: the licence fields repeating the holder's name or
    ID number are merged here (shown in full only when the holder chose to disclose them). An
    enterprise's card: {kind: "enterprise", name, uscc} (public register data, in full)."""

    name = ma.fields.String(metadata={"description": "持证人选择完整出示姓名时才有；企业持证人：企业名称"})
    id_number = ma.fields.String(metadata={"description": "持证人选择完整出示证件号时才有"})


class ShownBySchema(ma.Schema):
    name_masked = ma.fields.String(allow_none=True, metadata={"example": "张*", "description": "出示人（经办人或法定代表人）的打码姓名"})


class CounterHolderSchema(ma.Schema):
    name_masked = ma.fields.String(allow_none=True)
