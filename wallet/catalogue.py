"""Licence catalogue — 电子证照目录: the licence types the wallet can hold, their fields,
validation of a licence's data, masking and minimal disclosure at a counter (亮证).

The catalogue lives in code (immutable dataclasses): it changes with releases, not at run time.
Type codes follow the shape of GB/T 36904 identifiers: the issuing ministry's unified social
credit code (18 chars, GB 32100 check valid) followed by a 3-digit catalogue number. The codes are
illustrative, not the real national catalogue's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from typing import Mapping

from app import i18n
from app.i18n import N_, Series
from app.idnumber import IdNumberError, normalize_id_number
from app.security.pii import mask_id_number, mask_name, mask_phone
from app.uscc import uscc_valid

FIELD_TYPES = ("string", "date", "date_or_permanent", "id_number", "credit_code", "enum", "decimal")
MASKS = ("name", "id_number", "phone", "address", "tail4", "year", "none")
PERMANENT = "长期"
MAX_STRING = 500

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ADDRESS_MARKERS = ("省", "市", "区", "县", "州", "盟", "旗")
_DECIMAL = re.compile(r"\d{1,12}(\.\d{1,4})?")


# Facts of a licence that a field of its data may state again (`Field.same_as`): the holder's name
# and ID number (issuance checks them against the holder), the licence's status (derived from the
# licence at read time, never served from the stored data) and its validity dates (checked against
# the top-level ones at issuance). The counter card shows each fact once.
SAME_AS = ("holder.name", "holder.id_number", "licence.status", "licence.valid_from", "licence.valid_until")


@dataclass(frozen=True)
class Field:
    """One field of a licence type. `holder` marks the field identifying the holder; `same_as`
    names the licence fact (SAME_AS) the field repeats, if any."""

    key: str
    label: str
    type: str = "string"
    required: bool = True
    sensitive: bool = False
    mask: str = "none"
    enum: tuple[str, ...] = ()
    holder: bool = False
    same_as: str | None = None


@dataclass(frozen=True)
class LicenceType:
    """A catalogue entry — 证照类型."""

    code: str
    name: str
    type_code: str
    fields: tuple[Field, ...]
    counter_fields: tuple[str, ...]

    def field(self, key: str) -> Field:
        """The field named `key`; KeyError when there is none."""
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def holder_field(self) -> str:
        """Key of the field holding the holder's ID number."""
        return next(f.key for f in self.fields if f.holder)

    def fields_same_as(self, fact: str) -> tuple[Field, ...]:
        """The fields repeating this licence fact (SAME_AS)."""
        return tuple(f for f in self.fields if f.same_as == fact)


class LicenceDataError(ValueError):
    """A licence's data was refused; `errors` maps field key → Chinese reasons."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("证照数据不符合目录要求。")
        self.errors = errors


def credit_code_valid(code: str) -> bool:
    """GB 32100-2015 unified social credit code: the full check of app/uscc.py (alphabet, MOD 31,
    the GB 11714 inner check, a known GB/T 2260 region) — one rule for licences and enterprises."""
    return uscc_valid(code)


# --- The seeded catalogue ----------------------------------------------------------------------

_STATUS = ("有效", "暂扣", "撤销", "注销", "失效", "办理转出", "吊销", "其他")
_VEHICLE_CLASSES = ("A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P")


def _name(key: str = "name", label: str = N_("姓名"), *, holder: bool = True) -> Field:
    return Field(key, label, sensitive=True, mask="name", same_as="holder.name" if holder else None)


def _id_number(key: str = "id_number", label: str = N_("公民身份号码"), *, holder: bool = True) -> Field:
    return Field(key, label, "id_number", sensitive=True, mask="id_number", holder=holder,
                 same_as="holder.id_number" if holder else None)


def _date(key: str, label: str, *, required: bool = True, same_as: str | None = None) -> Field:
    return Field(key, label, "date", required=required, same_as=same_as)


def _valid_from(label: str) -> Field:
    return _date("valid_from", label, same_as="licence.valid_from")


def _valid_until(label: str, key: str = "valid_until") -> Field:
    return Field(key, label, "date_or_permanent", same_as="licence.valid_until")


# Not required: the server writes the licence's status in at issuance and on every status change.
_STATUS_FIELD = Field("status", N_("状态"), "enum", required=False, enum=_STATUS, same_as="licence.status")


_TYPES: tuple[LicenceType, ...] = (
    LicenceType("resident_id_card", N_("居民身份证"), "11100000000012345D001", (
        _name(), Field("sex", N_("性别"), "enum", enum=("男", "女")), Field("ethnicity", N_("民族")),
        Field("birth_date", N_("出生日期"), "date", sensitive=True, mask="year"),
        Field("address", N_("住址"), sensitive=True, mask="address"), _id_number(),
        Field("issuing_authority", N_("签发机关")), _valid_from(N_("有效期限起")), _valid_until(N_("有效期限止")),
    ), ("name", "id_number", "valid_until")),
    LicenceType("driving_licence", N_("机动车驾驶证"), "11100000000012345D002", (
        _name(), _id_number("id_number", N_("证号")), Field("sex", N_("性别"), "enum", enum=("男", "女")),
        Field("nationality", N_("国籍")), Field("address", N_("住址"), sensitive=True, mask="address"),
        Field("birth_date", N_("出生日期"), "date", sensitive=True, mask="year"),
        _date("first_issued_on", N_("初次领证日期")),
        Field("vehicle_class", N_("准驾车型"), "enum", enum=_VEHICLE_CLASSES),
        _valid_from(N_("有效期起")), _valid_until(N_("有效期止")), _STATUS_FIELD, Field("issuing_authority", N_("发证机关")),
    ), ("name", "vehicle_class", "valid_until", "status")),
    LicenceType("business_licence", N_("营业执照"), "111000000000234566001", (
        Field("credit_code", N_("统一社会信用代码"), "credit_code"), Field("name", N_("名称")), Field("entity_type", N_("类型")),
        _name("legal_representative", N_("法定代表人")),
        _id_number("legal_representative_id_number", N_("法定代表人身份证号码")),
        Field("registered_capital", N_("注册资本"), required=False), _date("established_on", N_("成立日期")),
        _valid_until(N_("营业期限至"), "business_term_until"), Field("domicile", N_("住所")),
        Field("business_scope", N_("经营范围"), required=False), Field("registration_authority", N_("登记机关")),
    ), ("credit_code", "name", "legal_representative", "business_term_until")),
    LicenceType("marriage_certificate", N_("结婚证"), "11100000000034567Y001", (
        Field("certificate_number", N_("结婚证字号"), sensitive=True, mask="tail4"),
        _name("holder_name", N_("持证人")), _id_number("holder_id_number", N_("持证人身份证件号")),
        _name("spouse_name", N_("配偶姓名"), holder=False), _id_number("spouse_id_number", N_("配偶身份证件号"), holder=False),
        _date("registered_on", N_("登记日期")), Field("registration_authority", N_("登记机关")),
    ), ("holder_name", "spouse_name", "registered_on")),
    LicenceType("real_estate_certificate", N_("不动产权证书"), "11100000000045678P001", (
        Field("certificate_number", N_("不动产权证号")), _name("obligee", N_("权利人")),
        _id_number("obligee_id_number", N_("权利人证件号")),
        Field("co_ownership", N_("共有情况"), "enum", enum=("单独所有", "共同共有", "按份共有")),
        Field("location", N_("坐落"), sensitive=True, mask="address"),
        Field("unit_number", N_("不动产单元号"), sensitive=True, mask="tail4"), Field("right_type", N_("权利类型")),
        Field("usage", N_("用途")), Field("area", N_("面积（平方米）"), "decimal"), _date("registered_on", N_("登记日期")),
    ), ("certificate_number", "obligee", "location", "right_type")),
    LicenceType("social_security_card", N_("社会保障卡"), "11100000000056789G001", (
        _name(), _id_number("social_security_number", N_("社会保障号码")),
        Field("card_number", N_("卡号"), sensitive=True, mask="tail4"), _date("issued_on", N_("发卡日期")),
        Field("issuing_region", N_("发卡地")), Field("phone", N_("预留手机号"), required=False, sensitive=True, mask="phone"),
    ), ("name", "social_security_number", "issuing_region")),
    LicenceType("household_register", N_("户口簿"), "11100000000012345D003", (
        Field("household_number", N_("户号"), sensitive=True, mask="tail4"),
        Field("household_type", N_("户别"), "enum", enum=("家庭户", "集体户")), _name("head_name", N_("户主姓名"), holder=False),
        _name(), Field("relationship_to_head", N_("与户主关系")), _id_number(),
        Field("birth_date", N_("出生日期"), "date", sensitive=True, mask="year"),
        Field("address", N_("住址"), sensitive=True, mask="address"), Field("registration_authority", N_("登记机关")),
    ), ("name", "id_number", "relationship_to_head", "household_type")),
)
_BY_CODE: Mapping[str, LicenceType] = MappingProxyType({t.code: t for t in _TYPES})

# Names and field labels are Chinese, marked with N_ where they are written; their English is in
# the catalogue (app/i18n.py).
i18n.register_labels("licence_type", {t.code: t.name for t in _TYPES})
i18n.register_labels("licence_field", {(t.code, f.key): f.label for t in _TYPES for f in t.fields})


def all_types() -> tuple[LicenceType, ...]:
    """Every licence type, in catalogue order."""
    return _TYPES


def get_type(code: str) -> LicenceType:
    """The licence type with this `code`; KeyError when unknown (the caller maps it)."""
    return _BY_CODE[code]


def localized_types() -> tuple[LicenceType, ...]:
    """Every licence type with its name and field labels in the answer's language."""
    if not i18n.is_english():
        return _TYPES
    return tuple(replace(t, name=i18n.label("licence_type", t.code),
                         fields=tuple(replace(f, label=i18n.label("licence_field", (t.code, f.key))) for f in t.fields))
                 for t in _TYPES)


# --- Validation --------------------------------------------------------------------------------

def _valid_date(value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError(N_("日期格式应为 YYYY-MM-DD。"))
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(N_("日期不存在。")) from None


def _normalise(field: Field, value: str) -> str:
    """The canonical form of one value; ValueError with a Chinese reason when refused."""
    if field.type == "date":
        return _valid_date(value)
    if field.type == "date_or_permanent":
        return PERMANENT if value == PERMANENT else _valid_date(value)
    if field.type == "id_number":
        try:
            return normalize_id_number(value)
        except IdNumberError as exc:
            raise ValueError(str(exc)) from None
    if field.type == "credit_code":
        code = value.upper()
        if not credit_code_valid(code):
            raise ValueError(N_("统一社会信用代码格式或校验位不正确（GB 32100）。"))
        return code
    if field.type == "enum" and value not in field.enum:
        raise ValueError(N_("取值应为以下之一：{values:、}。", values=Series(field.enum)))
    if field.type == "decimal" and not _DECIMAL.fullmatch(value):
        raise ValueError(N_("应为非负数，最多 4 位小数。"))
    if len(value) > MAX_STRING:
        raise ValueError(N_("长度不能超过 {max} 个字符。", max=MAX_STRING))
    return value


def _coerce(field: Field, raw: object) -> str:
    if field.type == "decimal" and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, str):
        raise ValueError(N_("应为字符串。"))
    return raw.strip()


def _reason(exc: ValueError) -> i18n.Text:
    """Why a value was refused, kept a Text (with its values) so the field's message translates it."""
    reason = exc.args[0] if exc.args else str(exc)
    return reason if isinstance(reason, i18n.Text) else i18n.T_(str(reason))


def validate_data(licence_type: LicenceType, data: dict) -> dict:
    """Check a licence's data against its type and return it normalised.

    Refuses unknown fields, missing required fields, wrong value types, malformed dates,
    ID numbers (GB 11643), credit codes (GB 32100), decimals and enum values with
    LicenceDataError, naming every bad field.
    """
    if not isinstance(data, dict):
        raise LicenceDataError({"_schema": [N_("证照数据应为对象。")]})
    errors: dict[str, list[str]] = {}
    known = {f.key for f in licence_type.fields}
    for key in data:
        if key not in known:
            errors.setdefault(str(key), []).append(N_("目录中没有该字段。"))
    clean: dict[str, str] = {}
    for field in licence_type.fields:
        raw = data.get(field.key)
        try:
            value = None if raw is None else _coerce(field, raw)
            if not value:
                if field.required:
                    errors.setdefault(field.key, []).append(N_("缺少必填项“{label}”。", label=field.label))
                continue
            clean[field.key] = _normalise(field, value)
        except ValueError as exc:
            reason = N_("{label}：{reason}", label=i18n.T_(field.label), reason=_reason(exc))
            errors.setdefault(field.key, []).append(reason)
    if errors:
        raise LicenceDataError(errors)
    return clean


# --- Masking and disclosure --------------------------------------------------------------------

def _mask_address(value: str) -> str:
    """Keep the leading administrative part only — 安徽省合肥市****, never more than half the value."""
    head = value[:min(6, len(value) // 2)]
    marker = max(head.rfind(m) for m in _ADDRESS_MARKERS)
    keep = marker + 1 if marker >= 0 else min(6, len(value) // 3)
    return value[:keep] + "****"


def mask_value(field: Field, value: str) -> str:
    """The value as shown when the field is not disclosed in full."""
    if not value:
        return value
    if field.mask == "name":
        return mask_name(value) or ""
    if field.mask == "id_number":
        return mask_id_number(value) or ""
    if field.mask == "phone":
        return mask_phone(value) or ""
    if field.mask == "address":
        return _mask_address(value)
    if field.mask == "tail4":
        return "****" + value[-4:] if len(value) > 4 else "****"
    if field.mask == "year":
        return value[:4] + "-**-**" if _DATE.fullmatch(value) else "****"
    return value


def disclose(licence_type: LicenceType, data: dict, fields: list[str] | None = None) -> dict:
    """What a counter sees (最小必要): the counter set with sensitive fields masked by default;
    fields chosen explicitly by the holder are shown in full. Unknown field keys are refused."""
    if fields is None:
        chosen, explicit = licence_type.counter_fields, False
    else:
        unknown = [key for key in fields if key not in {f.key for f in licence_type.fields}]
        if unknown:
            raise LicenceDataError({key: [N_("目录中没有该字段。")] for key in unknown})
        chosen, explicit = tuple(dict.fromkeys(fields)), True
    shown: dict[str, str] = {}
    for key in chosen:
        field = licence_type.field(key)
        value = data.get(key)
        if value is None:
            continue
        shown[key] = value if explicit or not field.sensitive else mask_value(field, value)
    return shown
