"""OpenAPI helpers: the problem+json schema and a decorator documenting a route's errors."""
from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask_smorest import Blueprint


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details with YiWang's stable `code`."""

    class Meta:
        # RFC 9457 extension members (`retry_after` on 429, `reason` …) may accompany the declared ones.
        unknown = ma.INCLUDE

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String(metadata={"description": "中文说明，可直接展示给用户"})
    code = ma.fields.String(metadata={"description": "稳定的错误码（lower_snake），供客户端本地化"})
    errors = ma.fields.Dict(metadata={"description": "字段 → 原因（参数校验失败时）"})
    request_id = ma.fields.String()


class AssuranceProblemSchema(ProblemSchema):
    """403 `assurance_level_insufficient` (the level was never reached), `step_up_required` (reached,
    not within `max_age`) or `liveness_required`: the client steps up at `step_up_url`, then retries
    the same request unchanged (identity/assurance.py, issue 19)."""

    class Meta:
        unknown = ma.INCLUDE

    required_level = ma.fields.String(metadata={"enum": ["L1", "L2", "L3", "L4"], "example": "L3"})
    current_level = ma.fields.String(metadata={"enum": ["L0", "L1", "L2", "L3", "L4"], "example": "L3",
                                               "description": "账号的常驻等级（曾达到的最高等级，不衰减）"})
    max_age = ma.fields.Integer(allow_none=True, metadata={"example": 600,
                                                           "description": "须在多少秒内完成核验；null：只看常驻等级"})
    level_reached_at = ma.fields.String(allow_none=True, metadata={
        "format": "date-time", "example": "2026-12-06T13:40:02+08:00",
        "description": "最近一次达到 required_level 的时间；从未达到时为 null"})
    step_up_url = ma.fields.String(metadata={
        "example": "/api/v1/me/step-up?required_level=L3&max_age=600&purpose=signing",
        "description": "可用的核验方式（GET），完成后原样重试请求"})


ASSURANCE_CODES = ("assurance_level_insufficient", "step_up_required", "liveness_required")


def problems(blp: Blueprint, spec: dict[int, str]) -> Callable:
    """Document error answers: {status: "code_a, code_b"}. A 403 naming an assurance code is
    documented with AssuranceProblem (its required_level, current_level, max_age, step_up_url)."""

    def decorator(func: Callable) -> Callable:
        for status, codes in spec.items():
            schema = (AssuranceProblemSchema if status == 403 and any(c in codes for c in ASSURANCE_CODES)
                      else ProblemSchema)
            func = blp.alt_response(status, schema=schema, description=f"problem+json; code: {codes}",
                                    content_type="application/problem+json")(func)
        return func

    return decorator


def _problem_answer(codes: str) -> dict[str, Any]:
    return {"description": f"problem+json; code: {codes}",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class ProtectedAnswersPlugin(BasePlugin):
    """Every operation that needs a bearer token answers 401 without one and 403 when the caller
    may not use it: documented here for all of them, unless a route documents its own."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            answers = operation.setdefault("responses", {})
            if 401 not in answers and "401" not in answers:
                answers["401"] = _problem_answer("unauthorized, token_invalid")
            if 403 not in answers and "403" not in answers:
                answers["403"] = _problem_answer("forbidden, insufficient_scope")


class MinPropertiesPlugin(BasePlugin):
    """A schema with `min_properties` (app/fields.py `UpdateSchema`) says so: `minProperties`."""

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        minimum = getattr(resolve_schema_cls(schema), "min_properties", None)
        return {"minProperties": minimum} if minimum else None


class RequiredAlternativesPlugin(BasePlugin):
    """A schema with `required_alternatives` (signing/schemas.py `RevokeSchema`: the PIN, or an SMS
    code with a liveness session) says so: `anyOf` one `required` set per alternative."""

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        alternatives = getattr(resolve_schema_cls(schema), "required_alternatives", None)
        return {"anyOf": [{"required": list(fields)} for fields in alternatives]} if alternatives else None


class InputAnswersPlugin(BasePlugin):
    """Every operation with a request body may be refused before its schema is read
    (app/input_guard.py): 400 `body_unparsable` and 413 `payload_too_large`, documented here."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            answers = operation.setdefault("responses", {})
            existing = answers.get(400, answers.get("400"))
            if existing is None:
                answers["400"] = _problem_answer("body_unparsable")
            elif isinstance(existing, dict) and "body_unparsable" not in existing.get("description", ""):
                existing["description"] = existing.get("description", "problem+json; code:") + ", body_unparsable"
            if 413 not in answers and "413" not in answers:
                answers["413"] = _problem_answer("payload_too_large")
