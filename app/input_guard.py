"""What every request's input must be before a schema sees it: parsable, shallow, clean text.

One place for the whole app (issue 14 item 8): a JSON body must be UTF-8, valid JSON (no NaN or
Infinity), with integers within Python's digit limit and at most `MAX_DEPTH` levels of nesting,
else 400 `body_unparsable`; a body over `MAX_CONTENT_LENGTH` is 413. A string (key or value)
anywhere in a JSON or form body, the query string or the path, holding NUL or a lone UTF-16
surrogate (`"\\ud800"`, which no UTF-8 encoder, database or log accepts) is 422
`validation_failed`, naming the field. Runs after authentication (app/security/auth.py), before
the routes parse arguments: flask-smorest then parses a body already known to be sound.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from flask import Flask, Request, request

from app.errors import AppError, ValidationFailed, translate_reason
from app.i18n import N_

MAX_DEPTH = 32
# `\u0000` or a `\uD800`–`\uDFFF` escape: the only ways NUL or a surrogate gets into parsed JSON
# (raw control characters are invalid JSON; raw surrogates are invalid UTF-8). A valid pair
# matches too; the walk then finds the joined character harmless.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_FORBIDDEN_CHAR = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_REASON = "Must not contain NUL or an unpaired surrogate character."
_FORM = "application/x-www-form-urlencoded"


class BodyUnparsable(AppError):
    status, code, detail = 400, "body_unparsable", N_("请求内容不是有效的 JSON（须为 UTF-8，嵌套不超过 32 层）。")


class _StrictJSON:
    """The JSON module of requests: RFC 8259 strict, bounded, never a RecursionError."""

    @staticmethod
    def loads(data: bytes | str, **kwargs: Any) -> Any:
        try:
            text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            value = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:  # deeper than the C parser's recursion limit
            raise ValueError("nested too deeply") from exc
        # ValueError covers bad JSON, invalid UTF-8 and integers over sys.get_int_max_str_digits().
        if (text.count("[") + text.count("{") > MAX_DEPTH) and _depth_exceeds(value, MAX_DEPTH):
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        return value

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **kwargs)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit`, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class GuardedRequest(Request):
    """Flask's request with the strict JSON module: `request.get_json()` anywhere is bounded too."""

    @property
    def json_module(self) -> type[_StrictJSON]:
        return _StrictJSON

    @json_module.setter
    def json_module(self, provider: Any) -> None:
        """Flask's request context sets the app's JSON provider here; bodies are parsed strictly."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not a JSON content type: Werkzeug's 415
            return super().on_json_loading_failed(e)
        raise BodyUnparsable() from e


def _printable(name: str) -> str:
    """A field name that can be written in the answer (its bad characters as escapes)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_strings(value: Any) -> Iterator[str]:
    """Dotted paths of the keys and strings holding NUL or a lone surrogate, walked without recursion."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, str):
            if _FORBIDDEN_CHAR.search(current):
                yield path or "_schema"
        elif isinstance(current, dict):
            for key, child in current.items():
                child_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if _FORBIDDEN_CHAR.search(key):
                    yield child_path
                stack.append((child, child_path))
        elif isinstance(current, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(current))


def _bad_pairs(pairs: Any) -> Iterator[str]:
    for key, value in pairs:
        if _FORBIDDEN_CHAR.search(key) or _FORBIDDEN_CHAR.search(value):
            yield _printable(key)


def check_input() -> None:
    """The before_request check: 400/413 for an unsound body, 422 for forbidden characters."""
    req = request._get_current_object()
    # no query string: no arguments to walk; no Content-Type: neither a JSON nor a form body
    bad = list(_bad_pairs(req.args.items(multi=True))) if req.query_string else []
    if req.view_args:
        bad += [_printable(name) for name, value in req.view_args.items()
                if isinstance(value, str) and _FORBIDDEN_CHAR.search(value)]  # ids in the path (PostgreSQL refuses NUL)
    has_type = bool(req.environ.get("CONTENT_TYPE"))
    if has_type and req.is_json:
        data = req.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH
        if data:  # an empty body is "no body"; whitespace alone is not JSON
            body = req.get_json()
            if _SUSPECT_ESCAPE.search(data):
                bad.extend(_bad_strings(body))
    elif has_type and req.mimetype == _FORM:
        bad.extend(_bad_pairs(req.form.items(multi=True)))
    if bad:
        reason = translate_reason(BAD_TEXT_REASON)
        raise ValidationFailed(errors={path: [reason] for path in sorted(set(bad))})


def init_app(app: Flask) -> None:
    app.request_class = GuardedRequest
    app.before_request(check_input)
