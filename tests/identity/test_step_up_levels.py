"""Step-up to a level (issue 19 WP1): GET /me/step-up lists the ways, an SMS code is a fresh L2 only,
and a STALE face check (frozen clock, +601 s) makes signing answer `step_up_required` until a new
face pass — then the same request succeeds."""
from __future__ import annotations

from datetime import timedelta

import time_machine

from app.db import utcnow
from identity.models import AssuranceEvent
from tests import vectors
from tests.helpers import assert_problem, bearer, fresh_liveness, latest_code, rows
from tests.signing.conftest import BASE, PIN, enrol, new_request

STEP_UP = "/api/v1/me/step-up"


def face_pass(client, headers) -> None:
    token = headers["Authorization"].split(" ", 1)[1]
    session_id = fresh_liveness(client, token)
    response = client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=headers)
    assert response.status_code == 200, response.get_json()


def test_options_for_a_verified_account(client, verified_citizen):
    headers = bearer(verified_citizen()["access_token"])
    body = client.get(f"{STEP_UP}?required_level=L3&max_age=600&purpose=signing", headers=headers).get_json()
    assert body["required_level"] == "L3" and body["max_age"] == 600 and body["purpose"] == "signing"
    methods = {m["method"]: m for m in body["methods"]}
    assert methods["face"] == {"method": "face", "level": "L3",
                               "start": {"method": "POST", "url": "/api/v1/me/liveness"}}
    assert "sms" not in methods  # an SMS code never proves L3
    l2 = client.get(f"{STEP_UP}?required_level=L2&max_age=300&purpose=agent_revoke", headers=headers).get_json()
    sms = [m for m in l2["methods"] if m["method"] == "sms"]
    assert sms == [{"method": "sms", "level": "L2", "start": {"method": "POST", "url": "/api/v1/me/step-up/sms"}}]


def test_options_for_an_unverified_account_offer_no_face_nor_sms(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    body = client.get(f"{STEP_UP}?required_level=L2", headers=headers).get_json()
    assert not [m for m in body["methods"] if m["method"] in ("face", "sms")]


def test_bad_level_is_422(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    for query in ("required_level=L9", "required_level=3", "", "required_level=L3&max_age=0",
                  "required_level=L3&purpose=nonsense"):
        assert_problem(client.get(f"{STEP_UP}?{query}", headers=headers), 422)
    assert client.get(f"{STEP_UP}?required_level=L3").status_code == 401


def test_sms_step_up_is_a_fresh_l2_and_single_use(client, app, verified_citizen):
    tokens = verified_citizen()
    headers = bearer(tokens["access_token"])
    sent = client.post(f"{STEP_UP}/sms", json={"purpose": "agent_revoke"}, headers=headers)
    assert sent.status_code == 202, sent.get_json()
    code = latest_code(client, vectors.PHONES[0])
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(client.post(f"{STEP_UP}/sms/verify", json={"purpose": "agent_revoke", "code": wrong},
                               headers=headers), 403, "step_up_failed")
    # a code for one purpose is not an answer for another
    assert_problem(client.post(f"{STEP_UP}/sms/verify", json={"purpose": "ncid_link", "code": code},
                               headers=headers), 403, "step_up_failed")
    ok = client.post(f"{STEP_UP}/sms/verify", json={"purpose": "agent_revoke", "code": code}, headers=headers)
    assert ok.status_code == 200 and ok.get_json() == {"level": "L2", "method": "sms", "purpose": "agent_revoke"}
    assert_problem(client.post(f"{STEP_UP}/sms/verify", json={"purpose": "agent_revoke", "code": code},
                               headers=headers), 403, "step_up_failed")  # spent
    events = rows(app, AssuranceEvent, AssuranceEvent.user_id == tokens["user"]["id"],
                  AssuranceEvent.method == "sms_step_up")
    assert [e.level for e in events] == [2]
    me = client.get("/api/v1/me/assurance", headers=headers).get_json()
    assert me["level"] == "L2"  # never raised above L2


def test_sms_step_up_needs_standing_l2(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    body = assert_problem(client.post(f"{STEP_UP}/sms", json={"purpose": "agent_revoke"}, headers=headers),
                          403, "assurance_level_insufficient")
    assert body["required_level"] == "L2" and body["current_level"] == "L1"


def test_stale_face_check_means_step_up_then_a_new_pass_signs(make_app, verified_citizen):
    """Policy "signing": L3 within 600 s. Face pass, +601 s → step_up_required (naming L3, 600, when it
    was reached, where to step up); a new face pass → the same authorisation is 200."""
    app = make_app(SIGNING_REQUIRE_LIVENESS=True)
    client = app.test_client()
    headers = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])  # uses the default app's client
    enrol(client, headers)
    # never L3: as before, liveness_required — now naming the levels
    body = assert_problem(client.post(f"{BASE}/requests/{new_request(client, headers)['id']}/authorize",
                                      json={"pin": PIN}, headers=headers), 403, "liveness_required")
    assert (body["required_level"], body["current_level"], body["max_age"]) == ("L3", "L2", 600)
    face_pass(client, headers)
    start = utcnow()
    with time_machine.travel(start + timedelta(seconds=601), tick=False):
        request_id = new_request(client, headers)["id"]
        stale = assert_problem(client.post(f"{BASE}/requests/{request_id}/authorize", json={"pin": PIN},
                                           headers=headers), 403, "step_up_required")
        assert stale["required_level"] == "L3" and stale["current_level"] == "L3" and stale["max_age"] == 600
        assert stale["step_up_url"] == "/api/v1/me/step-up?required_level=L3&max_age=600&purpose=signing"
        assert stale["level_reached_at"] is not None
        face_pass(client, headers)
        ok = client.post(f"{BASE}/requests/{request_id}/authorize", json={"pin": PIN}, headers=headers)
        assert ok.status_code == 200, ok.get_json()


def test_liveness_session_in_the_body_still_works(make_app, verified_citizen):
    """Older clients send `liveness_session_id` with the PIN: spent as today, recorded as the L3 event."""
    app = make_app(SIGNING_REQUIRE_LIVENESS=True)
    client = app.test_client()
    tokens = verified_citizen(vectors.ZHANG_SAN)
    headers = bearer(tokens["access_token"])
    enrol(client, headers)
    session_id = fresh_liveness(client, tokens["access_token"])  # completed, not confirmed
    url = f"{BASE}/requests/{new_request(client, headers)['id']}/authorize"
    ok = client.post(url, json={"pin": PIN, "liveness_session_id": session_id}, headers=headers)
    assert ok.status_code == 200, ok.get_json()
    again = client.post(f"{BASE}/requests/{new_request(client, headers)['id']}/authorize",
                        json={"pin": PIN, "liveness_session_id": session_id}, headers=headers)
    assert_problem(again, 403, "liveness_required")  # spent: one session proves one operation
