"""Staff accounts: the CLI, password login, its limits and backoffs."""
from __future__ import annotations

import time

import jwt
import pytest
from prometheus_client import REGISTRY

from app import ratelimit
from app.audit import AuditEvent
from app.db import db
from app.security.passwords import verification_slot
from identity import staff
from identity.models import StaffUser
from tests.helpers import assert_problem, bearer, rows

STAFF_LOGIN = "/api/v1/auth/staff-login"
TOKEN = "/api/v1/oauth/token"
PASSWORD = "Counter-Pass-2024"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def create_staff(runner, username="clerk.wang", password=PASSWORD, role="counter", hall="HF-YH-01"):
    args = ["staff", "create", "--username", username, "--password", password, "--role", role]
    if hall:
        args += ["--hall", hall]
    return runner.invoke(args=args)


def staff_login(client, username="clerk.wang", password=PASSWORD):
    return client.post(STAFF_LOGIN, json={"username": username, "password": password})


@pytest.fixture
def clerk(runner):
    result = create_staff(runner)
    assert result.exit_code == 0, result.output
    return result


# --- flask staff create ------------------------------------------------------------------------

def test_staff_create_stores_a_counter_clerk_as_clerk_with_a_hashed_password(app, runner):
    result = create_staff(runner, username="Clerk.Wang")
    assert result.exit_code == 0, result.output
    assert "clerk.wang" in result.output and "(clerk)" in result.output
    (row,) = rows(app, StaffUser)
    assert (row.username, row.role, row.hall_code) == ("clerk.wang", "clerk", "HF-YH-01")
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert not row.disabled


@pytest.mark.parametrize("password", ["short-A1", "alllowercaseletters", "NoDigitsOrSymbolsHere", "123456789012"])
def test_staff_create_refuses_a_weak_password(app, runner, password):
    result = create_staff(runner, password=password)
    assert result.exit_code != 0
    assert "密码强度不足" in result.output
    assert "password" in result.output
    assert password not in result.output  # the refused password is not echoed back
    assert rows(app, StaffUser) == []


def test_staff_create_refuses_a_clerk_without_a_hall(app, runner):
    for role in ("counter", "clerk"):
        result = create_staff(runner, role=role, hall=None)
        assert result.exit_code != 0
        assert "hall" in result.output
    assert rows(app, StaffUser) == []


def test_staff_create_admin_has_no_hall(app, runner):
    result = create_staff(runner, username="admin.li", role="admin", hall="HF-YH-01")
    assert result.exit_code == 0, result.output
    (row,) = rows(app, StaffUser)
    assert (row.role, row.hall_code) == ("admin", None)


@pytest.mark.parametrize("role", ["root", "superuser", ""])
def test_staff_create_refuses_unknown_roles(app, runner, role):
    assert create_staff(runner, role=role).exit_code != 0
    assert rows(app, StaffUser) == []


def test_staff_create_refuses_a_taken_username(app, runner, clerk):
    result = create_staff(runner, username="CLERK.WANG", password="Another-Pass-2025")
    assert result.exit_code != 0
    assert "用户名已存在" in result.output
    assert len(rows(app, StaffUser)) == 1


def test_staff_create_audits(app, runner, clerk):
    (staff,) = rows(app, StaffUser)
    (event,) = rows(app, AuditEvent, AuditEvent.action == "staff.create")
    assert event.target == staff.id
    assert PASSWORD not in (event.details or "")


# --- staff login -------------------------------------------------------------------------------

def test_staff_login_returns_tokens_and_the_staff_profile(app, client, clerk):
    response = staff_login(client, username="  Clerk.Wang ")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"] and body["refresh_token"]
    assert body["staff"]["role"] == "clerk"
    assert body["staff"]["hall_code"] == "HF-YH-01"
    assert body["staff"]["username"] == "clerk.wang"
    assert "password" not in body["staff"] and "password_hash" not in body["staff"]
    claims = claims_of(body["access_token"])
    assert (claims["kind"], claims["sub"], claims["role"], claims["hall"]) == (
        "staff", body["staff"]["id"], "clerk", "HF-YH-01")
    assert claims["sid"]


def test_staff_token_is_forbidden_on_citizen_endpoints(client, clerk):
    token = staff_login(client).get_json()["access_token"]
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 403, "forbidden")


def test_wrong_password_and_unknown_user_look_the_same(app, client, clerk):
    started = time.perf_counter()
    wrong = staff_login(client, password=PASSWORD + "x")
    wrong_took = time.perf_counter() - started
    started = time.perf_counter()
    unknown = staff_login(client, username="nobody.here")
    unknown_took = time.perf_counter() - started

    wrong_body = assert_problem(wrong, 401, "credentials_invalid")
    unknown_body = assert_problem(unknown, 401, "credentials_invalid")
    assert wrong_body["detail"] == unknown_body["detail"]
    assert wrong_body.keys() == unknown_body.keys()
    # both paths ran an Argon2 verification (tens of milliseconds), not a quick lookup miss
    assert wrong_took > 0.02
    assert unknown_took > 0.02


def test_staff_login_validation(client):
    body = assert_problem(client.post(STAFF_LOGIN, json={"username": "clerk.wang"}), 422, "validation_failed")
    assert "password" in body["errors"]
    body = assert_problem(client.post(STAFF_LOGIN, json={}), 422, "validation_failed")
    assert {"username", "password"} <= set(body["errors"])


WRONG = "Wrong-Pass-2024"


def login_from(client, ip, username="clerk.wang", password=PASSWORD):
    return client.post(STAFF_LOGIN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock for the login backoffs (app.ratelimit.now_ms); `clock.advance(seconds)`."""
    class Clock:
        ms = 1_800_000_000_000

        def advance(self, seconds: float) -> None:
            self.ms += int(seconds * 1000)

    frozen = Clock()
    monkeypatch.setattr(ratelimit, "now_ms", lambda: frozen.ms)
    return frozen


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_failures_slow_the_pair_down_progressively_and_never_lock_the_clerk_out(app, client, clerk, clock):
    """Issue 14 item 7: five wrong passwords used to lock the username for 15 minutes for everyone,
    even with the right password. Now the (username, address) pair waits longer after each failure
    (429 with a growing Retry-After), the right password from another address gets in at once, and
    the pair itself gets in once its wait is over."""
    free = app.config["STAFF_PAIR_FREE_FAILURES"]
    for _ in range(free + 1):
        assert_problem(login_from(client, "203.0.113.9", password=WRONG), 401, "credentials_invalid")
    waits = []
    for _ in range(3):
        refused = login_from(client, "203.0.113.9")  # even the right password waits its turn
        body = assert_problem(refused, 429, "login_throttled")
        waits.append(int(refused.headers["Retry-After"]))
        assert body["retry_after"] == waits[-1]
        clock.advance(waits[-1])
        assert_problem(login_from(client, "203.0.113.9", password=WRONG), 401, "credentials_invalid")
    assert waits == [2, 4, 8]
    elsewhere = login_from(client, "198.51.100.7")
    assert elsewhere.status_code == 200, elsewhere.get_json()
    clock.advance(16)
    back = login_from(client, "203.0.113.9")
    assert back.status_code == 200, back.get_json()
    # a success forgets the pair's failures: one typo afterwards costs no wait
    assert_problem(login_from(client, "203.0.113.9", password=WRONG), 401, "credentials_invalid")
    assert login_from(client, "203.0.113.9").status_code == 200


def test_a_throttle_raises_an_alert(app, client, clerk, clock, caplog):
    """Issue 14 item 7: a throttle starting is logged at WARNING, counted for an alert rule
    (yiwang_staff_login_throttled_total) and written to the audit trail, for an unknown username too."""
    before = counter("yiwang_staff_login_throttled_total", scope="pair")
    free = app.config["STAFF_PAIR_FREE_FAILURES"]
    for username in ("clerk.wang", "nobody.here"):
        for _ in range(free + 1):
            assert_problem(login_from(client, "203.0.113.10", username=username, password=WRONG), 401,
                           "credentials_invalid")
        assert_problem(login_from(client, "203.0.113.10", username=username), 429, "login_throttled")
    assert counter("yiwang_staff_login_throttled_total", scope="pair") == before + 2
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.getMessage() == "staff login throttled"]
    assert len(warnings) == 2 and all(r.scope == "pair" for r in warnings)
    assert not any("nobody.here" in str(vars(r)) or WRONG in str(vars(r)) for r in warnings)
    (staff,) = rows(app, StaffUser)
    events = rows(app, AuditEvent, AuditEvent.action == "auth.login.staff.throttled")
    assert sorted(e.target or "" for e in events) == sorted(["", staff.id])


def test_the_username_slows_down_across_addresses_but_never_locks(make_app, clock):
    """Issue 14 item 7: failures for one username from many addresses (each under the pair's
    threshold) slow that username down, with a wait capped at STAFF_USER_BACKOFF_MAX_SECONDS: the
    clerk waits at most that long, never a lockout."""
    app = make_app(STAFF_USER_FREE_FAILURES=5)
    client = app.test_client()
    assert create_staff(app.test_cli_runner()).exit_code == 0
    cap = app.config["STAFF_USER_BACKOFF_MAX_SECONDS"]
    for n in range(5):
        assert_problem(login_from(client, f"192.0.2.{n}", password=WRONG), 401, "credentials_invalid")
    assert_problem(login_from(client, "192.0.2.50", password=WRONG), 401, "credentials_invalid")  # wait starts
    waits = []
    for n in range(8):
        refused = login_from(client, "192.0.2.99")
        assert_problem(refused, 429, "login_throttled")
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert_problem(login_from(client, f"192.0.2.{60 + n}", password=WRONG), 401, "credentials_invalid")
    assert waits == sorted(waits) and waits[0] == 2 and max(waits) == cap
    clock.advance(cap)
    answer = login_from(client, "192.0.2.99")
    assert answer.status_code == 200, answer.get_json()


def test_address_rate_is_limited_before_any_password_hashing(make_app, monkeypatch):
    """Issue 14 item 4: every attempt ran Argon2id (~0.2 s CPU) without a per-address limit. Now the
    address's attempts per minute are counted in Redis first; beyond them no hash is computed."""
    app = make_app(STAFF_LOGIN_PER_IP_MINUTE=3)
    client = app.test_client()
    assert create_staff(app.test_cli_runner()).exit_code == 0
    hashed = []
    real = staff.verify_password
    monkeypatch.setattr(staff, "verify_password", lambda *a: hashed.append(1) or real(*a))
    before = counter("yiwang_staff_login_refused_total", reason="rate_limited")
    for n in range(3):
        assert_problem(login_from(client, "203.0.113.20", username=f"guess.{n}", password=WRONG), 401)
    refused = login_from(client, "203.0.113.20")
    body = assert_problem(refused, 429, "login_rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and body["retry_after"]
    assert len(hashed) == 3
    assert counter("yiwang_staff_login_refused_total", reason="rate_limited") == before + 1
    assert login_from(client, "203.0.113.21").status_code == 200


def test_deployment_wide_login_rate_is_limited(make_app, monkeypatch):
    """Issue 14 item 4: a global cap per minute holds however many addresses the attempts come from."""
    app = make_app(STAFF_LOGIN_PER_MINUTE=4)
    client = app.test_client()
    hashed = []
    monkeypatch.setattr(staff, "verify_password", lambda *a: hashed.append(1) and False)
    for n in range(4):
        assert_problem(login_from(client, f"198.51.100.{n}", password=WRONG), 401)
    assert_problem(login_from(client, "198.51.100.200", password=WRONG), 429, "login_rate_limited")
    assert len(hashed) == 4


def test_concurrent_password_checks_are_capped_per_process(make_app):
    """Issue 14 item 4: at most STAFF_HASH_CONCURRENCY Argon2 verifications run at once in a process;
    one more is answered 503 `login_busy` with Retry-After at once instead of queueing CPU work."""
    app = make_app(STAFF_HASH_CONCURRENCY=1)
    client = app.test_client()
    assert create_staff(app.test_cli_runner()).exit_code == 0
    with verification_slot(1) as held:  # another request's verification in progress
        assert held
        busy = login_from(client, "203.0.113.30")
        assert_problem(busy, 503, "login_busy")
        assert busy.headers["Retry-After"] == "1"
    assert login_from(client, "203.0.113.30").status_code == 200


def test_disabled_staff_cannot_log_in(app, client, clerk):
    with app.app_context(), db.connection_context():
        StaffUser.update(disabled=True).execute()
    assert_problem(staff_login(client), 401, "credentials_invalid")
