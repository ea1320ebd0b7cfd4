"""Health probes, the Redis-down answers and metrics (internal listener only)."""
from __future__ import annotations

import runpy
import secrets
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

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
