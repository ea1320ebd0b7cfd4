"""Request and response shapes of the catalogue of matters (用证事项): as the counter and verifiers read
it, and as its administrators manage it (`matters:admin`)."""
from __future__ import annotations

import marshmallow as ma

from app.fields import QueryBoolean, StrictBoolean, UpdateSchema
from wallet.catalogue import all_types
from wallet.matters import BASIS_MAX, CODE_PATTERN, HOW, NAME_MAX
from wallet.schemas import MatterRefSchema


class MatterFieldSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "id_number"})
    label = ma.fields.String(metadata={"example": "公民身份号码"})
    how = ma.fields.String(metadata={"description": "full 完整显示；masked 按目录打码；tail4 仅显示后 4 位",
                                     "enum": list(HOW)})


class MatterLicenceTypeSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "resident_id_card"})
    name = ma.fields.String(metadata={"example": "居民身份证"})
    fields = ma.fields.List(ma.fields.Nested(MatterFieldSchema), metadata={"description": "该事项对此类证照出示的字段"})


class MatterSchema(MatterRefSchema):
    """A 用证事项 of the catalogue: the licence types it accepts and the fields it discloses of each."""

    code = ma.fields.String(metadata={"example": "hotel_check_in", "pattern": CODE_PATTERN})
    licence_types = ma.fields.List(ma.fields.Nested(MatterLicenceTypeSchema), metadata={"description": "可核验的证照类型"})


class MatterListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MatterSchema))


# --- The catalogue of matters, managed (用证事项目录, `matters:admin`) ---------------------------------

class MatterFieldInSchema(ma.Schema):
    key = ma.fields.String(required=True, validate=ma.validate.Length(1, 64), metadata={"example": "id_number"})
    how = ma.fields.String(required=True, validate=ma.validate.OneOf(HOW), metadata={
        "description": "full 完整显示；masked 按证照目录打码；tail4 仅显示后 4 位"})


class MatterLicenceTypeInSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64), metadata={
        "example": "resident_id_card", "enum": [t.code for t in all_types()],
        "description": "证照类型 code（见 /licence-types；不在目录中时 422 matter_invalid）"})
    fields = ma.fields.List(ma.fields.Nested(MatterFieldInSchema), required=True, validate=ma.validate.Length(1, 32),
                            metadata={"description": "该事项对此类证照出示的字段及方式（字段须在该证照类型中，不得重复）"})


def _name(limit: int, required: bool, example: str) -> ma.fields.String:
    return ma.fields.String(required=required, validate=ma.validate.Length(1, limit), metadata={"example": example})


class MatterCreateSchema(ma.Schema):
    """A new matter (用证事项) for the catalogue."""

    code = ma.fields.String(required=True, validate=ma.validate.Regexp(CODE_PATTERN), metadata={
        "example": "pension_collection", "description": "事项代码：小写字母开头，2–32 位小写字母、数字或下划线；不可更改"})
    name_zh = _name(NAME_MAX, True, "养老金领取资格认证")
    name_en = _name(2 * NAME_MAX, True, "Pension entitlement check")
    legal_basis_zh = _name(BASIS_MAX, True, "《中华人民共和国社会保险法》第十六条")
    legal_basis_en = _name(BASIS_MAX, True, "Social Insurance Law of the PRC, art. 16")
    licence_types = ma.fields.List(ma.fields.Nested(MatterLicenceTypeInSchema), required=True,
                                   validate=ma.validate.Length(1, 16), metadata={"description": "可核验的证照类型（不得重复）"})


class MatterUpdateSchema(UpdateSchema):
    """A change to a matter: only what is given changes (at least one member)."""

    version = ma.fields.Integer(validate=ma.validate.Range(1), metadata={
        "description": "读到的版本号（可选）：已被他人修改时返回 409 matter_changed"})
    name_zh = _name(NAME_MAX, False, "旅馆住宿登记")
    name_en = _name(2 * NAME_MAX, False, "Hotel check-in")
    legal_basis_zh = _name(BASIS_MAX, False, "《旅馆业治安管理办法》第六条")
    legal_basis_en = _name(BASIS_MAX, False, "Hotel Industry Measures, art. 6")
    licence_types = ma.fields.List(ma.fields.Nested(MatterLicenceTypeInSchema), validate=ma.validate.Length(1, 16))
    active = StrictBoolean(metadata={"description": "false 停用（柜台和第三方不能再按此事项核验）；true 重新启用"})


class MatterAdminSchema(MatterSchema):
    """A matter as its administrators see it: both languages, active or not, its version."""

    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    legal_basis_zh = ma.fields.String()
    legal_basis_en = ma.fields.String()
    active = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "每次修改加 1"})


class MatterAdminListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MatterAdminSchema))


class MatterAdminArgsSchema(ma.Schema):
    active_only = QueryBoolean(load_default=False, metadata={"description": "只列出启用的事项"})
