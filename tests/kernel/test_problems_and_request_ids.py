"""Problem+json for every kind of failure, and request ids (echoed, generated, logged, masked)."""
from __future__ import annotations

import re

import pytest

from app.logs import mask_text
from tests.helpers import assert_problem

CJK = re.compile(r"[\u4e00-\u9fff]")
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


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


def test_an_id_number_or_phone_in_a_path_is_masked_in_the_request_log(client, logs_without_personal_data):
    """A client may send personal data where an id goes; the request log line must not keep it
    (the autouse log check fails this test otherwise), for every handler, not only the JSON one."""
    for path in ("/api/v1/issuer/licences/340102199003071232", "/api/v1/wallet/licences/13912345678"):
        assert client.get(path).status_code == 401
    logged = [line for line in logs_without_personal_data.lines if "/api/v1/" in line]
    assert any("3401**********1232" in line for line in logged), logged
    assert any("139****5678" in line for line in logged), logged
