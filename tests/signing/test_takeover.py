"""Issue 14 item 1: a stolen access token must not take over cloud signing.

With only a citizen's bearer token, revoking the certificate and enrolling a key with a PIN of the
attacker's choosing are refused at each step; the citizen's own ways (current PIN; forgotten PIN:
SMS step-up + fresh liveness) work; every enrolment, revocation, wrong PIN and lockout is audited
and reaches the citizen on every channel, quiet hours or not.
"""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

from app.audit import AuditEvent
from app.db import unit_of_work
from notify.outbox import SECURITY_KINDS
from notify.service import OutboxEntry, enqueue
from notify.tasks import NotifyWorker
from signing.models import SigningCredential
from tests import vectors
from tests.fixtures.notify import ScriptedChannel
from tests.helpers import assert_problem, bearer, fresh_liveness, rows
from tests.signing.conftest import BASE, PIN, authorize, enrol, new_request, revoke, signing_code

ATTACKER_PIN = "246813"


def _token(headers) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def test_token_alone_cannot_revoke(app, client, signer):
    """Issue 14 item 1, step 1: revoke with the token only (no proof, a guessed PIN, a guessed code)."""
    headers, cert = signer
    assert_problem(client.post(f"{BASE}/certificate/revoke", json={"reason": "keyCompromise"}, headers=headers),
                   422, "validation_failed")
    assert_problem(client.post(f"{BASE}/certificate/revoke", json={"reason": "keyCompromise", "sms_code": "123456"},
                               headers=headers), 422, "validation_failed")
    assert_problem(client.post(f"{BASE}/certificate/revoke", json={"reason": "keyCompromise", "pin": None},
                               headers=headers), 422, "validation_failed")
    body = assert_problem(revoke(client, headers, pin="000000"), 400, "pin_invalid")
    assert body["tries_left"] == 4  # a guessed PIN counts toward the lockout
    guess = {"reason": "keyCompromise", "sms_code": "123456", "liveness_session_id": "lv_guessed"}
    assert_problem(client.post(f"{BASE}/certificate/revoke", json=guess, headers=headers), 403, "step_up_failed")
    assert client.get(f"{BASE}/certificates/{cert['serial']}/status").get_json()["status"] == "good"
    assert [c.status for c in rows(app, SigningCredential)] == ["active"]


def test_token_alone_cannot_enrol(app, client, citizen):
    """Issue 14 item 1, step 2: enrolling an attacker's PIN needs the SMS code sent to the victim's phone."""
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN}, headers=citizen), 422,
                   "validation_failed")
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN, "sms_code": "123456"}, headers=citizen),
                   403, "step_up_failed")
    assert rows(app, SigningCredential) == []
    refused = rows(app, AuditEvent, AuditEvent.action == "identity.step_up")
    assert [(e.outcome, json.loads(e.details)["purpose"]) for e in refused] == [("refused", "signing")]


def test_re_enrolment_needs_fresh_liveness(app, client, signer):
    """Issue 14 item 1, step 2 after a revocation: the SMS code alone does not re-enrol; the code is
    not spent by that refusal."""
    headers, first = signer
    assert revoke(client, headers).status_code == 200
    code = signing_code(client, headers)
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN, "sms_code": code}, headers=headers),
                   403, "liveness_required")
    failed = fresh_liveness(client, _token(headers), passed=False)
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN, "sms_code": code,
                                                      "liveness_session_id": failed}, headers=headers),
                   403, "liveness_required")
    code = signing_code(client, headers)
    again = client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN, "sms_code": code,
                                               "liveness_session_id": fresh_liveness(client, _token(headers))},
                        headers=headers)
    assert again.status_code == 201 and again.get_json()["serial"] != first["serial"]


def test_forgotten_pin_revokes_with_sms_and_liveness(app, client, signer):
    """Issue 14 item 1: the citizen who forgot the PIN revokes with an SMS code + fresh liveness,
    re-enrols with a new PIN and signs with it; the old PIN is worthless."""
    headers, first = signer
    answer = revoke(client, headers, pin=None)
    assert answer.status_code == 200, answer.get_json()
    assert client.get(f"{BASE}/certificates/{first['serial']}/status").get_json()["status"] == "revoked"
    second = enrol(client, headers, pin="370915", liveness=True)
    assert second["serial"] != first["serial"]
    assert_problem(authorize(client, headers, new_request(client, headers)["id"], pin=PIN), 400, "pin_invalid")
    assert authorize(client, headers, new_request(client, headers)["id"], pin="370915").status_code == 200
    details = [json.loads(e.details) for e in rows(app, AuditEvent, AuditEvent.action == "signing.revoke")]
    assert [d["via"] for d in details] == ["step_up"]
    enrolments = [json.loads(e.details) for e in rows(app, AuditEvent, AuditEvent.action == "signing.enrol")]
    assert sorted(d["re_enrolment"] for d in enrolments) == [False, True]


def test_a_step_up_code_proves_one_operation(client, signer):
    """Issue 14 item 1: the code that revoked cannot enrol (single use)."""
    headers, _ = signer
    code = signing_code(client, headers)
    body = {"reason": "keyCompromise", "sms_code": code,
            "liveness_session_id": fresh_liveness(client, _token(headers))}
    assert client.post(f"{BASE}/certificate/revoke", json=body, headers=headers).status_code == 200
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": ATTACKER_PIN, "sms_code": code,
                                                      "liveness_session_id": fresh_liveness(client, _token(headers))},
                               headers=headers), 403, "step_up_failed")


def _notices(app, user_id: str) -> list[OutboxEntry]:
    """The citizen's security notices (a request waiting or signed is told too: tests/signing/test_notices.py)."""
    return rows(app, OutboxEntry, OutboxEntry.user_id == user_id, OutboxEntry.kind.in_(SECURITY_KINDS))


def test_every_event_is_told_to_the_citizen(app, client, verified_citizen):
    """Issue 14 item 1: enrolment, wrong PINs, the lockout and the revocation each queue an urgent
    notice saying what happened and what to do if it was not them."""
    tokens = verified_citizen()
    headers, user_id = bearer(tokens["access_token"]), tokens["user"]["id"]
    enrol(client, headers)
    request = new_request(client, headers)
    for _ in range(app.config["SIGNING_PIN_MAX_TRIES"]):
        authorize(client, headers, request["id"], pin="000000")
    assert revoke(client, headers, pin=None).status_code == 200
    notices = _notices(app, user_id)
    events = [json.loads(n.data)["event"] for n in notices]
    assert events == ["enrolled"] + ["pin_failed"] * 4 + ["pin_locked", "revoked"]
    assert all(n.urgent and "如非本人操作" in n.body for n in notices)
    assert [n.kind for n in notices if json.loads(n.data)["event"] == "pin_locked"] == ["signing_locked"]
    assert not any(vectors.ZHANG_SAN[1] in n.body or vectors.PHONES[0] in n.body for n in notices)


def test_notices_reach_every_channel_at_night(app, client, verified_citizen):
    """Issue 14 item 1: a revocation at 03:00 Beijing time reaches the inbox and the citizen's SMS and
    push devices at once (urgent: quiet hours do not hold it)."""
    tokens = verified_citizen()
    headers = bearer(tokens["access_token"])
    for platform, token in (("sms", vectors.PHONES[0]), ("fcm", "f" * 40)):
        response = client.post("/api/v1/devices", json={"platform": platform, "token": token}, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
    cert = enrol(client, headers)
    assert revoke(client, headers).status_code == 200
    china = timezone(timedelta(hours=8))
    night = datetime.combine(datetime.now(china).date() + timedelta(days=1), time(3, 0), tzinfo=china)
    channels = {p: ScriptedChannel(p) for p in ("apns", "fcm", "hms", "jpush", "wechat", "sms")}
    worker = NotifyWorker(app, channels=channels, clock=lambda: night.astimezone(timezone.utc))
    try:
        worker.drain()
    finally:
        worker.pool.shutdown(wait=True)
    for platform in ("sms", "fcm"):
        sent = [m for _, m in channels[platform].sent if m.kind == "signing_security"]
        assert [m.title for m in sent] == ["电子签名已开通", "电子签名证书已吊销"], platform
        assert cert["serial"][-8:].upper() in sent[1].body
    inbox = client.get("/api/v1/notifications", headers=headers).get_json()["items"]
    assert {"电子签名已开通", "电子签名证书已吊销"} <= {i["title"] for i in inbox}


def test_openapi_states_the_new_proof_fields(client):
    """Issue 14 item 1: the proof fields, their patterns and the step-up errors are documented."""
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def body_schema(path):
        ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[-1]]

    enrol_schema, revoke_schema = body_schema(f"{BASE}/enrol"), body_schema(f"{BASE}/certificate/revoke")
    assert {"pin", "sms_code"} <= set(enrol_schema["required"])
    assert enrol_schema["properties"]["sms_code"]["pattern"] == r"^\d{6}$"
    assert "pattern" in enrol_schema["properties"]["liveness_session_id"]
    assert {"pin", "sms_code", "liveness_session_id"} <= set(revoke_schema["properties"])
    assert revoke_schema["anyOf"] == [{"required": ["pin"]}, {"required": ["sms_code", "liveness_session_id"]}]
    assert not any(revoke_schema["properties"][f].get("nullable") for f in ("pin", "sms_code", "liveness_session_id"))
    for path in (f"{BASE}/enrol", f"{BASE}/certificate/revoke"):
        forbidden = spec["paths"][path]["post"]["responses"]["403"]["description"]
        assert "step_up_failed" in forbidden and "liveness_required" in forbidden


def test_security_notices_reach_the_bound_phone_without_an_sms_device_and_cannot_be_muted(app, client,
                                                                                         verified_citizen):
    """Issue 14 item 1 ("every channel"): a citizen whose app registered no SMS device, and who switched
    push off, still gets the enrol and revoke notices by SMS on the account's bound phone and on the
    muted push device; an ordinary notice stays muted."""
    tokens = verified_citizen()
    headers = bearer(tokens["access_token"])
    response = client.post("/api/v1/devices", json={"platform": "fcm", "token": "f" * 40}, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    response = client.put("/api/v1/notifications/preferences", json={"channels": {"fcm": False, "sms": False}},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    enrol(client, headers)
    assert revoke(client, headers).status_code == 200
    user_id = client.get("/api/v1/me", headers=headers).get_json()["id"]
    with app.app_context():
        with unit_of_work():  # the test plays a feature writing an ordinary notice
            enqueue(user_id=user_id, kind="case_status", title="办件进度", body="已受理", dedupe_key="t:case", urgent=True)
    channels = {p: ScriptedChannel(p) for p in ("apns", "fcm", "hms", "jpush", "wechat", "sms")}
    worker = NotifyWorker(app, channels=channels)
    try:
        worker.drain()
    finally:
        worker.pool.shutdown(wait=True)
    for platform, expected_token in (("sms", vectors.PHONES[0]), ("fcm", "f" * 40)):
        sent = [(token, m) for token, m in channels[platform].sent]
        assert [m.title for _, m in sent if m.kind == "signing_security"] == ["电子签名已开通", "电子签名证书已吊销"], platform
        assert {token for token, _ in sent} == {expected_token}, platform
        assert not [m for _, m in sent if m.kind == "case_status"], platform
