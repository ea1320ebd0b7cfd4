"""One error model: every 4xx/5xx is `application/problem+json` (RFC 9457).

Domain code raises an `AppError` subclass with a stable `code` and a Chinese
`detail` marked with `N_` (its English, sent on `Accept-Language: en`, is in the
catalogue: app/i18n.py); one set of handlers, registered once on the app, renders
it. Routes never build error responses by hand.
"""
from __future__ import annotations

import logging
import re
from typing import Any

import marshmallow as ma
import peewee as pw
import redis
from flask import Flask, current_app, g, json
from werkzeug.exceptions import HTTPException

from app import i18n
from app.i18n import N_, Series

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


class _English:
    """`detail_en`: an error's English, read from the catalogue — on the class, its `detail`'s
    (else the nearest base's); on an error, its own detail's, else its class's."""

    def __get__(self, error: AppError | None, cls: type[AppError]) -> str | None:
        if error is not None:
            return i18n.english(error.detail) or cls.detail_en
        for klass in cls.__mro__:
            found = i18n.english(vars(klass)["detail"]) if "detail" in vars(klass) else None
            if found:
                return found
        return None


class AppError(Exception):
    """Base of every error a client may see."""

    status: int = 400
    code: str = "bad_request"
    detail: str = N_("请求有误。")
    detail_en = _English()  # every subclass's detail is in the catalogue (tests/kernel/test_catalogue.py)

    def __init__(
        self,
        detail: str | None = None,
        *,
        detail_en: str | None = None,
        code: str | None = None,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        if detail_en:
            self.detail_en = detail_en  # an English given at the raise site (not from the catalogue)
        self.code = code or self.code
        self.status = status or self.status
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(f"{self.code}: {self.detail}")

    def localized_detail(self) -> str:
        return self.detail_en if i18n.is_english() else self.detail


class ValidationFailed(AppError):
    status, code, detail = 422, "validation_failed", N_("请求参数有误，请检查后重试。")


class NotFound(AppError):
    status, code, detail = 404, "not_found", N_("未找到请求的资源。")


class Unauthorized(AppError):
    status, code, detail = 401, "unauthorized", N_("请先登录。")

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw["headers"] = kw.get("headers") or {"WWW-Authenticate": 'Bearer realm="yiwang"'}
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, code, detail = 403, "forbidden", N_("无权执行此操作。")


class Conflict(AppError):
    status, code, detail = 409, "conflict", N_("请求与当前状态冲突。")


class TooManyRequests(AppError):
    status, code, detail = 429, "rate_limited", N_("操作过于频繁，请稍后再试。")

    def __init__(self, retry_after: int, detail: str | None = None, *, code: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after)},
                         extra={"retry_after": retry_after})


class ServiceUnavailable(AppError):
    status, code, detail = 503, "service_unavailable", N_("服务暂时不可用，请稍后再试。")


# Seconds a client is told to wait when Redis or the database is unreachable (503 Retry-After).
BACKEND_RETRY_AFTER = 5

# Redis Cluster's ways of saying "not now", raised once redis-py's own retries are spent: the cluster
# is down (CLUSTERDOWN: a shard has no master left, and every node refuses every command, the healthy
# shards' too), a slot is migrating (TRYAGAIN), no node is known for a slot, or no node answers at
# all. The same outage as an unreachable server, so the same 503 (tests/cluster/test_failover.py);
# not a 500. Only these: a CROSSSLOT error or a misused pipeline stays the bug it is.
REDIS_CLUSTER_OUTAGES = (redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError,
                         redis.exceptions.SlotNotCoveredError, redis.exceptions.RedisClusterUnreachableError)


# Werkzeug's HTTP errors (404 for unknown paths, 405, malformed JSON …).
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", N_("请求格式有误。")),
    401: ("unauthorized", N_("请先登录。")),
    403: ("forbidden", N_("无权执行此操作。")),
    404: ("not_found", N_("未找到请求的资源。")),
    405: ("method_not_allowed", N_("不支持该请求方法。")),
    406: ("not_acceptable", N_("无法提供所请求的格式。")),
    409: ("conflict", N_("请求与当前状态冲突。")),
    412: ("precondition_failed", N_("前置条件不满足。")),
    413: ("payload_too_large", N_("请求内容过大。")),
    415: ("unsupported_media_type", N_("不支持的请求内容类型，请使用 JSON。")),
    422: ("validation_failed", N_("请求参数有误，请检查后重试。")),
    428: ("precondition_required", N_("缺少前置条件。")),
    429: ("rate_limited", N_("操作过于频繁，请稍后再试。")),
}

# marshmallow's English messages, in Chinese for the `errors` map.
_MESSAGES_ZH = {
    "Missing data for required field.": "必填字段缺失。",
    "Field may not be null.": "字段不能为空。",
    "Unknown field.": "未知字段。",
    "Not a valid string.": "不是有效的字符串。",
    "Not a valid integer.": "不是有效的整数。",
    "Not a valid number.": "不是有效的数字。",
    "Not a valid boolean.": "不是有效的布尔值。",
    "Not a valid datetime.": "不是有效的时间。",
    "Not a valid date.": "不是有效的日期。",
    "Not a valid list.": "不是有效的列表。",
    "Not a valid mapping type.": "不是有效的对象。",
    "Invalid input type.": "输入类型无效。",
    "Invalid value.": "取值无效。",
    "Length must be between {min} and {max}.": "长度不符合要求。",
    "String does not match expected pattern.": "格式不正确。",
    # app/input_guard.py: NUL or a lone UTF-16 surrogate in a string (issue 14 item 8)
    "Must not contain NUL or an unpaired surrogate character.": "不能包含空字符（NUL）或不成对的代理字符。",
}


class ChoiceReason(str):
    """A OneOf failure's reason with the values the field allows; rendered with the list, in the
    answer's language, by `_zh` and `_localize` (issue 14 item 18)."""

    choices: tuple[str, ...]

    def __new__(cls, reason: str, choices: Any) -> ChoiceReason:
        made = super().__new__(cls, reason)
        made.choices = tuple(str(choice) for choice in choices)
        return made


def _with_choices(reason: str, choices: tuple[str, ...], english: bool) -> str:
    if all(choice in reason for choice in choices):
        return reason  # the field's own message already names them
    return i18n.render(N_("{reason}可选值：{choices:、}。", reason=reason, choices=Series(choices)),
                       i18n.EN if english else i18n.ZH)


def _matches(reason: str, validator: ma.validate.OneOf) -> bool:
    """Whether `reason` is `validator`'s message (its template may interpolate the input)."""
    if reason == validator.error:
        return True
    pattern = re.escape(validator.error)
    for placeholder, text in (("{input}", None), ("{choices}", validator.choices_text),
                              ("{labels}", validator.labels_text)):
        pattern = pattern.replace(re.escape(placeholder), ".*" if text is None else re.escape(text))
    return re.fullmatch(pattern, reason, re.DOTALL) is not None


def _mark_field(reasons: Any, field: ma.fields.Field) -> Any:
    """`reasons` (a field's messages) with each OneOf failure turned into a ChoiceReason."""
    if isinstance(reasons, list):
        one_ofs = [v for v in field.validators if isinstance(v, ma.validate.OneOf)]
        return [next((ChoiceReason(r, v.choices) for v in one_ofs if isinstance(r, str) and _matches(r, v)), r)
                for r in reasons]
    if not isinstance(reasons, dict):
        return reasons
    if isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
        if field.many:
            return {i: mark_choices(r, field.schema) if isinstance(r, dict) else r for i, r in reasons.items()}
        return mark_choices(reasons, field.schema)
    if isinstance(field, ma.fields.List):
        return {i: _mark_field(r, field.inner) for i, r in reasons.items()}
    if isinstance(field, ma.fields.Dict):
        parts = {"key": field.key_field, "value": field.value_field}
        return {k: {part: _mark_field(r, parts[part]) if parts.get(part) is not None else r
                    for part, r in entry.items()} if isinstance(entry, dict) else entry
                for k, entry in reasons.items()}
    return reasons


def mark_choices(messages: dict[Any, Any], schema: ma.Schema) -> dict[Any, Any]:
    """A schema's validation messages with every OneOf failure naming the allowed values."""
    by_key = {field.data_key or name: field for name, field in schema.fields.items()}
    return {key: _mark_field(reasons, by_key[key]) if key in by_key else reasons
            for key, reasons in messages.items()}


def translate_reason(english: str) -> str:
    """A field reason written in English (as marshmallow's are) in the answer's language."""
    return _zh(english)


def _zh(message: Any) -> Any:
    if i18n.is_english():
        return message  # marshmallow's own words are English; the app's reasons go through _localize
    if isinstance(message, ChoiceReason):
        return _with_choices(_zh(str(message)), message.choices, english=False)
    if isinstance(message, str):
        if message in _MESSAGES_ZH:
            return _MESSAGES_ZH[message]
        if message.startswith(("Length must be", "Shorter than", "Longer than")):
            return "长度不符合要求。"
        if message.startswith("Must be one of: "):  # marshmallow's default OneOf message names the values
            return _with_choices(N_("取值不在允许范围内。"), tuple(message[16:].rstrip(".").split(", ")), english=False)
        if message.startswith(("Must be greater", "Must be less", "Must be at")):
            return "数值超出允许范围。"
        return message
    if isinstance(message, list):
        return [_zh(m) for m in message]
    if isinstance(message, dict):
        return {k: _zh(v) for k, v in message.items()}
    return message


def flatten_messages(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); clients want fields."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, reasons in fields.items():
                flat[name if location in ("json", "form", "query", "files") else f"{location}.{name}"] = _zh(reasons)
        else:
            flat[location] = _zh(fields)
    return flat


def _localize(errors: Any) -> Any:
    """An `errors` map in the answer's language: the app's Chinese reasons in English on request."""
    if not errors or not i18n.is_english():
        return errors
    if isinstance(errors, ChoiceReason):
        return _with_choices(i18n.render(str(errors), i18n.EN), errors.choices, english=True)
    if isinstance(errors, list):
        return [_localize(e) for e in errors]
    if isinstance(errors, dict):
        return {k: _localize(v) for k, v in errors.items()}
    return i18n.translate(errors)


def problem_response(status: int, code: str, detail: str, *, errors: Any = None,
                     headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                     detail_en: str | None = None):
    """A problem+json answer. `detail` is Chinese; on `Accept-Language: en` the answer carries
    `detail_en`, else the catalogue's English of `detail` (app/i18n.py), else `detail`."""
    english = i18n.is_english()
    title = code.replace("_", " ")
    body: dict[str, Any] = {
        "type": f"urn:yiwang:problem:{code}",
        "title": title.capitalize() if english else title,
        "status": status,
        "detail": (detail_en or i18n.render(detail, i18n.EN)) if english else detail,
        "code": code,
    }
    if errors:
        body["errors"] = _localize(errors)
    if extra:
        body.update(extra)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _handle_app_error(exc: AppError):
    return problem_response(exc.status, exc.code, exc.detail, detail_en=exc.detail_en, errors=exc.errors,
                            headers=exc.headers, extra=exc.extra)


def _handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        return _handle_unexpected(exc)
    code, detail = _HTTP_CODES.get(status, ("http_error", N_("请求无法处理。")))
    errors = None
    data = getattr(exc, "data", None) or {}
    if status == 422 and isinstance(data.get("messages"), dict):
        messages, schema = data["messages"], data.get("schema")
        if isinstance(schema, ma.Schema):  # webargs: one schema per location
            messages = {location: mark_choices(fields, schema) if isinstance(fields, dict) else fields
                        for location, fields in messages.items()}
        errors = flatten_messages(messages)
    headers = {}
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    if data.get("headers"):
        headers.update(data["headers"])
    return problem_response(status, code, detail, errors=errors, headers=headers)


def _handle_validation_error(exc: ma.ValidationError):
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return problem_response(422, ValidationFailed.code, ValidationFailed.detail, detail_en=ValidationFailed.detail_en,
                            errors=_zh(messages))


def _handle_backend_down(exc: BaseException):
    # Redis or the database unreachable (or the database locked past its timeout): the client
    # may retry; the cause goes to the log, not to the client.
    log.error("backend unavailable", extra={"error": type(exc).__name__})
    return problem_response(503, "service_unavailable", N_("服务暂时不可用，请稍后再试。"),
                            headers={"Retry-After": str(BACKEND_RETRY_AFTER)})


def _handle_unexpected(exc: BaseException):
    # Logged with the request id; the body never carries the exception text.
    log.error("unhandled error", exc_info=exc)
    return problem_response(500, "internal_error", N_("服务器内部错误，请稍后再试。"))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, _handle_app_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(ma.ValidationError, _handle_validation_error)
    for backend_error in (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                          pw.OperationalError, pw.InterfaceError, *REDIS_CLUSTER_OUTAGES):
        app.register_error_handler(backend_error, _handle_backend_down)
    app.register_error_handler(Exception, _handle_unexpected)
