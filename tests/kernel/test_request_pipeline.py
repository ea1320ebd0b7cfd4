"""The request pipeline's fast paths answer as the slow ones did (issue 20): JSON answers written by
orjson are Flask's bytes, the per-view requirement table follows a replaced view, and the access log
line is masked once and still masked."""
from __future__ import annotations

import dataclasses
import decimal
import json
import logging
import uuid
from datetime import date, datetime, timezone

import pytest

from app.i18n import N_
from app.logs import JsonFormatter, log_access
from app.security.auth import auth_required


@dataclasses.dataclass
class _Row:
    n: int
    at: datetime


VALUES = [
    {"b": 1, "a": [1, 2.5, None, True], "z": "中文\u2028\x01\"\\/", "t": N_("请求有误。")},
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "day": date(2026, 1, 2),
     "naive": datetime(2026, 1, 2, 3, 4, 5, 123456)},
    {"row": _Row(1, datetime(2026, 1, 1, tzinfo=timezone.utc)), "u": uuid.UUID(int=5), "dec": decimal.Decimal("1.10")},
    {"big": 2**70, "f": 0.1 + 0.2},  # past 64 bits: Flask's own encoder
    {1: "x", 2: "y"},  # non-string keys: Flask's own encoder
    [1, (2, 3)], "s", None, {"nested": {"é": 1, "e": 2, "Z": 3}},
]


@pytest.mark.parametrize("value", VALUES)
def test_json_answers_are_flasks_bytes(app, value):
    with app.test_request_context():
        written = app.json.response(value).get_data()
        flasks = json.dumps(value, default=app.json.default, ensure_ascii=False, sort_keys=True,
                            separators=(",", ":")).encode() + b"\n"
    assert written == flasks


def test_json_answer_that_cannot_be_written_still_fails(app):
    with app.test_request_context(), pytest.raises(TypeError):
        app.json.response({"a": {1, 2}})


def test_requirement_table_follows_a_replaced_view(make_app):
    app = make_app()

    @app.get("/api/v1/test-only/guarded")
    def guarded():
        return {"ok": True}

    client = app.test_client()
    assert client.get("/api/v1/test-only/guarded").status_code == 200  # public: remembered as such
    app.view_functions["guarded"] = auth_required()(guarded)
    assert client.get("/api/v1/test-only/guarded").status_code == 401


def test_access_log_line_is_masked_once_and_whole(caplog):
    logger = logging.getLogger("app.test_only")
    with caplog.at_level(logging.INFO, logger="app.test_only"):
        log_access(logger, "GET", "/api/v1/users/13800138000", 200, 1.5)
        log_access(logger, "13800138000", "/x", 405, 0.1)
    first, second = caplog.records
    assert first.path == "/api/v1/users/138****8000" and first.method == "GET"
    assert second.method == "138****8000"
    line = json.loads(JsonFormatter().format(first))
    assert line["msg"] == "request" and line["path"] == "/api/v1/users/138****8000"
    assert line["status"] == 200 and line["duration_ms"] == 1.5 and "_masked" not in line


@pytest.mark.parametrize("created", [1764000000.0, 1764000000.25, 1764000059.9994, 1782000001.5])
def test_log_line_time_is_utc_to_the_millisecond(created):
    record = logging.LogRecord("app.test_only", logging.INFO, __file__, 0, "x", (), None)
    record.created = created
    line = json.loads(JsonFormatter().format(record))
    assert line["ts"] == datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")


def test_access_log_line_written_directly_is_the_records_line(monkeypatch, capsys):
    """With our JSON handler alone on the way (production), log_access writes the line itself, without a
    record: the same object, field for field and in order, as the formatter makes from the record."""
    from flask import Flask, g

    from app import logs

    logs.setup_logging("INFO")
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_yiwang", False)]
    logger = logging.getLogger("app.test_only_direct")
    monkeypatch.setattr(root, "handlers", ours)  # pytest's capture handlers off the way for this test
    made = []
    monkeypatch.setattr(logger, "makeRecord", lambda *a, **k: made.append(a) or logging.Logger.makeRecord(logger, *a, **k))
    assert logs._sole_json_handler(logger) is ours[0]
    capsys.readouterr()
    log_access(logger, "GET", "/api/v1/users/340102199003071232", 200, 1.5, "rid-1")
    direct = capsys.readouterr().err
    assert made == [], "the direct path must not build a record"
    monkeypatch.setattr(root, "handlers", ours + [logging.NullHandler()])  # another handler: through a record
    assert logs._sole_json_handler(logger) is None
    with Flask("t").test_request_context():
        g.request_id = "rid-1"
        log_access(logger, "GET", "/api/v1/users/340102199003071232", 200, 1.5, "rid-1")
    via_record = capsys.readouterr().err
    assert len(made) == 1
    first, second = json.loads(direct), json.loads(via_record)
    assert first.pop("ts")[:4] == second.pop("ts")[:4]
    assert list(first.items()) == list(second.items())
    assert first["path"] == "/api/v1/users/3401**********1232" and first["request_id"] == "rid-1"


def test_a_filter_on_the_way_sends_the_line_through_a_record(monkeypatch):
    from app import logs

    logs.setup_logging("INFO")
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_yiwang", False)]
    monkeypatch.setattr(root, "handlers", ours)
    logger = logging.getLogger("app.test_only_filtered")
    monkeypatch.setattr(logger, "filters", [lambda record: True])
    assert logs._sole_json_handler(logger) is None


def test_fields_written_directly_are_masked_as_the_formatter_masks_them(monkeypatch, capsys):
    from app import logs

    logs.setup_logging("INFO")
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if getattr(h, "_yiwang", False)])
    logger = logging.getLogger("yiwang.audit.test_only")
    capsys.readouterr()
    logs.log_fields(logger, "audit", {"action": "x.y", "target": "13800138000", "n": 3, "detail": {"phone": "13800138000"}})
    line = json.loads(capsys.readouterr().err)
    assert line["target"] == "138****8000" and line["n"] == 3 and "13800138000" not in json.dumps(line)
    assert line["request_id"] is None and line["msg"] == "audit"
