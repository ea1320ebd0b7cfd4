"""House field classes: the formats the OpenAPI document names (issue 14 item 12), strict
booleans and the empty-update rule (item 13).

Each field publishes what JSON Schema can state (a `pattern`) and names the rest with a custom
`format`, for which tests/fuzz registers a strategy:

- `gb11643` — resident ID number (GB 11643-1999): province code, real birth date, ISO 7064
  MOD 11-2 check character (app/idnumber.py; 422 `id_number_invalid` with the reason).
- `signing-pin` — six digits that are not guessable: no runs, repeats, common PINs or the holder's
  birth date (signing/pin.py; 422 `pin_weak` with the reasons).
- `cn-mobile` — a mainland mobile number, `+86`, spaces and dashes allowed (normalised by the
  service; 422 `phone_invalid`).

The fields document; each rule stays in one place, the service, so its stable error code, its
audit record and its `reason` do not change. Patterns are read as Python's `re` reads them, like
the services' own expressions.

- `StrictBoolean`: a JSON body's flag is `true` or `false`, nothing else (not `0`, `1`, `"yes"`).
- `QueryBoolean`: a query-string flag is the text `true` or `false` (documented on the parameter).
- `UpdateSchema`: the base of a PUT/PATCH body whose fields are all optional: an empty object
  changes nothing and is refused with 422 `empty_update` (`minProperties: 1` in the OpenAPI
  document, added by app/openapi.py's `MinPropertiesPlugin`).

tests/test_input_hygiene.py walks every operation's argument schemas and fails on a plain
marshmallow Boolean or an all-optional PUT/PATCH body that is not an `UpdateSchema`.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.errors import AppError
from app.i18n import N_

# The service strips and upper-cases an ID number before checking it.
ID_NUMBER_PATTERN = r"^\s*\d{17}[\dXx]\s*$"
PHONE_PATTERN = r"^[\s-]*(?:\+[\s-]*8[\s-]*6[\s-]*)?1[\s-]*[3-9](?:[\s-]*\d){9}[\s-]*$"


def _with(kwargs: dict[str, Any], **doc: Any) -> dict[str, Any]:
    kwargs["metadata"] = {**doc, **(kwargs.get("metadata") or {})}
    return kwargs


class IdNumber(ma.fields.String):
    """A resident identity number (GB 11643-1999): `format: gb11643`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(kwargs, format="gb11643", pattern=ID_NUMBER_PATTERN,
                                 description="公民身份号码（GB 11643：18 位，地区码、出生日期与校验位有效）"))


class Phone(ma.fields.String):
    """A mainland China mobile number: `format: cn-mobile`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(kwargs, format="cn-mobile", pattern=PHONE_PATTERN, example="13800138000"))


class SigningPin(ma.fields.String):
    """The 6-digit signing PIN: `format: signing-pin` (its strength is checked at enrolment, 422 pin_weak)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Regexp(r"^\d{6}$", error=N_("签名密码须为 6 位数字。")))
        super().__init__(**_with(kwargs, format="signing-pin", description=(
            "6 位签名密码；不能是重复或连续的数字、常见的简单密码、出生日期或证件号码后六位（否则 422 pin_weak）")))


class EmptyUpdate(AppError):
    status, code, detail = 422, "empty_update", N_("请至少提供一项要修改的内容。")


class StrictBoolean(ma.fields.Boolean):
    """A boolean in a JSON body: only JSON `true` or `false`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class QueryBoolean(ma.fields.Boolean):
    """A boolean in the query string: only the text `true` or `false`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        description = metadata.get("description")
        metadata["description"] = f"{description}（取值 true 或 false）" if description else "取值 true 或 false。"
        super().__init__(truthy={"true"}, falsy={"false"}, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class UpdateSchema(ma.Schema):
    """A PUT/PATCH body of optional fields: at least one must be given."""

    min_properties = 1

    @ma.pre_load
    def _something_to_change(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise EmptyUpdate()
        return data
