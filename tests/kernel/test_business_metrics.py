"""Issue 21: the business and saturation metrics (app/business_metrics.py, app/state_metrics.py). The
counters moving on real requests are tested beside their features (tests/*/test_*_metrics.py); here:
the route table, the refusal's code, SM2 operations, every gauge's value, the worker's listener, and
that a multi-process exposition — what granian's and gunicorn's /metrics serve — holds every name of
the contract (`CONTRACT`, which the Prometheus rules' tests read too)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
import time_machine
from prometheus_client import REGISTRY

from app import business_metrics, calendar, errors, state_metrics
from app.crypto import platform_keys
from app.crypto.ca import ensure_platform_ca
from app.crypto.sm2 import SM2PrivateKey
from app.db import db, unit_of_work, utcnow
from app.health import PROBE_EVERY, probe_saturation
from app.request_metrics import TALLY
from bench.server import free_port
from notify import metrics as notify_metrics
from notify.models import OutboxEntry

ROOT = Path(__file__).resolve().parents[2]


def value(metric: str, **labels) -> float | None:
    TALLY.flush()
    return REGISTRY.get_sample_value(metric, labels)


# --- the contract and the route table ------------------------------------------------------------

def test_the_contract_names_every_metric_once_with_its_labels():
    assert len(set(business_metrics.CONTRACT)) == len(business_metrics.CONTRACT) == 17
    assert set(business_metrics.LABELS) == set(business_metrics.CONTRACT)
    assert business_metrics.LABELS["yiwang_logins_total"] == ("method", "result")
    assert business_metrics.LABELS["yiwang_certificate_expiry_timestamp_seconds"] == ("kind", "name")
    assert business_metrics.PROBLEM_MIMETYPE == errors.PROBLEM_MIMETYPE


def test_every_counted_route_exists_with_its_method(app):
    rules = {(rule.rule, method) for rule in app.url_map.iter_rules() for method in rule.methods}
    missing = [(rule, spec[0]) for rule, spec in business_metrics.ROUTES.items() if (rule, spec[0]) not in rules]
    assert not missing, f"renamed routes: update app/business_metrics.py ROUTES: {missing}"
    methods = {spec[2][0] for spec in business_metrics.ROUTES.values() if spec[1] is business_metrics.LOGINS}
    assert methods == set(business_metrics.LOGIN_METHODS)


def test_the_result_is_ok_or_the_problems_code(app):
    with app.test_request_context():
        assert business_metrics.result_of(app.response_class("{}", status=201)) == "ok"
        problem = errors.problem_response(409, "presentation_used", "已使用。")
        assert business_metrics.result_of(problem) == "presentation_used"
        odd = app.response_class(json.dumps({"code": "Not A Code!"}), status=400, mimetype=errors.PROBLEM_MIMETYPE)
        assert business_metrics.result_of(odd) == "http_400"
        assert business_metrics.result_of(app.response_class("teapot", status=418)) == "http_418"


def test_sm2_counts_each_computation_not_a_memoised_verification():
    key = SM2PrivateKey.generate()
    signs, verifies = value("yiwang_sm2_operations_total", op="sign") or 0, value(
        "yiwang_sm2_operations_total", op="verify") or 0
    signature = key.sign(b"message")
    assert key.public_key().verify(signature, b"message")
    assert key.public_key().verify(signature, b"message")  # memoised: no second computation
    assert value("yiwang_sm2_operations_total", op="sign") == signs + 1
    assert value("yiwang_sm2_operations_total", op="verify") == verifies + 1


def test_the_ok_series_exist_from_the_start(app):
    for method in business_metrics.LOGIN_METHODS:
        assert value("yiwang_logins_total", method=method, result="ok") is not None
    assert value("yiwang_case_events_total", result="ok") is not None


# --- the gauges ----------------------------------------------------------------------------------

def _outbox_row(key: str, available_at: datetime) -> None:
    with unit_of_work():
        OutboxEntry.create(dedupe_key=key, user_id="u1", kind="test", title="t", body="b", available_at=available_at)


def test_the_outbox_gauges_count_pending_rows_and_the_oldest_due_ones_age(app):
    start = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False):
        with app.app_context(), db.connection_context():
            _outbox_row("metrics:due", utcnow())
            _outbox_row("metrics:tomorrow", utcnow() + timedelta(days=1))  # scheduled: pending, not late
            state_metrics.refresh(app, notify_metrics.STATE_SOURCES)
        assert value("yiwang_outbox_pending_messages") == 2
        assert value("yiwang_outbox_oldest_pending_age_seconds") == 0
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        state_metrics.refresh(app, notify_metrics.STATE_SOURCES)
        assert value("yiwang_outbox_oldest_pending_age_seconds") == 90
        with app.app_context(), db.connection_context():
            OutboxEntry.update(status="done").execute()
        state_metrics.refresh(app, notify_metrics.STATE_SOURCES)
        assert value("yiwang_outbox_pending_messages") == 0
        assert value("yiwang_outbox_oldest_pending_age_seconds") == 0


def test_certificate_and_crl_gauges_show_not_after_and_next_update(app):
    ensure_platform_ca(app)
    with app.app_context(), db.connection_context():
        tsa = platform_keys.current("tsa")
        ca_end = app.extensions["ca"]._ca().certificate.not_valid_after
    state_metrics.refresh(app)
    assert value("yiwang_certificate_expiry_timestamp_seconds", kind="platform_ca", name="platform") == \
        ca_end.timestamp()
    assert value("yiwang_certificate_expiry_timestamp_seconds", kind="tsa", name="tsa") == tsa.not_after.timestamp()
    next_update = value("yiwang_crl_next_update_timestamp_seconds", name="platform")
    assert next_update is not None
    assert abs(next_update - (utcnow().timestamp() + app.config["CA_CRL_TTL"])) < 120


def test_the_calendar_gauge_is_the_last_year_with_official_data(app):
    with app.app_context(), db.connection_context():
        far = datetime(2100, 6, 1, tzinfo=timezone.utc)
        assert state_metrics.last_year_covered(far) == 2099  # nobody has 2100's notice
        calendar.set_day(date(2100, 10, 1), calendar.HOLIDAY, "国庆节")
        calendar.forget()
        try:
            assert state_metrics.last_year_covered(far) == 2100
        finally:
            calendar.unset_day(date(2100, 10, 1))
            calendar.forget()
        this_year = calendar.china_now().year
        expected = this_year - 1
        while calendar.official_source(expected + 1) is not None:
            expected += 1
    state_metrics.refresh(app)
    assert value("yiwang_calendar_last_year_covered") == expected


def test_the_saturation_probe_reads_the_pool_and_times_a_redis_ping(app, make_app):
    probe_saturation(app)
    assert value("yiwang_db_pool_max_connections") == app.config["DB_POOL_SIZE"]
    assert value("yiwang_db_pool_connections", state="in_use") is not None
    assert value("yiwang_redis_up") == 1
    assert 0 < value("yiwang_redis_ping_seconds") < 5
    probe_saturation(make_app(REDIS_URL="redis://127.0.0.1:1/0"))
    assert value("yiwang_redis_up") == 0
    TALLY.every("saturation", PROBE_EVERY, lambda: probe_saturation(app))  # the broken app's probe replaced
    probe_saturation(app)
    assert value("yiwang_redis_up") == 1


def test_the_workers_listener_serves_its_gauges(app, monkeypatch):
    port = free_port()
    monkeypatch.setenv("METRICS_PORT", str(port))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    state_metrics.refresh(app, notify_metrics.STATE_SOURCES)
    server, thread = state_metrics.serve_listener("127.0.0.1")
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "yiwang_outbox_pending_messages" in text and "yiwang_calendar_last_year_covered" in text
        assert state_metrics.serve_listener("127.0.0.1") is None  # the port taken: no second listener, no crash
    finally:
        server.shutdown()
        thread.join(timeout=5)
    monkeypatch.setenv("METRICS_PORT", "0")
    assert state_metrics.serve_listener() is None


# --- the multi-process exposition ----------------------------------------------------------------

_CHILD = r"""
import json, os, sys
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from app import business_metrics, state_metrics
from app.health import PROBE_EVERY, probe_saturation
from app.crypto.ca import ensure_platform_ca
from app.crypto.sm2 import SM2PrivateKey
from app.db import db
from app.request_metrics import TALLY
from notify import metrics as notify_metrics
from wsgi import app  # the production entry point, configured by the environment
ensure_platform_ca(app)
with app.app_context(), db.connection_context():
    from app.crypto import platform_keys
    platform_keys.current("tsa")
key = SM2PrivateKey.generate()
key.public_key().verify(key.sign(b"x"), b"x")
notify_metrics.count("fcm", "quota_wait", quota=True)
state_metrics.refresh(app, notify_metrics.STATE_SOURCES)
probe_saturation(app)
business_metrics.gauge("yiwang_sse_connections").set(0)
TALLY.flush()
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
print(generate_latest(registry).decode())
"""


def test_a_multi_process_exposition_holds_every_name_of_the_contract(app, base_config, tmp_path):
    """The API's /metrics under granian/gunicorn adds up the directory: each contract name must be in it
    (`app`: the schema exists, and the rows the child writes are emptied afterwards)."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "STREAM_MAX_PER_PROCESS"}
    env.update({**{k: str(v) for k, v in base_config.items() if v is not None},
                "PROMETHEUS_MULTIPROC_DIR": str(directory), "AUTO_MIGRATE": "0", "LOG_LEVEL": "WARNING"})
    done = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    names = {line.split("{")[0].split(" ")[0] for line in done.stdout.splitlines() if line and line[0] != "#"}
    missing = [name for name in business_metrics.CONTRACT if name not in names]
    assert not missing, missing
    assert list(directory.glob("gauge_livesum_*.db")) and list(directory.glob("gauge_mostrecent_*.db"))
