"""Schemas of the issuer registry's admin API: every constraint the server checks.

The USCC's pattern states its alphabet and length; its two check characters, the registration
authority and category and the region (GB/T 2260 province 11–82, or 100000) are checked by the
service (422 `uscc_invalid`, naming each defect) and stated in the field's description.
"""
from __future__ import annotations

import marshmallow as ma

from app.fields import UpdateSchema
from app.i18n import N_
from issuers.models import STATUSES
from wallet import service as wallet

TYPE_CODES = tuple(t.code for t in wallet.localized_types())  # the wallet's catalogue (zh outside a request)
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
REGION_PATTERN = r"^[0-9]{6}$"
NAME_MAX = 128
USCC_DESCRIPTION = (
    "统一社会信用代码（GB 32100-2015，18 位，字母表 0-9 与除 I、O、S、V、Z 外的大写字母）：第 1 位登记管理部门、第 2 位机构类别"
    "（GB 32100 表 1）；第 3–8 位行政区划代码（省级 11–82，或 100000 中央；安徽 34 须为其地市）；第 9–17 位组织机构代码"
    "（GB 11714 校验位：权重 3 7 9 10 5 8 4 2，11−Σmod11，10→X、11→0）；第 18 位 MOD 31 校验位。不符：422 uscc_invalid。")
REGION_DESCRIPTION = "行政区划代码（GB/T 2260，6 位数字）：省级 11–82 或 100000（中央）；安徽（34）须为其 16 个地市之一。不符：422 region_invalid。"
TYPES_DESCRIPTION = "可签发的证照类型代码（GET /api/v1/licence-types），至少一个、不重复。"


def _types_field(required: bool) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(TYPE_CODES)), required=required,
                          validate=ma.validate.Length(min=1, max=len(TYPE_CODES)),
                          metadata={"description": TYPES_DESCRIPTION, "uniqueItems": True,
                                    "example": ["driving_licence"]})


class _UniqueTypes:
    @ma.validates("types")
    def _unique(self, value, **kwargs) -> None:
        if value is not None and len(set(value)) != len(value):
            raise ma.ValidationError(N_("证照类型不能重复。"))


class IssuerCreateSchema(_UniqueTypes, ma.Schema):
    uscc = ma.fields.String(required=True, validate=ma.validate.Regexp(USCC_PATTERN),
                            metadata={"description": USCC_DESCRIPTION, "example": "11340100MB0000019P"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=NAME_MAX),
                            metadata={"example": "合肥市公安局交通警察支队"})
    region = ma.fields.String(required=True, validate=ma.validate.Regexp(REGION_PATTERN),
                              metadata={"description": REGION_DESCRIPTION, "example": "340100"})
    types = _types_field(required=True)


class IssuerUpdateSchema(_UniqueTypes, UpdateSchema):
    """At least one field; `uscc` only for a department carried over without one (409 uscc_fixed otherwise)."""

    uscc = ma.fields.String(validate=ma.validate.Regexp(USCC_PATTERN), metadata={"description": USCC_DESCRIPTION})
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=NAME_MAX))
    region = ma.fields.String(validate=ma.validate.Regexp(REGION_PATTERN), metadata={"description": REGION_DESCRIPTION})
    types = _types_field(required=False)


class IssuerListArgsSchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES), load_default=None,
                              metadata={"description": "只列出该状态的发证机关"})


class IssuerSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "iss_01JF…"})
    uscc = ma.fields.String(allow_none=True, metadata={
        "description": "统一社会信用代码；迁移自旧发证方、尚未登记时为 null（此时 status 为 suspended）"})
    legacy_code = ma.fields.String(allow_none=True, metadata={
        "description": "迁移前由客户端派生的发证方代码（其证照标识保持不变）；新登记的为 null"})
    name = ma.fields.String()
    region = ma.fields.String(allow_none=True)
    types = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"description": "active 发证中 | suspended 暂停发证（403 issuer_suspended）"})
    clients = ma.fields.List(ma.fields.String(), metadata={"description": "代表该机关发证的机器客户端"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class IssuerListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(IssuerSchema))
