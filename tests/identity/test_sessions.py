"""Sessions and rotating refresh tokens: rotation, reuse detection, the grace window, logout."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import jwt
import pytest

from app.audit import AuditEvent
from app.db import db, utcnow
from identity import sessions
from identity.models import AuthSession, RefreshToken, StaffUser
from tests import vectors
from tests.helpers import assert_problem, bearer, latest_code, rows

ME = "/api/v1/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def login(client, phone: str = vectors.PHONES[0]) -> dict:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    response = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})




def audit_actions(app, action: str):
    return rows(app, AuditEvent, AuditEvent.action == action)


def session_id(access_token: str) -> str:
    return jwt.decode(access_token, options={"verify_signature": False})["sid"]


@pytest.fixture
def strict_app(make_app):
    """No grace window: any second presentation of a spent refresh token is reuse."""
    return make_app(REFRESH_REUSE_GRACE=0)


# --- rotation ----------------------------------------------------------------------------------

def test_refresh_returns_a_new_pair_in_the_login_shape(client, login_citizen):
    tokens = login_citizen()
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    assert body["access_token"] != tokens["access_token"]
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["user"]["id"] == tokens["user"]["id"]
    assert body["user"]["phone_masked"] == "138****8000"
    # same session, and the new access token works
    assert session_id(body["access_token"]) == session_id(tokens["access_token"])
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200


def test_refresh_tokens_are_stored_hashed_and_expire_after_the_ttl(make_app):
    app = make_app(REFRESH_TOKEN_TTL=3600)
    tokens = login(app.test_client())
    (row,) = rows(app, RefreshToken)
    assert row.token_hash != tokens["refresh_token"]
    assert tokens["refresh_token"] not in row.token_hash
    assert timedelta(seconds=3590) < row.expires_at - row.created_at <= timedelta(seconds=3600)
    assert row.used_at is None


def test_rotated_refresh_token_is_spent(client, login_citizen):
    first = login_citizen()["refresh_token"]
    second = refresh(client, first).get_json()["refresh_token"]
    third = refresh(client, second)
    assert third.status_code == 200  # the client carried on with its new token
    assert_problem(refresh(client, first), 401, "refresh_token_reused")


def test_spent_refresh_token_is_refused_without_grace(strict_app):
    client = strict_app.test_client()
    tokens = login(client)
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")


# --- reuse detection --------------------------------------------------------------------------

def test_reuse_after_grace_revokes_the_whole_family(strict_app):
    client = strict_app.test_client()
    tokens = login(client)
    other_user = login(client, vectors.PHONES[1])  # an unrelated session stays untouched
    rotated = refresh(client, tokens["refresh_token"]).get_json()
    assert client.get(ME, headers=bearer(rotated["access_token"])).status_code == 200

    body = assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")
    assert body["session_revoked"] is True

    # the newest refresh token of the family is dead, and so are its access tokens
    assert_problem(refresh(client, rotated["refresh_token"]), 401, "refresh_token_invalid")
    assert_problem(client.get(ME, headers=bearer(rotated["access_token"])), 401, "token_invalid")
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "token_invalid")

    # the other session carries on
    assert client.get(ME, headers=bearer(other_user["access_token"])).status_code == 200
    assert refresh(client, other_user["refresh_token"]).status_code == 200

    sid = session_id(tokens["access_token"])
    (session,) = rows(strict_app, AuthSession, AuthSession.id == sid)
    assert session.revoked_at is not None and session.revoked_reason == "refresh_reuse"
    events = audit_actions(strict_app, "auth.refresh_reuse")
    assert len(events) == 1
    assert events[0].target == sid
    assert events[0].actor_id == tokens["user"]["id"]
    assert events[0].outcome == "refused"


def test_reuse_detection_revokes_on_a_fresh_deployment_too(strict_app, make_app):
    """The revocation of access tokens is shared state (Redis), not one process's memory."""
    client = strict_app.test_client()
    tokens = login(client)
    rotated = refresh(client, tokens["refresh_token"]).get_json()
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")
    other_process = make_app(REFRESH_REUSE_GRACE=0).test_client()
    assert_problem(other_process.get(ME, headers=bearer(rotated["access_token"])), 401, "token_invalid")


# --- the grace window (lost responses) ---------------------------------------------------------

def test_lost_response_within_grace_gets_a_working_pair_and_the_orphan_is_refused(client, app, login_citizen):
    tokens = login_citizen()
    lost = refresh(client, tokens["refresh_token"]).get_json()  # the client never saw this answer
    retry = refresh(client, tokens["refresh_token"])
    assert retry.status_code == 200, retry.get_json()
    pair = retry.get_json()
    assert pair["refresh_token"] not in (lost["refresh_token"], tokens["refresh_token"])
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    # the client carries on with the pair it received
    carried_on = refresh(client, pair["refresh_token"])
    assert carried_on.status_code == 200

    # the orphaned successor was never delivered: whoever presents it is not the client
    assert_problem(refresh(client, lost["refresh_token"]), 401, "refresh_token_reused")
    assert len(audit_actions(app, "auth.refresh_reuse")) == 1


def test_grace_is_granted_only_once(client, login_citizen):
    tokens = login_citizen()
    refresh(client, tokens["refresh_token"])  # lost
    second = refresh(client, tokens["refresh_token"]).get_json()  # retried: granted
    assert refresh(client, second["refresh_token"]).status_code == 200  # successor used
    # the old token again: its successor was used, so this is reuse, not a lost response
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")


def test_reuse_past_the_grace_window_is_detected(client, app, login_citizen):
    tokens = login_citizen()
    refresh(client, tokens["refresh_token"])  # lost response, successor unused
    with app.app_context(), db.connection_context():  # the retry comes 31 s later
        RefreshToken.update(used_at=utcnow() - timedelta(seconds=app.config["REFRESH_REUSE_GRACE"] + 1)).where(
            RefreshToken.used_at.is_null(False)).execute()
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")


# --- concurrency ---------------------------------------------------------------------------------

def test_concurrent_refresh_of_one_token_succeeds_exactly_once(strict_app):
    tokens = login(strict_app.test_client())
    clients = [strict_app.test_client() for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def attempt(c):
        barrier.wait()
        response = refresh(c, tokens["refresh_token"])
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    statuses = Counter(status for status, _ in results)
    assert len(results) == 8
    assert statuses[200] == 1, results
    assert statuses[401] == 7, results
    assert {body["code"] for status, body in results if status == 401} <= {"refresh_token_reused",
                                                                           "refresh_token_invalid"}


def test_without_grace_a_request_that_started_before_the_winner_still_loses(strict_app, monkeypatch):
    """The deterministic form of the race above: the losing request read the clock before the winning
    request marked the token used, then ran after it."""
    client = strict_app.test_client()
    tokens = login(client)
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # the winner
    real_utcnow = sessions.utcnow
    monkeypatch.setattr(sessions, "utcnow", lambda: real_utcnow() - timedelta(milliseconds=500))
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")


# --- logout ----------------------------------------------------------------------------------

def test_logout_ends_access_and_refresh_tokens(app, client, login_citizen):
    tokens = login_citizen()
    other = login_citizen(vectors.PHONES[1])
    response = client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert response.data == b""

    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "token_invalid")
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_invalid")
    assert_problem(client.post(LOGOUT, headers=bearer(tokens["access_token"])), 401, "token_invalid")
    # other sessions are not affected
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200

    events = audit_actions(app, "auth.logout")
    assert len(events) == 1
    assert events[0].target == session_id(tokens["access_token"])
    assert events[0].actor_id == tokens["user"]["id"]


def test_logout_also_ends_tokens_rotated_from_the_session(client, login_citizen):
    tokens = login_citizen()
    rotated = refresh(client, tokens["refresh_token"]).get_json()
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    assert_problem(client.get(ME, headers=bearer(rotated["access_token"])), 401, "token_invalid")
    assert_problem(refresh(client, rotated["refresh_token"]), 401, "refresh_token_invalid")


def test_logout_needs_a_token(client):
    assert_problem(client.post(LOGOUT), 401, "unauthorized")


def test_machine_client_cannot_log_out(client, machine_token):
    assert_problem(client.post(LOGOUT, headers=bearer(machine_token())), 403, "forbidden")


# --- invalid refresh tokens ------------------------------------------------------------------

@pytest.mark.parametrize("garbage", ["garbage", "x" * 200, "eyJhbGciOiJFZERTQSJ9.e30.sig"])
def test_garbage_refresh_token(client, garbage):
    assert_problem(refresh(client, garbage), 401, "refresh_token_invalid")


def test_access_token_is_not_a_refresh_token(client, login_citizen):
    tokens = login_citizen()
    response = refresh(client, tokens["access_token"])
    assert response.status_code in (401, 422)
    assert response.get_json()["code"] in ("refresh_token_invalid", "validation_failed")


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": 12}])
def test_refresh_validation(client, body):
    body = assert_problem(client.post(REFRESH, json=body), 422, "validation_failed")
    assert "refresh_token" in body["errors"]


def test_expired_refresh_token(app, client, login_citizen):
    tokens = login_citizen()
    with app.app_context(), db.connection_context():
        RefreshToken.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_invalid")


# --- staff sessions --------------------------------------------------------------------------

@pytest.fixture
def clerk(client, runner):
    result = runner.invoke(args=["staff", "create", "--username", "clerk.wang", "--password", "Counter-Pass-2024",
                                 "--role", "counter", "--hall", "HF-YH-01"])
    assert result.exit_code == 0, result.output
    response = client.post("/api/v1/auth/staff-login", json={"username": "clerk.wang",
                                                               "password": "Counter-Pass-2024"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_staff_refresh_keeps_role_and_hall(client, clerk):
    response = refresh(client, clerk["refresh_token"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert "user" not in body
    assert body["staff"]["role"] == "clerk" and body["staff"]["hall_code"] == "HF-YH-01"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["kind"], claims["role"], claims["hall"]) == ("staff", "clerk", "HF-YH-01")
    assert claims["sid"] == session_id(clerk["access_token"])


def test_disabled_staff_cannot_refresh(app, client, clerk):
    with app.app_context(), db.connection_context():
        StaffUser.update(disabled=True).execute()
    assert_problem(refresh(client, clerk["refresh_token"]), 401, "refresh_token_invalid")


def test_staff_logout(app, client, clerk):
    assert client.post(LOGOUT, headers=bearer(clerk["access_token"])).status_code == 204
    assert_problem(refresh(client, clerk["refresh_token"]), 401, "refresh_token_invalid")
    events = audit_actions(app, "auth.logout")
    assert [(e.actor_kind, e.actor_id) for e in events] == [("staff", clerk["staff"]["id"])]
