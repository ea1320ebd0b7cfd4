"""Issue 21: `yiwang_logins_total{method, result}` moves once per login answer — "ok", or the refusal's
problem code — counted from the route (app/business_metrics.py ROUTES) through the request tally."""
from __future__ import annotations

from prometheus_client import REGISTRY

from app.request_metrics import TALLY
from tests import vectors
from tests.helpers import bearer


def logins(method: str, result: str) -> float:
    TALLY.flush()  # the tally writes at most once a second
    return REGISTRY.get_sample_value("yiwang_logins_total", {"method": method, "result": result}) or 0.0


def test_sms_and_refresh_logins_count_ok_and_each_refusal_by_its_code(client, login_citizen):
    ok, refresh_ok = logins("sms", "ok"), logins("refresh", "ok")
    tokens = login_citizen()
    assert logins("sms", "ok") == ok + 1
    wrong = client.post("/api/v1/auth/login", json={"phone": vectors.PHONES[0], "code": "000000"})
    code = wrong.get_json()["code"]
    assert wrong.status_code >= 400 and code != "validation_failed"
    before = logins("sms", code)
    client.post("/api/v1/auth/login", json={"phone": vectors.PHONES[0], "code": "000001"})
    assert logins("sms", code) == before + 1
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 200
    assert logins("refresh", "ok") == refresh_ok + 1
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert refused.status_code in (400, 401) and logins("refresh", refused.get_json()["code"]) >= 1


def test_the_registry_check_counts_as_a_login_method(client, verified_citizen, login_citizen):
    ok = logins("registry", "ok")
    verified_citizen(vectors.ZHANG_SAN)
    assert logins("registry", "ok") == ok + 1
    tokens = login_citizen(vectors.PHONES[1])
    refused = client.post("/api/v1/me/real-name", json={"name": "王五", "id_number": vectors.ZHANG_SAN[1]},
                          headers=bearer(tokens["access_token"]))
    assert refused.status_code >= 400
    assert logins("registry", refused.get_json()["code"]) >= 1


def test_staff_wechat_and_ncid_refusals_are_counted(client):
    for path, method in (("/api/v1/auth/staff-login", "staff"), ("/api/v1/auth/wechat", "wechat"),
                         ("/api/v1/auth/ncid/login", "ncid")):
        before = logins(method, "validation_failed")
        assert client.post(path, json={}).status_code == 422
        assert logins(method, "validation_failed") == before + 1, method
    before = logins("staff", "ok")
    client.post("/api/v1/auth/staff-login", json={"username": "nobody", "password": "Wrong#Password1"})
    assert logins("staff", "ok") == before  # a refusal is not an ok
