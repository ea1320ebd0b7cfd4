"""House field classes with the formats the OpenAPI document names (issue 14 item 12).

Rules JSON Schema cannot state (GB 11643 check characters, PIN strength) are named by a custom
`format`; tests/fuzz registers a strategy for each. The services keep their own checks and codes.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma


def _with(kwargs: dict[str, Any], **doc: Any) -> dict[str, Any]:
    kwargs["metadata"] = {**doc, **(kwargs.get("metadata") or {})}
    return kwargs


class IdNumber(ma.fields.String):
    """A resident identity number (GB 11643-1999): `format: gb11643`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(kwargs, format="gb11643"))


class Phone(ma.fields.String):
    """A mainland China mobile number: `format: cn-mobile`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(kwargs, format="cn-mobile", example="13800138000"))


class SigningPin(ma.fields.String):
    """The 6-digit signing PIN: `format: signing-pin` (its strength is checked at enrolment, 422 pin_weak)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Regexp(r"^\d{6}$", error="签名密码须为 6 位数字。"))
        super().__init__(**_with(kwargs, format="signing-pin", description="6 位签名密码"))
