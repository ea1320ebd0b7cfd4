"""The house's schema parts every feature uses for input (issue 14 item 13).

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


class EmptyUpdate(AppError):
    status, code, detail = 422, "empty_update", "请至少提供一项要修改的内容。"
    detail_en = "Nothing to change: give at least one field."


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
