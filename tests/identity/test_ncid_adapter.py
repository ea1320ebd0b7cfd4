"""网号/网证 adapter (WP3): the signed 凭据 verified against the fake national platform.

Forged 凭据 (another key, a flipped byte, r = 0, s = n, raw r ‖ s, an unknown cert_sn) → ncid_result_invalid;
replays (the same 凭据 twice, a bizSeq of another purpose or user, a spent bizSeq) → ncid_session_invalid with an
audit row; another orgCode and a stale serviceTime → ncid_result_invalid; each platform fail code →
ncid_auth_failed with its reason; 500 / timeout / garbage → ncid_unavailable. OpenSSL (not our code) checks
the fake's signature, and the development gateway runs the same checks without HTTP.
"""
from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timezone

import pytest
import time_machine

from app.audit import AuditEvent
from app.config import ConfigError, check_config, load_settings
from identity import ncid
from identity.adapters.ncid import DevNcidGateway, HttpNcidGateway, load_platform_keys
from identity.errors import NcidAuthFailed, NcidResultInvalid, NcidSessionInvalid, NcidUnavailable
from tests import vectors
from tests.fakes.ncid import PATH, FakeNcidPlatform, hmac_sm3, platform_public_pem, sm3_hex
from tests.fakes.server import FakeServer

ORG, APP_ID, SECRET = "YIWANGORG0001", "yiwang-h5-01", "ncid-envelope-secret"
PERSON = "NcidPerson00000000000001"
AUTH_DATA, PASSWORD = "QR-ALICE-0c1f4e", "481516"


@pytest.fixture
def platform():
    fake = FakeNcidPlatform(org_code=ORG, apps={APP_ID: SECRET}, people={AUTH_DATA: (PERSON, PASSWORD)})
    with FakeServer(fake) as server:
        fake.server = server
        yield fake


@pytest.fixture
def http_app(make_app, platform):
    app = make_app(NCID_BACKEND="http", NCID_URL=platform.server.url, NCID_ORG_ID=ORG, NCID_APP_ID=APP_ID,
                   NCID_BUSINESS_ID="0001", NCID_APP_SECRET=SECRET,
                   NCID_PLATFORM_CERTS=json.dumps({vectors.NCID_PLATFORM_CERT_SN: platform_public_pem()}))
    with app.app_context():
        yield app


def attempt(*, purpose="login", user_id=None, mode="R02", data=AUTH_DATA, pwd=PASSWORD, biz_seq=None, as_user=None):
    seq = biz_seq or ncid.start(purpose=purpose, user_id=user_id)["biz_seq"]
    return ncid.authenticate(biz_seq=seq, purpose=purpose, id_card_auth_data=data, cert_pwd_data=pwd,
                             auth_mode=mode, user_id=as_user if as_user is not None else user_id)


def audit_rows(outcome="refused") -> list[dict]:
    rows = AuditEvent.select().where(AuditEvent.action == "identity.ncid", AuditEvent.outcome == outcome)
    return [json.loads(r.details) for r in rows.order_by(AuditEvent.id)]


def no_secrets_audited() -> None:
    for row in AuditEvent.select().where(AuditEvent.action == "identity.ncid"):
        text = f"{row.target} {row.details}"
        assert PERSON not in text and AUTH_DATA not in text and PASSWORD not in text


# --- the genuine path (the control for every attack) ---------------------------------------------

def test_genuine_credential_and_what_the_platform_received(http_app, platform):
    session = ncid.start(purpose="login")
    assert session["org_id"] == ORG and session["business_id"] == "0001" and session["expires_in"] == 300
    result = attempt(biz_seq=session["biz_seq"])
    assert (result.app_user_id, result.mode, result.face_score, result.identity) == (PERSON, "R02", None, None)
    assert result.service_time.utcoffset().total_seconds() == 8 * 3600
    assert platform.received == [{"orgCode": ORG, "appId": APP_ID, "bizSeq": session["biz_seq"], "authMode": "R02",
                                  "idCardAuthData": AUTH_DATA, "certPwdData": PASSWORD}]
    request = platform.server.requests[0]
    assert request.path == PATH and request.headers["X-App-Id"] == APP_ID
    to_sign = f"POST\n{PATH}\n{request.headers['X-Timestamp']}\n{request.headers['X-Nonce']}\n{sm3_hex(request.body)}"
    assert request.headers["X-Signature"] == hmac_sm3(SECRET, to_sign)
    assert audit_rows("success") == [{"purpose": "login", "mode": "R02"}]
    no_secrets_audited()


def test_face_mode_carries_the_score(http_app, platform):
    result = attempt(mode="R04")
    assert (result.mode, result.face_score) == ("R04", 93)


def test_the_fake_refuses_a_wrong_envelope_secret(make_app, platform):
    app = make_app(NCID_BACKEND="http", NCID_URL=platform.server.url, NCID_ORG_ID=ORG, NCID_APP_ID=APP_ID,
                   NCID_APP_SECRET="not-the-secret",
                   NCID_PLATFORM_CERTS=json.dumps({vectors.NCID_PLATFORM_CERT_SN: platform_public_pem()}))
    with app.app_context(), pytest.raises(NcidUnavailable):
        attempt()
    assert platform.rejections == ["bad_signature"] and platform.received == []


# --- forged 凭据 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("variant, reason", [
    ("wrong_key", "signature_invalid"), ("flip_byte", "signature_invalid"), ("r_zero", "signature_invalid"),
    ("s_n", "signature_invalid"), ("non_der", "signature_invalid"), ("unknown_cert", "unknown_cert"),
    ("other_org", "other_org"),
])
def test_forged_credential_is_refused_and_audited(http_app, platform, variant, reason):
    platform.variant = variant
    with pytest.raises(NcidResultInvalid) as caught:
        attempt()
    assert caught.value.code == "ncid_result_invalid" and caught.value.status == 400
    assert [row["reason"] for row in audit_rows()] == [reason]
    assert audit_rows("success") == []
    no_secrets_audited()


# --- replays ------------------------------------------------------------------------------------

def test_the_same_credential_twice_is_a_replay(http_app, platform):
    seq = ncid.start(purpose="login")["biz_seq"]
    assert attempt(biz_seq=seq).app_user_id == PERSON
    with pytest.raises(NcidSessionInvalid):  # the bizSeq is spent
        attempt(biz_seq=seq)
    platform.variant = "resend"  # a fresh session, answered with the old 凭据 (its bizSeq is the spent one)
    with pytest.raises(NcidSessionInvalid):
        attempt()
    assert [row["reason"] for row in audit_rows()] == ["session_unknown_or_spent", "replay_other_session"]


def test_a_replay_after_the_session_record_comes_back_is_named(http_app, platform):
    """Second line: ncid:used:{sha256(data)} remembers a spent 凭据 for a day."""
    seq = ncid.start(purpose="login")["biz_seq"]
    attempt(biz_seq=seq)
    from app.redis import get_redis
    get_redis().set(ncid.SEQ_KEY.format(seq), json.dumps({"purpose": "login", "user_id": None,
                                                          "created_at": datetime.now(timezone.utc).timestamp()}))
    platform.variant = "resend"
    with pytest.raises(NcidSessionInvalid):
        attempt(biz_seq=seq)
    assert [row["reason"] for row in audit_rows()] == ["replay_credential_reused"]


def test_a_biz_seq_of_another_purpose_or_user_is_refused(http_app, platform):
    link = ncid.start(purpose="link", user_id="u_alice")["biz_seq"]
    with pytest.raises(NcidSessionInvalid):
        attempt(purpose="login", biz_seq=link)
    with pytest.raises(NcidSessionInvalid):
        attempt(purpose="link", user_id="u_alice", as_user="u_mallory", biz_seq=link)
    with pytest.raises(NcidSessionInvalid):  # never issued
        attempt(biz_seq="4f1c2b6e-8a7d-4e3f-9b2a-1c0d5e6f7a8b")
    assert [row["reason"] for row in audit_rows()] == [
        "session_other_purpose", "session_other_user", "session_unknown_or_spent"]
    assert platform.received == []  # none of them reached the platform
    assert attempt(purpose="link", user_id="u_alice", biz_seq=link).app_user_id == PERSON  # the owner still can


# --- time ---------------------------------------------------------------------------------------

T0 = datetime(2026, 12, 6, 6, 3, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize("age, accepted", [(300, True), (301, False)])
def test_service_time_older_than_the_skew_is_refused(http_app, platform, age, accepted):
    with time_machine.travel(T0, tick=False) as traveller:
        seq = ncid.start(purpose="login")["biz_seq"]
        platform.service_time = T0
        traveller.shift(age)
        if accepted:
            assert attempt(biz_seq=seq).service_time == T0
        else:
            with pytest.raises(NcidResultInvalid):
                attempt(biz_seq=seq)
            assert [row["reason"] for row in audit_rows()] == ["stale"]


def test_service_time_before_the_session_is_refused(http_app, platform):
    with time_machine.travel(T0, tick=False):
        seq = ncid.start(purpose="login")["biz_seq"]
        platform.service_time = datetime(2026, 12, 6, 6, 3, 0, tzinfo=timezone.utc)
        with pytest.raises(NcidResultInvalid):
            attempt(biz_seq=seq)
    assert [row["reason"] for row in audit_rows()] == ["before_session"]


# --- the platform said no -----------------------------------------------------------------------

@pytest.mark.parametrize("code, reason", [
    ("1001", "credential_invalid"), ("1002", "password_wrong"), ("1003", "face_mismatch"), ("1004", "cancelled"),
    ("1005", "bizseq_unknown"), ("2001", "org_not_authorised"),
])
def test_each_fail_code_is_auth_failed_with_its_reason(http_app, platform, code, reason):
    platform.fail_code = code
    with pytest.raises(NcidAuthFailed) as caught:
        attempt()
    assert (caught.value.status, caught.value.code, caught.value.extra) == (403, "ncid_auth_failed", {"reason": reason})
    assert audit_rows() == [{"purpose": "login", "reason": reason, "code": code}]


def test_the_fake_reaches_its_fail_codes_itself(http_app, platform):
    with pytest.raises(NcidAuthFailed) as wrong_password:
        attempt(pwd="000000")
    with pytest.raises(NcidAuthFailed) as unknown:
        attempt(data="QR-SOMEONE-ELSE")
    assert (wrong_password.value.extra["reason"], unknown.value.extra["reason"]) == ("password_wrong", "credential_invalid")


# --- unavailable --------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["error500", "not_json", "missing_sig"])
def test_no_usable_answer_is_unavailable(http_app, platform, variant):
    platform.variant = variant
    with pytest.raises(NcidUnavailable) as caught:
        attempt()
    assert (caught.value.status, caught.value.code) == (503, "ncid_unavailable")
    assert audit_rows("failure") == [{"purpose": "login", "reason": "unavailable"}]


def test_a_slow_platform_is_unavailable(http_app, platform):
    gateway = http_app.extensions["identity"].ncid
    http_app.extensions["identity"].ncid = HttpNcidGateway(
        platform.server.url, ORG, APP_ID, "0001", SECRET,
        load_platform_keys({vectors.NCID_PLATFORM_CERT_SN: platform_public_pem()}), timeout=(1.0, 0.3))
    platform.variant, platform.hang_seconds = "hang", 1.0
    try:
        with pytest.raises(NcidUnavailable):
            attempt()
    finally:
        http_app.extensions["identity"].ncid = gateway


# --- OpenSSL, which nobody here wrote, checks the fake's signature -------------------------------

def test_openssl_accepts_the_platform_signature_and_refuses_a_flipped_byte(http_app, platform, tmp_path):
    attempt()
    answer = platform.issued[-1]
    data = base64.urlsafe_b64decode(answer["data"] + "=" * (-len(answer["data"]) % 4))
    (tmp_path / "pub.pem").write_text(platform_public_pem())
    (tmp_path / "sig.der").write_bytes(base64.b64decode(answer["sig"]))

    def openssl_verify(message: bytes) -> subprocess.CompletedProcess:
        (tmp_path / "msg").write_bytes(message)
        return subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
             "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "msg"),
             "-sigfile", str(tmp_path / "sig.der")], capture_output=True, text=True)

    good = openssl_verify(data)
    assert good.returncode == 0 and "Signature Verified Successfully" in good.stdout
    bad = openssl_verify(data[:10] + bytes([data[10] ^ 0x01]) + data[11:])
    assert bad.returncode != 0 and "Successfully" not in bad.stdout


# --- the development gateway (no HTTP) ----------------------------------------------------------

def test_dev_gateway_round_trip(app, monkeypatch):
    with app.app_context():
        seq = ncid.start(purpose="login")["biz_seq"]
        result = ncid.authenticate(biz_seq=seq, purpose="login", auth_mode="R03", cert_pwd_data=None,
                                   id_card_auth_data=ncid.dev_auth_data(PERSON, mode="R03"))
        assert (result.app_user_id, result.mode, result.face_score) == (PERSON, "R03", 92)
        genuine = ncid.dev_auth_data(PERSON, mode="R02")
        with pytest.raises(NcidAuthFailed) as caught:  # the opaque data is MACed by the gateway
            ncid.authenticate(biz_seq=ncid.start(purpose="login")["biz_seq"], purpose="login", auth_mode="R02",
                              cert_pwd_data=None, id_card_auth_data=genuine[:-1] + ("1" if genuine[-1] == "0" else "0"))
        assert caught.value.extra == {"reason": "credential_invalid"}
        # another development platform (another key made at start-up) is not trusted, even under our cert_sn
        gateway = app.extensions["identity"].ncid
        other = DevNcidGateway(gateway.org_id, gateway.app_id, gateway.business_id)
        monkeypatch.setattr(gateway, "authenticate", other.authenticate)
        for cert_sn, reason in ((other.cert_sn, "unknown_cert"), (gateway.cert_sn, "signature_invalid")):
            other.cert_sn = cert_sn
            with pytest.raises(NcidResultInvalid):
                ncid.authenticate(biz_seq=ncid.start(purpose="login")["biz_seq"], purpose="login", auth_mode="R01",
                                  cert_pwd_data=None, id_card_auth_data=other.dev_auth_data(PERSON, mode="R01"))
            assert audit_rows()[-1]["reason"] == reason


def test_dev_route_plays_the_national_app_for_consent(app, client):
    with app.app_context():
        seq = ncid.start(purpose="consent", user_id="u_zhang")["biz_seq"]
    name, id_number = vectors.ZHANG_SAN
    answer = client.post("/api/v1/dev/ncid/credentials",
                         json={"biz_seq": seq, "person": PERSON, "mode": "R01", "name": name, "id_number": id_number})
    assert answer.status_code == 200 and answer.json["auth_mode"] == "R01"
    with app.app_context():
        result = ncid.authenticate(biz_seq=seq, purpose="consent", user_id="u_zhang", auth_mode="R01",
                                   cert_pwd_data=None, id_card_auth_data=answer.json["id_card_auth_data"])
    assert (result.app_user_id, result.identity) == (PERSON, (name, id_number))
    spent = client.post("/api/v1/dev/ncid/credentials", json={"biz_seq": seq, "person": PERSON})
    assert spent.status_code == 404 and spent.json["code"] == "ncid_session_not_found"


# --- levels (D1) and configuration --------------------------------------------------------------

@pytest.mark.parametrize("mode, standing, score, level", [
    ("R01", 1, None, 2), ("R02", 1, None, 3), ("R03", 2, 90, 3), ("R03", 3, 90, 4), ("R03", 3, 69, 2),
    ("R03", 3, None, 2), ("R04", 1, 70, 4), ("R04", 1, 50, 2),
])
def test_level_for(app, mode, standing, score, level):
    with app.app_context():
        assert ncid.level_for(mode, standing, score) == level


def test_production_refuses_the_dev_gateway_and_needs_the_platform_keys():
    def problems(**overrides) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            check_config(load_settings({"APP_ENV": "production", **overrides}, environ={}))
        return [p for p in caught.value.problems if "NCID" in p]

    assert problems(NCID_BACKEND="dev") == ["NCID_BACKEND=dev is a development adapter"]
    assert problems(NCID_BACKEND="http") == [f"{k} is not set (a secret production needs)" for k in
                                             ("NCID_URL", "NCID_ORG_ID", "NCID_APP_ID", "NCID_APP_SECRET")] + [
        "NCID_PLATFORM_CERTS must be a JSON object {cert_sn: PEM} naming at least one platform key"]
    assert problems(NCID_BACKEND="http", NCID_URL="https://ncid.example", NCID_ORG_ID=ORG, NCID_APP_ID=APP_ID,
                    NCID_APP_SECRET=SECRET, NCID_PLATFORM_CERTS=json.dumps({"9d": platform_public_pem()})) == []
    assert problems() == []  # default in production: off (none), not the development gateway


def test_a_pinned_certificate_works_like_a_pinned_key(make_app, platform, tmp_path):
    """NCID_PLATFORM_CERTS may hold the platform's certificate (made here by OpenSSL): its key is pinned."""
    from tests.fakes.ncid import platform_key
    (tmp_path / "key.pem").write_bytes(platform_key().private_bytes_pem())
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", str(tmp_path / "key.pem"), "-sm3", "-sigopt",
                    "distid:1234567812345678", "-subj", "/CN=ncid-platform-test", "-days", "1",
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    certificate = (tmp_path / "cert.pem").read_text()
    assert "BEGIN CERTIFICATE" in certificate
    app = make_app(NCID_BACKEND="http", NCID_URL=platform.server.url, NCID_ORG_ID=ORG, NCID_APP_ID=APP_ID,
                   NCID_APP_SECRET=SECRET, NCID_PLATFORM_CERTS=json.dumps({vectors.NCID_PLATFORM_CERT_SN: certificate}))
    with app.app_context():
        assert attempt().app_user_id == PERSON
        platform.variant = "wrong_key"
        with pytest.raises(NcidResultInvalid):
            attempt()
