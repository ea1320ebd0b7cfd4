"""Step-up authentication (二次核验, identity/stepup.py): SMS codes bound to (user, purpose) and
a fresh face-liveness check. Pins issue 14 item 1: a bearer token alone is not proof enough for
revoking or enrolling cloud signing (or granting a proxy)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db, utcnow
from app.errors import AppError
from identity import stepup
from identity.stepup import require_fresh_liveness, verify_sms_step_up
from tests import vectors
from tests.helpers import assert_problem, bearer, fresh_liveness, latest_code, step_up_code

URL = "/api/v1/me/step-up/sms-codes"


@pytest.fixture
def call(app):
    """Run a service function as a request would (app context, a database connection)."""

    def run(func, **kwargs):
        with app.test_request_context(), db.connection_context():
            return func(**kwargs)

    return run


def _problem(call, status, code, func, /, **kwargs):
    with pytest.raises(AppError) as caught:
        call(func, **kwargs)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.detail_en and caught.value.detail
    return caught.value


def test_code_goes_to_the_bound_phone_and_passes_once(client, call, login_citizen):
    """Issue 14 item 1: the step-up code reaches the account's phone, and proves one operation only."""
    tokens = login_citizen()
    response = client.post(URL, json={"purpose": "signing"}, headers=bearer(tokens["access_token"]))
    assert response.status_code == 202
    body = response.get_json()
    assert body == {"expires_in": 300, "resend_after": 60, "phone_masked": tokens["user"]["phone_masked"]}
    code = latest_code(client, vectors.PHONES[0])
    user_id = tokens["user"]["id"]
    assert call(verify_sms_step_up, user_id=user_id, purpose="signing", code=code) is None
    error = _problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=user_id, purpose="signing", code=code)
    assert error.extra["reason"] == "expired"


def test_code_is_bound_to_its_user_and_purpose(client, call, login_citizen):
    """Issue 14 item 1: a signing code does not grant a proxy, and is nobody else's proof."""
    alice, bob = login_citizen(vectors.PHONES[0]), login_citizen(vectors.PHONES[1])
    code = step_up_code(client, alice["access_token"], "signing")
    _problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=alice["user"]["id"], purpose="proxy_grant",
             code=code)
    _problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=bob["user"]["id"], purpose="signing", code=code)
    call(verify_sms_step_up, user_id=alice["user"]["id"], purpose="signing", code=code)


def test_the_login_code_is_not_a_step_up_code(client, call, login_citizen):
    """Issue 14 item 1: possession of a login code (or its session) proves nothing for a step-up."""
    tokens = login_citizen()
    assert client.post("/api/v1/auth/sms-codes", json={"phone": vectors.PHONES[1]}).status_code == 202
    _problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=tokens["user"]["id"], purpose="signing",
             code=latest_code(client, vectors.PHONES[1]))


def test_five_wrong_codes_burn_the_code(client, call, login_citizen):
    """Issue 14 item 1: at most 5 wrong tries, then even the right code fails."""
    tokens = login_citizen()
    code = step_up_code(client, tokens["access_token"], "signing")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    user_id = tokens["user"]["id"]
    reasons = [_problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=user_id, purpose="signing",
                        code=wrong).extra["reason"] for _ in range(5)]
    assert reasons == ["wrong"] * 4 + ["attempts_exceeded"]
    _problem(call, 403, "step_up_failed", verify_sms_step_up, user_id=user_id, purpose="signing", code=code)


def test_code_lives_five_minutes(app, client, login_citizen):
    """Issue 14 item 1: the code expires after 5 minutes (its Redis key's life)."""
    tokens = login_citizen()
    step_up_code(client, tokens["access_token"], "signing")
    keys = [k for k in app.extensions["redis"].keys("sms:*stepup:signing*")]
    assert len(keys) == 1
    assert 290 <= app.extensions["redis"].ttl(keys[0]) <= 300


def test_request_is_checked_and_limited(client, login_citizen):
    """Issue 14 item 1: anonymous callers get 401, unknown purposes 422, a quick resend 429; a login
    code sent just before does not hold the step-up code back."""
    assert_problem(client.post(URL, json={"purpose": "signing"}), 401)
    tokens = login_citizen()
    headers = bearer(tokens["access_token"])
    assert_problem(client.post(URL, json={"purpose": "anything"}, headers=headers), 422, "validation_failed")
    assert_problem(client.post(URL, json={}, headers=headers), 422, "validation_failed")
    assert client.post(URL, json={"purpose": "signing"}, headers=headers).status_code == 202
    assert_problem(client.post(URL, json={"purpose": "signing"}, headers=headers), 429, "sms_resend_too_soon")
    assert client.post(URL, json={"purpose": "proxy_grant"}, headers=headers).status_code == 202


def test_a_wechat_account_without_phone_cannot_step_up(client):
    """Issue 14 item 1: no bound phone, no SMS step-up (403 phone_required)."""
    tokens = client.post("/api/v1/auth/wechat", json={"code": "stepup-nophone"}).get_json()
    assert_problem(client.post(URL, json={"purpose": "signing"}, headers=bearer(tokens["access_token"])), 403,
                   "phone_required")


def test_step_up_route_is_documented_and_not_delegable(app, client):
    """Issue 14 item 1: the purpose enum and the errors are in the OpenAPI; a proxy cannot step up."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][URL]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][schema_ref]["properties"]["purpose"]["enum"] == ["signing", "proxy_grant"]
    assert "phone_required" in operation["responses"]["403"]["description"]
    assert app.view_functions["me.send_step_up_code"]._delegable is None


def test_fresh_liveness_passes_once_for_its_user(client, call, verified_citizen):
    """Issue 14 item 1: a completed liveness session proves one operation, for its own user only."""
    alice = verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])
    bob = verified_citizen(vectors.LI_SI, vectors.PHONES[1])
    alice_id, bob_id = alice["user"]["id"], bob["user"]["id"]
    session_id = fresh_liveness(client, alice["access_token"])
    _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=bob_id, liveness_session_id=session_id)
    assert call(require_fresh_liveness, user_id=alice_id, liveness_session_id=session_id) is None
    _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=alice_id, liveness_session_id=session_id)
    me = client.get("/api/v1/me", headers=bearer(alice["access_token"])).get_json()
    assert me["assurance_level"] == "L3" and me["liveness_verified_at"]


def test_liveness_not_passed_or_not_finished_is_refused(client, call, verified_citizen):
    """Issue 14 item 1: a failed, unfinished or made-up session is no step-up."""
    tokens = verified_citizen()
    user_id = tokens["user"]["id"]
    failed = fresh_liveness(client, tokens["access_token"], passed=False)
    error = _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=user_id,
                     liveness_session_id=failed)
    assert error.extra["reason"] == "liveness_failed"
    pending = client.post("/api/v1/me/liveness", headers=bearer(tokens["access_token"])).get_json()["session_id"]
    error = _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=user_id,
                     liveness_session_id=pending)
    assert error.extra["reason"] == "liveness_pending"
    _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=user_id, liveness_session_id="lv_nope")


def test_a_confirmed_liveness_session_proves_one_operation(client, call, verified_citizen):
    """Issue 14 item 1: a session the app already confirmed (POST /me/liveness/{id}/confirm) is
    accepted once, by its own user."""
    alice = verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])
    bob = verified_citizen(vectors.LI_SI, vectors.PHONES[1])
    session_id = fresh_liveness(client, alice["access_token"])
    confirmed = client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=bearer(alice["access_token"]))
    assert confirmed.status_code == 200
    _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=bob["user"]["id"],
             liveness_session_id=session_id)
    call(require_fresh_liveness, user_id=alice["user"]["id"], liveness_session_id=session_id)
    _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=alice["user"]["id"],
             liveness_session_id=session_id)


def test_an_old_liveness_pass_is_not_fresh(client, call, verified_citizen, monkeypatch):
    """Issue 14 item 1: a pass older than max_age_s (10 minutes by default) is refused."""
    tokens = verified_citizen()
    session_id = fresh_liveness(client, tokens["access_token"])
    assert client.post(f"/api/v1/me/liveness/{session_id}/confirm",
                       headers=bearer(tokens["access_token"])).status_code == 200
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(stepup, "utcnow", lambda: later)
    error = _problem(call, 403, "liveness_required", require_fresh_liveness, user_id=tokens["user"]["id"],
                     liveness_session_id=session_id)
    assert error.extra["reason"] == "stale"
