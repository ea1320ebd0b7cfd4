"""Health probes, the Redis-down answers and metrics (internal listener only)."""
from __future__ import annotations

import os
import time
import runpy
import secrets
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.server import GunicornServer, free_port
from tests.helpers import assert_problem

# --- Health and metrics --------------------------------------------------------------------------

def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["checks"] == {"database": "ok", "redis": "ok"}
    assert body["status"] == "ready"


def test_readyz_503_when_redis_unreachable(app, make_app):
    broken = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["redis"] != "ok"
    assert body["checks"]["database"] == "ok"
    assert body["status"] != "ready"


def test_api_answers_503_problem_when_redis_is_down(app, make_app):
    broken = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = broken.test_client().post("/api/v1/auth/sms-codes", json={"phone": "13800138000"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_dev_outbox_absent_when_sms_goes_to_a_gateway(app, make_app):
    gateway = make_app(SMS_BACKEND="aliyun", SMS_ENDPOINT="http://127.0.0.1:1/", SMS_ACCESS_KEY_ID="id",
                       SMS_ACCESS_KEY_SECRET="secret", SMS_SIGN_NAME="一网", SMS_TEMPLATE_CODE="SMS_1")
    response = gateway.test_client().get("/api/v1/dev/sms-outbox")
    assert response.status_code == 404
    assert response.get_json()["code"] == "sms_outbox_not_in_use"


INTERNAL = "http://localhost:9100"  # the metrics listener (METRICS_PORT)


def _samples(client, name: str) -> dict:
    text = client.get("/metrics", base_url=INTERNAL).get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_count_requests_per_endpoint(client):
    label = (("endpoint", "/api/v1/auth/sms-codes"), ("method", "POST"), ("status", "202"))
    before = _samples(client, "yiwang_http_requests_total").get(label, 0.0)
    assert client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"}).status_code == 202
    response = client.get("/metrics", base_url=INTERNAL)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "yiwang_http_requests_total" in response.get_data(as_text=True)
    after = _samples(client, "yiwang_http_requests_total")
    assert after[label] == before + 1
    buckets = _samples(client, "yiwang_http_request_duration_seconds_bucket")
    ours = {dict(k)["le"]: v for k, v in buckets.items()
            if dict(k).get("endpoint") == "/api/v1/auth/sms-codes" and dict(k)["method"] == "POST"}
    assert ours and ours["+Inf"] >= 1
    # Unmatched paths share one label instead of one series per random URL.
    client.get("/api/v1/random-" + secrets.token_hex(4))
    endpoints = {dict(k)["endpoint"] for k in _samples(client, "yiwang_http_requests_total")}
    assert "<unmatched>" in endpoints and not any(e.startswith("/api/v1/random-") for e in endpoints)


def test_metrics_answer_only_on_the_internal_listener(app, client):
    """Issue 14 item 9: /metrics was public on the API port, which the Ingress routes to the internet.
    On any port but METRICS_PORT it is the 404 of an unknown path; on that port, the samples."""
    assert app.config["METRICS_PORT"] == 9100
    for public in ("http://localhost", "http://api.example:8000", "https://api.example"):
        response = client.get("/metrics", base_url=public, headers={"Host": "localhost:9100",
                                                                    "X-Forwarded-Port": "9100"})
        assert_problem(response, 404, "not_found")
        assert "yiwang_http_requests_total" not in response.get_data(as_text=True)
    internal = client.get("/metrics", base_url=INTERNAL)
    assert internal.status_code == 200 and "yiwang_http_requests_total" in internal.get_data(as_text=True)


def test_gunicorn_binds_the_metrics_listener_beside_the_api(monkeypatch):
    """Issue 14 item 9: with METRICS_PORT set (the k8s ConfigMap), gunicorn listens on the public
    BIND and on the same host's metrics port; unset, on the public one only."""
    conf = str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")
    monkeypatch.setenv("BIND", "0.0.0.0:8000")
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert runpy.run_path(conf)["bind"] == ["0.0.0.0:8000", "0.0.0.0:9100"]
    monkeypatch.delenv("METRICS_PORT")
    assert runpy.run_path(conf)["bind"] == ["0.0.0.0:8000"]


@pytest.mark.slow
def test_metrics_under_gunicorn_add_up_every_worker(base_config, tmp_path):
    """/metrics under gunicorn is the sum of all workers: prometheus_client must run in multi-process
    mode, which it picks when first imported, so the master sets PROMETHEUS_MULTIPROC_DIR before it
    loads the app (importing the app imports prometheus_client). Each worker then writes its samples
    to files there, and a scrape that reaches either worker counts every request."""
    metrics_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "STREAM_MAX_PER_PROCESS")}
    env.update({**{k: str(v) for k, v in base_config.items()},  # an environment holds strings
                "VAR_DIR": str(tmp_path / "var"), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "1",
                "AUTO_MIGRATE": "0", "LOG_LEVEL": "WARNING", "NOTIFY_WORKER_IN_PROCESS": "0",
                "METRICS_PORT": str(metrics_port)})
    server = GunicornServer(name="metrics", conf="gunicorn.conf.py", app="wsgi:app", env=env,
                            log_path=str(tmp_path / "gunicorn.log"))
    server.start()
    try:
        sent = 30
        for _ in range(sent):
            assert requests.get(f"http://127.0.0.1:{server.port}/api/v1/openapi.json", timeout=10).status_code == 200
        assert list((tmp_path / "var" / "prometheus").glob("*.db")), "no worker wrote multi-process samples"

        def counted() -> tuple[float, str]:
            text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
            return sum(sample.value for family in text_string_to_metric_families(text)
                       if family.name == "yiwang_http_requests"
                       for sample in family.samples
                       if sample.name == "yiwang_http_requests_total"
                       and sample.labels.get("endpoint") == "/api/v1/openapi.json"), text

        # Each worker writes its tally at most once a second, the idle one from its flush thread
        # (app/request_metrics.py): within about two seconds every request is there.
        deadline = time.monotonic() + 5
        while counted()[0] != sent and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(4):  # whichever worker answers the scrape, it reports every worker's requests
            total, text = counted()
            assert total == sent, text[:2000]
    finally:
        server.stop()

