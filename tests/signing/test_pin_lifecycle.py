"""Issue 18 ("PIN and keys", first bullet): the signing PIN is changed with the old one (a wrong old
PIN counts toward the lockout, a locked credential is refused), reset when forgotten with an SMS
step-up code and a fresh liveness check (works while locked and lifts the lock), and the lockout
answer says until when and where the way out is. The key and the certificate stay: after either,
the same certificate signs with the new PIN and never with the old. Each event is audited and told
to the citizen, with no PIN or hash in either."""
from __future__ import annotations

import json
from datetime import timedelta

from app.audit import AuditEvent
from app.db import utcnow
from notify.service import OutboxEntry
from signing.models import SigningCredential
from tests.helpers import assert_problem, fresh_liveness, rows
from tests.signing.conftest import BASE, PIN, authorize, new_request, signing_code

NEW_PIN = "730915"
CHANGE, RESET = f"{BASE}/pin/change", f"{BASE}/pin/reset"


def _token(headers) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def change(client, headers, old: str = PIN, new: str = NEW_PIN, **extra):
    return client.post(CHANGE, json={"old_pin": old, "new_pin": new}, headers={**headers, **extra})


def reset(client, headers, new: str = NEW_PIN, *, code: str | None = None, liveness: str | None = None):
    body = {"sms_code": code or signing_code(client, headers),
            "liveness_session_id": liveness or fresh_liveness(client, _token(headers)), "new_pin": new}
    return client.post(RESET, json=body, headers=headers)


def signs_with(client, headers, pin: str) -> int:
    """The status of authorising a fresh request with `pin`."""
    return authorize(client, headers, new_request(client, headers)["id"], pin=pin).status_code


def lock(app, client, headers) -> dict:
    """Five wrong PINs on a signing request: the lockout's 423 answer."""
    request = new_request(client, headers)
    for _ in range(app.config["SIGNING_PIN_MAX_TRIES"] - 1):
        assert_problem(authorize(client, headers, request["id"], pin="000000"), 400, "pin_invalid")
    return assert_problem(authorize(client, headers, request["id"], pin="000000"), 423, "signing_locked")


def _events(app, action: str) -> list[dict]:
    return [json.loads(e.details) for e in rows(app, AuditEvent, AuditEvent.action == action)]


def _notices(app, event: str) -> list[OutboxEntry]:
    return [n for n in rows(app, OutboxEntry) if json.loads(n.data or "{}").get("event") == event]


def _no_secrets(app, *texts: str) -> None:
    """No PIN and no PIN hash in the audit chain or the notices."""
    hashes = [c.pin_hash for c in rows(app, SigningCredential)]
    written = [e.details or "" for e in rows(app, AuditEvent)] + [n.body + (n.data or "") for n in rows(app, OutboxEntry)]
    for secret in (PIN, NEW_PIN, *texts, *hashes):
        assert not any(secret in w for w in written), secret


def test_change_keeps_the_key_and_signs_only_with_the_new_pin(app, client, signer):
    headers, cert = signer
    before = rows(app, SigningCredential)[0]
    answer = change(client, headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["serial"] == cert["serial"] and body["via"] == "change" and body["pin_changed_at"].endswith("+08:00")
    after = rows(app, SigningCredential)[0]
    assert (after.id, after.key_id, after.cert_serial) == (before.id, before.key_id, before.cert_serial)
    assert after.pin_hash != before.pin_hash and after.status == "active"
    assert_problem(authorize(client, headers, new_request(client, headers)["id"], pin=PIN), 400, "pin_invalid")
    assert signs_with(client, headers, NEW_PIN) == 200
    assert client.get(f"{BASE}/certificates/{cert['serial']}/status").get_json()["status"] == "good"
    assert _events(app, "signing.pin_change") == [{"serial": cert["serial"], "via": "old_pin"}]
    [notice] = _notices(app, "pin_change")
    assert notice.urgent and notice.kind == "signing_security" and notice.title == "签名密码已修改"
    assert "如非本人操作" in notice.body and cert["serial"][-8:].upper() in notice.body
    assert "changed" in json.loads(notice.data)["body_en"]
    _no_secrets(app)


def test_a_wrong_old_pin_counts_toward_the_lockout_and_a_locked_credential_cannot_change(app, client, signer):
    headers, _ = signer
    body = assert_problem(change(client, headers, old="579135"), 400, "pin_invalid")
    assert body["tries_left"] == 4
    assert _events(app, "signing.pin_failed") == [{"failed": 1}]
    request = new_request(client, headers)
    for left in (3, 2, 1):  # the same counter as signing
        assert assert_problem(authorize(client, headers, request["id"], pin="000000"), 400)["tries_left"] == left
    locked = assert_problem(change(client, headers, old="579135"), 423, "signing_locked")
    assert locked["reset_url"] == "/api/v1/signing/pin/reset" and locked["locked_until"].endswith("+08:00")
    # While locked, even the right old PIN changes nothing; nothing was written.
    response = change(client, headers)
    assert_problem(response, 423, "signing_locked")
    assert int(response.headers["Retry-After"]) > 800
    assert not _events(app, "signing.pin_change") and not _notices(app, "pin_change")
    # Once the lock has passed, the old PIN is still the PIN.
    with app.app_context():
        SigningCredential.update(locked_until=utcnow() - timedelta(seconds=1)).execute()
    assert signs_with(client, headers, PIN) == 200


def test_the_lockout_says_until_when_and_how_to_reset_in_both_languages(app, client, signer):
    headers, _ = signer
    body = lock(app, client, headers)
    assert body["reset_url"] == "/api/v1/signing/pin/reset"
    hhmm = body["locked_until"][11:16]
    assert hhmm in body["detail"] and "忘记签名密码" in body["detail"] and "人脸核验" in body["detail"]
    english = client.post(f"{BASE}/requests/{new_request(client, headers)['id']}/authorize", json={"pin": PIN},
                          headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 423
    detail = english.get_json()["detail"]
    assert hhmm in detail and "Forgot signing PIN" in detail and "China time" in detail, detail


def test_a_weak_or_unchanged_new_pin_is_refused_without_counting(app, client, signer):
    headers, _ = signer
    weak = assert_problem(change(client, headers, new="123456"), 422, "pin_weak")
    assert weak["errors"]["new_pin"]
    birthday = assert_problem(change(client, headers, new="900307"), 422, "pin_weak")  # 张三's YYMMDD
    assert any("出生日期" in reason for reason in birthday["errors"]["new_pin"])
    same = assert_problem(change(client, headers, new=PIN), 422, "pin_unchanged")
    assert same["errors"]["new_pin"]
    english = change(client, headers, new=PIN, **{"Accept-Language": "en"}).get_json()
    assert "differ" in english["detail"]
    assert rows(app, SigningCredential)[0].failed_pins == 0
    assert_problem(change(client, headers, old=PIN, new="12345"), 422, "validation_failed")
    assert_problem(client.post(CHANGE, json={"new_pin": NEW_PIN}, headers=headers), 422, "validation_failed")
    assert signs_with(client, headers, PIN) == 200  # nothing changed


def test_reset_while_locked_lifts_the_lock_and_the_old_pin_is_dead(app, client, signer):
    headers, cert = signer
    lock(app, client, headers)
    before = rows(app, SigningCredential)[0]
    answer = reset(client, headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["via"] == "reset" and answer.get_json()["serial"] == cert["serial"]
    after = rows(app, SigningCredential)[0]
    assert (after.key_id, after.cert_serial, after.failed_pins, after.locked_until) == (
        before.key_id, before.cert_serial, 0, None)
    assert_problem(authorize(client, headers, new_request(client, headers)["id"], pin=PIN), 400, "pin_invalid")
    assert signs_with(client, headers, NEW_PIN) == 200
    assert _events(app, "signing.pin_reset") == [{"serial": cert["serial"], "via": "step_up", "lock_lifted": True}]
    [notice] = _notices(app, "pin_reset")
    assert notice.urgent and notice.title == "签名密码已重设" and "锁定已解除" in notice.body and "如非本人操作" in notice.body
    _no_secrets(app)


def test_a_lockout_left_on_a_revoked_credential_is_lifted_by_a_reset_too(app, client, signer):
    """A lockout outlives re-enrolment; a reset (SMS + liveness) lifts it wherever it sits."""
    headers, _ = signer
    with app.app_context():
        SigningCredential.update(locked_until=utcnow() + timedelta(minutes=10)).execute()
        SigningCredential.insert(id="sgc_old", user_id=rows(app, SigningCredential)[0].user_id, status="revoked",
                                 key_id="k_old", cert_serial="0a0b", certificate_pem="-", pin_hash="-",
                                 locked_until=utcnow() + timedelta(minutes=10)).execute()
    assert_problem(change(client, headers), 423, "signing_locked")
    assert reset(client, headers).status_code == 200
    assert all(c.locked_until is None for c in rows(app, SigningCredential))
    assert signs_with(client, headers, NEW_PIN) == 200


def test_reset_needs_the_sms_code_and_a_fresh_liveness_check(app, client, signer):
    """(The phone's hourly SMS limit is 5 codes, the login's and the enrolment's included.)"""
    headers, _ = signer
    token = _token(headers)
    assert_problem(client.post(RESET, json={"sms_code": "123456", "new_pin": NEW_PIN}, headers=headers), 422,
                   "validation_failed")  # no liveness session
    assert_problem(client.post(RESET, json={"liveness_session_id": fresh_liveness(client, token), "new_pin": NEW_PIN},
                               headers=headers), 422, "validation_failed")  # no SMS code
    code = signing_code(client, headers)
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(reset(client, headers, code=wrong, liveness=fresh_liveness(client, token)), 403, "step_up_failed")
    assert_problem(reset(client, headers, code=code, liveness=fresh_liveness(client, token, passed=False)), 403,
                   "liveness_required")
    assert_problem(reset(client, headers, liveness="lv_guessed"), 403, "liveness_required")
    assert_problem(reset(client, headers, new="111111", code="123456", liveness="lv_x"), 422, "pin_weak")
    assert not _events(app, "signing.pin_reset") and not _notices(app, "pin_reset")
    assert signs_with(client, headers, PIN) == 200  # the PIN is what it was


def test_changes_are_limited_per_hour(app, client, signer):
    headers, _ = signer
    app.config["SIGNING_PIN_CHANGES_PER_HOUR"] = 2
    assert change(client, headers).status_code == 200
    assert change(client, headers, old=NEW_PIN, new=PIN).status_code == 200
    response = change(client, headers)
    assert_problem(response, 429, "signing_pin_rate_limited")
    assert int(response.headers["Retry-After"]) > 3000
    assert signs_with(client, headers, PIN) == 200


def test_without_a_certificate_there_is_nothing_to_change(client, citizen):
    assert_problem(change(client, citizen), 404, "signing_not_enrolled")
    assert_problem(client.post(RESET, json={"sms_code": "123456", "liveness_session_id": "lv_x", "new_pin": NEW_PIN},
                               headers=citizen), 404, "signing_not_enrolled")


def test_openapi_states_the_pin_life_cycle_and_the_way_out_of_a_lockout(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def body(path):
        ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[-1]]

    assert set(body(CHANGE)["required"]) == {"old_pin", "new_pin"}
    assert set(body(RESET)["required"]) == {"sms_code", "liveness_session_id", "new_pin"}
    assert body(RESET)["properties"]["sms_code"]["pattern"] == r"^\d{6}$"
    assert "/me/step-up/sms-codes" in body(RESET)["properties"]["sms_code"]["description"]
    change_answers = spec["paths"][CHANGE]["post"]["responses"]
    assert "pin_unchanged" in change_answers["422"]["description"] and "429" in change_answers
    assert "step_up_failed" in spec["paths"][RESET]["post"]["responses"]["403"]["description"]
    for path in (CHANGE, f"{BASE}/requests/{{request_id}}/authorize", f"{BASE}/batches/{{batch_id}}/authorize",
                 f"{BASE}/enrol", f"{BASE}/certificate/revoke"):
        locked = spec["paths"][path]["post"]["responses"]["423"]
        assert "signing_locked" in locked["description"], path
        ref = locked["content"]["application/problem+json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert {"locked_until", "reset_url", "code", "detail"} <= set(schemas[ref]["properties"]), path
    assert "423" not in spec["paths"][RESET]["post"]["responses"]  # works while locked
