"""Consent-based online verification (用证授权, issue 17): a verifier asks, the citizen is told,
approves with a step-up, the verifier's poll gets an SM2-signed disclosure that the OpenSSL CLI
verifies; refusal, expiry, queries outside the matter, object access, tampering, the order of
checks."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import timedelta

import pytest

from app.audit import AuditEvent
from app.crypto import platform_keys
from consent import service as consent
from consent.models import ConsentRequest
from notify.outbox import OutboxEntry
from tests import vectors
from tests.consent.conftest import MINE, REQUESTS, ask, ask_body
from tests.helpers import assert_problem, bearer, latest_code, rows

OPENSSL = shutil.which("openssl")


def _code(client, holder, request_id: str) -> str:
    response = client.post(f"{MINE}/{request_id}/step-up-code", headers=holder)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["phone_masked"] == "138****8000"
    return latest_code(client, vectors.PHONES[0])


def _approve(client, holder, request_id: str, licence_id: str, status: int = 200, **step_up) -> dict:
    if not step_up:
        step_up = {"sms_code": _code(client, holder, request_id)}
    response = client.post(f"{MINE}/{request_id}/approve", json={"licence_id": licence_id, **step_up}, headers=holder)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _openssl_verifies(app, token: str, tmp_path) -> bool:
    """Check a vp_token as the route's documentation says, with the OpenSSL CLI alone: the signed
    bytes, r‖s → DER, the key from the certificate of the header's kid."""
    head, body, sig = token.split(".")
    header = json.loads(_unb64(head))
    with app.app_context():
        from app.db import db
        with db.connection_context():
            key = platform_keys.by_kid(header["kid"])
    (tmp_path / "cert.pem").write_text(key.certificate_pem)
    pub = subprocess.run([OPENSSL, "x509", "-in", tmp_path / "cert.pem", "-pubkey", "-noout"], capture_output=True,
                         check=True).stdout
    (tmp_path / "pub.pem").write_bytes(pub)
    (tmp_path / "msg").write_bytes(f"{head}.{body}".encode())
    raw = _unb64(sig)
    assert len(raw) == 64

    def integer(value: bytes) -> bytes:
        value = value.lstrip(b"\0") or b"\0"
        value = b"\0" + value if value[0] & 0x80 else value
        return bytes([0x02, len(value)]) + value

    seq = integer(raw[:32]) + integer(raw[32:])
    (tmp_path / "sig.der").write_bytes(bytes([0x30, len(seq)]) + seq)
    done = subprocess.run([OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin",
                           "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", tmp_path / "msg",
                           "-sigfile", tmp_path / "sig.der"], capture_output=True, timeout=30)
    return done.returncode == 0 and b"Signature Verified Successfully" in done.stdout


def _verify(app, token: str) -> dict:
    with app.app_context():
        from app.db import db
        with db.connection_context():
            return consent.verify_disclosure(token)


@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
def test_the_whole_flow_ends_in_a_disclosure_openssl_verifies(app, client, verifier, holder, licence, tmp_path):
    bank, bank_id = verifier("合肥科技农村商业银行")
    body = ask_body()
    asked = ask(client, bank, body)
    assert asked["status"] == "pending" and asked["vp_token"] is None and asked["nonce"] == body["nonce"]

    # the citizen is told: an urgent notice with the deep link, naming who asks (never a phone or ID number)
    [notice] = rows(app, OutboxEntry, OutboxEntry.kind == "consent_request")
    data = json.loads(notice.data)
    assert data["link"] == f"yiwang://consent/{asked['id']}" and notice.urgent
    assert "合肥科技农村商业银行" in notice.body and "驾驶资格核查" in notice.body and data["body_en"] != notice.body
    for secret in (vectors.PHONES[0], vectors.ZHANG_SAN[1]):
        assert secret not in notice.body + notice.data

    # who asks, the matter (with its legal basis when the catalogue has one), which fields
    listed = client.get(MINE, headers=holder).get_json()["items"]
    assert [item["id"] for item in listed] == [asked["id"]]
    seen = client.get(f"{MINE}/{asked['id']}", headers=holder).get_json()
    assert seen["verifier"] == {"name": "合肥科技农村商业银行"} and seen["status"] == "pending"
    assert seen["matter"]["code"] == "vehicle_check" and seen["matter"]["name"] == "驾驶资格核查"
    assert "legal_basis" in seen["matter"]
    assert [f["key"] for f in seen["fields"]] == ["vehicle_class", "valid_until"]
    assert [t["code"] for t in seen["licence_types"]] == ["driving_licence"]

    # a bearer token alone does not disclose: no step-up, a wrong code
    assert_problem(client.post(f"{MINE}/{asked['id']}/approve", json={"licence_id": licence["id"]}, headers=holder),
                   403, "step_up_failed")
    code = _code(client, holder, asked["id"])
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(client.post(f"{MINE}/{asked['id']}/approve", json={"licence_id": licence["id"],
                                                                       "sms_code": wrong}, headers=holder),
                   403, "step_up_failed")
    assert client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()["status"] == "pending"

    approved = _approve(client, holder, asked["id"], licence["id"], sms_code=code)
    assert approved["status"] == "approved" and approved["disclosed_fields"] == ["vehicle_class", "valid_until"]
    assert approved["step_up"] == "sms"

    polled = client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()
    assert polled["status"] == "approved" and polled["error"] is None
    token = polled["vp_token"]
    assert _openssl_verifies(app, token, tmp_path)
    header = json.loads(_unb64(token.split(".")[0]))
    assert header["alg"] == "SM2-SM3" and header["typ"] == "yiwang-disclosure+jws"
    payload = _verify(app, token)
    assert (payload["nonce"], payload["state"], payload["aud"], payload["jti"]) == (
        body["nonce"], body["state"], bank_id, asked["id"])
    assert payload["exp"] > payload["iat"] and payload["matter"] == "vehicle_check"
    assert payload["claims"] == {"vehicle_class": "C1", "valid_until": "2030-05-01"}
    assert payload["disclosure"] == {"vehicle_class": "full", "valid_until": "full"}
    credential = payload["credential"]
    assert credential["identifier"] == licence["identifier"] and credential["licence_id"] == licence["id"]
    assert credential["version"] == 1 and credential["identifier"].split(".")[-2] == "001"
    assert credential["issuer_uscc"] == licence["identifier"].split(".")[6]
    assert vectors.ZHANG_SAN[1] not in token and vectors.ZHANG_SAN[1] not in json.dumps(payload)

    # audited; the citizen's record of what went to whom (field names, not values)
    actions = {e.action for e in rows(app, AuditEvent, AuditEvent.target == asked["id"])}
    assert {"consent.request", "consent.approve"} <= actions
    [told] = rows(app, OutboxEntry, OutboxEntry.kind == "consent_disclosed")
    assert "合肥科技农村商业银行" in told.body and "准驾车型" in told.body and "C1" not in told.body
    history = client.get(MINE, headers=holder, query_string={"status": "approved"}).get_json()["items"]
    assert history[0]["verifier"]["name"] == "合肥科技农村商业银行" and history[0]["disclosed_fields"]

    # answered once
    assert_problem(client.post(f"{MINE}/{asked['id']}/refuse", headers=holder), 409, "consent_request_answered")


@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
def test_a_tampered_disclosure_fails_verification(app, client, verifier, holder, licence, tmp_path):
    bank, _ = verifier()
    asked = ask(client, bank)
    _approve(client, holder, asked["id"], licence["id"])
    token = client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()["vp_token"]
    head, body, sig = token.split(".")
    payload = json.loads(_unb64(body))
    payload["claims"]["vehicle_class"] = "A1"  # a bigger licence class
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    flipped_sig = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    for forged in (f"{head}.{forged_body}.{sig}", f"{head}.{body}.{flipped_sig}", f"{head}.{body}", "x.y.z",
                   token.replace(head, base64.urlsafe_b64encode(json.dumps(
                       {**json.loads(_unb64(head)), "kid": "0" * 16}).encode()).rstrip(b"=").decode())):
        with pytest.raises(consent.DisclosureInvalid):
            _verify(app, forged)
    assert not _openssl_verifies(app, f"{head}.{forged_body}.{sig}", tmp_path)
    assert _openssl_verifies(app, token, tmp_path)


def test_refusal_reaches_the_verifier_and_discloses_nothing(app, client, verifier, holder, licence):
    bank, _ = verifier()
    asked = ask(client, bank)
    refused = client.post(f"{MINE}/{asked['id']}/refuse", headers=holder)
    assert refused.status_code == 200 and refused.get_json()["status"] == "refused"
    polled = client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()
    assert (polled["status"], polled["error"], polled["vp_token"]) == ("refused", "access_denied", None)
    assert_problem(client.post(f"{MINE}/{asked['id']}/approve", json={"licence_id": licence["id"],
                                                                       "sms_code": "123456"}, headers=holder),
                   409, "consent_request_answered")
    [row] = rows(app, ConsentRequest, ConsentRequest.id == asked["id"])
    assert row.disclosure is None and row.disclosed is None
    assert rows(app, AuditEvent, AuditEvent.action == "consent.refuse")


def test_a_request_expires(app, client, verifier, holder, licence, monkeypatch):
    bank, _ = verifier()
    asked = ask(client, bank, ask_body(expires_in=60))
    code = _code(client, holder, asked["id"])
    later = consent.clock() + timedelta(seconds=61)
    monkeypatch.setattr(consent, "clock", lambda: later)
    assert_problem(client.post(f"{MINE}/{asked['id']}/approve", json={"licence_id": licence["id"], "sms_code": code},
                               headers=holder), 410, "consent_request_expired")
    assert_problem(client.post(f"{MINE}/{asked['id']}/refuse", headers=holder), 410, "consent_request_expired")
    polled = client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()
    assert (polled["status"], polled["error"], polled["vp_token"]) == ("expired", "expired_request", None)
    assert client.get(MINE, headers=holder, query_string={"status": "expired"}).get_json()["items"][0]["id"] == asked["id"]


@pytest.mark.parametrize("changes, code", [
    ({"claims": ("vehicle_class", "address")}, "consent_query_invalid"),  # a field the matter does not disclose
    ({"types": ("resident_id_card",)}, "consent_query_invalid"),  # a type the matter does not accept
    ({"matter": "no_such_matter"}, "consent_matter_unknown"),
    ({"response_mode": "direct_post"}, "consent_response_uri_invalid"),  # direct_post without a response_uri
    ({"response_mode": "direct_post", "response_uri": "ftp://bank.example/cb"}, "consent_response_uri_invalid"),
])
def test_a_query_outside_the_matter_is_refused(app, client, verifier, changes, code):
    bank, _ = verifier()
    body = ask_body(**{k: v for k, v in changes.items() if k in ("claims", "types", "matter")},
                    **{k: v for k, v in changes.items() if k not in ("claims", "types", "matter")})
    problem = assert_problem(client.post(REQUESTS, json=body, headers=bank), 422, code)
    assert problem["errors"]
    assert not rows(app, ConsentRequest)


def test_unknown_matter_lists_the_allowed_ones_in_english_too(client, verifier):
    bank, _ = verifier()
    problem = client.post(REQUESTS, json=ask_body(matter="no_such_matter"),
                          headers={**bank, "Accept-Language": "en"}).get_json()
    assert problem["code"] == "consent_matter_unknown" and "vehicle_check" in problem["allowed_matters"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"]), problem["detail"]


def test_a_phone_nobody_verified_holds_gets_the_same_answer_and_no_notice(app, client, verifier):
    bank, _ = verifier()
    asked = ask(client, bank, ask_body(phone=vectors.PHONES[5]))
    assert asked["status"] == "pending"
    assert not rows(app, OutboxEntry, OutboxEntry.kind == "consent_request")
    [row] = rows(app, ConsentRequest)
    assert row.user_id is None


def test_object_access(client, verifier, holder, licence, verified_citizen):
    bank, _ = verifier("银行甲")
    other_bank, _ = verifier("银行乙")
    asked = ask(client, bank)
    assert_problem(client.get(f"{REQUESTS}/{asked['id']}", headers=other_bank), 404, "consent_request_not_found")
    assert_problem(client.get(f"{REQUESTS}/nope", headers=bank), 404, "consent_request_not_found")
    someone = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert client.get(MINE, headers=someone).get_json()["items"] == []
    for method, path in (("get", ""), ("post", "/refuse"), ("post", "/step-up-code")):
        assert_problem(getattr(client, method)(f"{MINE}/{asked['id']}{path}", headers=someone), 404,
                       "consent_request_not_found")
    assert_problem(client.post(f"{MINE}/{asked['id']}/approve", json={"licence_id": licence["id"], "pin": "802413"},
                               headers=someone), 404, "consent_request_not_found")
    # 李四 cannot approve 张三's request, and 张三 cannot disclose 李四's licence: still pending
    assert client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()["status"] == "pending"


def test_the_order_of_checks(client, verifier, holder, machine_token):
    assert_problem(client.post(REQUESTS, json={}), 401)
    assert_problem(client.post(REQUESTS, json={}, headers=holder), 403)  # a citizen is no verifier
    assert_problem(client.post(REQUESTS, json={}, headers=bearer(machine_token("licences:issue"))), 403,
                   "insufficient_scope")
    bank, _ = verifier()
    assert_problem(client.post(REQUESTS, json={}, headers=bank), 422, "validation_failed")
    assert_problem(client.get(MINE, headers=bank), 403)  # a verifier is no citizen
    assert_problem(client.post(REQUESTS, json=ask_body(nonce="short"), headers=bank), 422, "validation_failed")


def test_a_step_up_code_approves_only_the_request_it_was_sent_for(client, verifier, holder, licence):
    bank, _ = verifier()
    first, second = ask(client, bank), ask(client, bank)
    code = _code(client, holder, first["id"])
    assert_problem(client.post(f"{MINE}/{second['id']}/approve", json={"licence_id": licence["id"], "sms_code": code},
                               headers=holder), 403, "step_up_failed")
    assert client.get(f"{REQUESTS}/{second['id']}", headers=bank).get_json()["status"] == "pending"
    assert _approve(client, holder, first["id"], licence["id"], sms_code=code)["status"] == "approved"


def test_the_signing_pin_is_the_other_step_up_and_its_wrong_tries_count(client, verifier, holder, licence):
    from tests.signing.conftest import PIN, enrol

    enrol(client, holder)
    bank, _ = verifier()
    asked = ask(client, bank)
    wrong = assert_problem(client.post(f"{MINE}/{asked['id']}/approve",
                                       json={"licence_id": licence["id"], "pin": "135790"}, headers=holder),
                           400, "pin_invalid")
    assert wrong["tries_left"] >= 1
    assert client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()["status"] == "pending"
    approved = _approve(client, holder, asked["id"], licence["id"], pin=PIN)
    assert (approved["status"], approved["step_up"]) == ("approved", "pin")
