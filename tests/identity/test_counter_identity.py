"""The counter's in-person identity check (issue 19 WP1): the only way to L4 besides 网证. A citizen
shows a one-time 8-digit code; a clerk enters it after checking the person. Refused: a citizen
below L3, an unknown / expired / used code, a caller who is not a clerk."""
from __future__ import annotations

import pytest

from app.audit import AuditEvent
from identity.models import AssuranceEvent, User
from tests import vectors
from tests.helpers import assert_problem, bearer, fresh_liveness, rows

CODES = "/api/v1/me/identity-codes"
CHECKS = "/api/v1/counter/identity-checks"
PASSWORD = "Counter-Pass-2026!"


@pytest.fixture
def staff(client, runner):
    def make(username: str, role: str = "counter") -> dict:
        args = ["staff", "create", "--username", username, "--password", PASSWORD, "--role", role]
        out = runner.invoke(args=args + (["--hall", "H1"] if role == "counter" else []))
        assert "created" in out.output, out.output
        response = client.post("/api/v1/auth/staff-login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    return make


@pytest.fixture
def l3_citizen(client, verified_citizen):
    tokens = verified_citizen(vectors.ZHANG_SAN)
    headers = bearer(tokens["access_token"])
    session_id = fresh_liveness(client, tokens["access_token"])
    assert client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=headers).status_code == 200
    return tokens


def new_code(client, headers) -> str:
    response = client.post(CODES, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["expires_in"] == 300 and len(body["code"]) == 8 and body["code"].isdigit()
    return body["code"]


def test_clerk_check_gives_l4_once_and_is_audited(client, app, staff, l3_citizen):
    clerk = staff("clerk.one")
    headers = bearer(l3_citizen["access_token"])
    code = new_code(client, headers)
    response = client.post(CHECKS, json={"code": code}, headers=clerk)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["level"] == "L4" and body["user"]["id"] == l3_citizen["user"]["id"]
    assert body["user"]["name_masked"] == "张*" and "*" in body["user"]["id_number_masked"]
    assert client.get("/api/v1/me/assurance", headers=headers).get_json()["level"] == "L4"
    user_id = l3_citizen["user"]["id"]
    assert [e.level for e in rows(app, AssuranceEvent, AssuranceEvent.user_id == user_id,
                                  AssuranceEvent.method == "counter")] == [4]
    assert rows(app, User, User.id == user_id)[0].assurance_level == 4
    audit = rows(app, AuditEvent, AuditEvent.action == "identity.counter_check", AuditEvent.outcome == "success")
    assert [(a.actor_kind, a.target) for a in audit] == [("staff", user_id)]
    assert audit[0].actor_id != user_id and audit[0].actor_id
    # used: the same code again is refused
    assert_problem(client.post(CHECKS, json={"code": code}, headers=clerk), 404, "identity_code_invalid")


def test_citizen_below_l3_is_refused(client, app, staff, verified_citizen):
    clerk = staff("clerk.two")
    tokens = verified_citizen(vectors.ZHANG_SAN)
    code = new_code(client, bearer(tokens["access_token"]))
    body = assert_problem(client.post(CHECKS, json={"code": code}, headers=clerk), 403, "assurance_level_insufficient")
    assert (body["required_level"], body["current_level"]) == ("L3", "L2")
    assert client.get("/api/v1/me/assurance", headers=bearer(tokens["access_token"])).get_json()["level"] == "L2"
    assert not rows(app, AssuranceEvent, AssuranceEvent.method == "counter")


def test_unknown_and_expired_codes_are_refused(client, app, staff, l3_citizen):
    clerk = staff("clerk.three")
    code = new_code(client, bearer(l3_citizen["access_token"]))
    other = f"{(int(code) + 1) % 10**8:08d}"
    assert_problem(client.post(CHECKS, json={"code": other}, headers=clerk), 404, "identity_code_invalid")
    app.extensions["redis"].delete(f"identity-code:{code}")  # what its 300 s TTL does
    assert_problem(client.post(CHECKS, json={"code": code}, headers=clerk), 404, "identity_code_invalid")
    assert_problem(client.post(CHECKS, json={"code": "1234"}, headers=clerk), 422)
    assert not rows(app, AssuranceEvent, AssuranceEvent.method == "counter")
    refused = rows(app, AuditEvent, AuditEvent.action == "identity.counter_check", AuditEvent.outcome == "refused")
    assert len(refused) == 2


def test_code_expires_after_300_seconds(client, app, l3_citizen):
    code = new_code(client, bearer(l3_citizen["access_token"]))
    assert 295 <= app.extensions["redis"].ttl(f"identity-code:{code}") <= 300


def test_only_clerks_may_check(client, staff, l3_citizen, login_citizen):
    code = new_code(client, bearer(l3_citizen["access_token"]))
    admin = staff("admin.one", role="admin")
    assert_problem(client.post(CHECKS, json={"code": code}, headers=admin), 403)
    another = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    assert_problem(client.post(CHECKS, json={"code": code}, headers=another), 403)
    assert_problem(client.post(CHECKS, json={"code": code}, headers=bearer(l3_citizen["access_token"])), 403)
    assert client.post(CHECKS, json={"code": code}).status_code == 401
    clerk = staff("clerk.four")
    assert client.post(CHECKS, json={"code": code}, headers=clerk).status_code == 201  # not spent by refusals
