"""FACE v1 (identity/adapters/face.py) against its fake gateway (tests/fakes/face.py), alone and wired
into /me/liveness with LIVENESS_BACKEND=http."""
from __future__ import annotations

import hashlib
import json
import time

import pytest

from app.config import ConfigError, check_config, load_settings
from identity.adapters.face import HttpFaceProvider, cert_hash, new_out_seq_no
from identity.liveness import LivenessUnavailable
from identity.models import AssuranceEvent
from tests import vectors
from tests.fakes.face import FakeFace, wechat_cert_hash
from tests.fakes.server import FakeServer
from tests.helpers import assert_problem, bearer, latest_code

APP_ID, APP_SECRET = "yiwang-face-test", "face-shared-secret-1"
NAME, ID_NUMBER = vectors.ZHANG_SAN

# WeChat's document (queryverifyinfo, "cert_hash 计算方式"): its example certificate and the hash it prints.
WECHAT_CERT = ("IDENTITY_CARD", "张三", "310101199801011234")
WECHAT_JOINED = "cert_type=SURFTlRJVFlfQ0FSRA==&cert_name=5byg5LiJ&cert_no=MzEwMTAxMTk5ODAxMDExMjM0"
WECHAT_CERT_HASH = "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"


# --- cert_hash --------------------------------------------------------------------------------

def test_cert_hash_matches_the_published_vector():
    assert cert_hash(*WECHAT_CERT) == WECHAT_CERT_HASH
    assert hashlib.sha256(WECHAT_JOINED.encode()).hexdigest() == WECHAT_CERT_HASH  # the document agrees with itself
    assert wechat_cert_hash(*WECHAT_CERT) == WECHAT_CERT_HASH  # the fake's own construction


def test_cert_hash_binds_every_field():
    assert cert_hash("IDENTITY_CARD", "张四", "310101199801011234") != WECHAT_CERT_HASH
    assert cert_hash("IDENTITY_CARD", "张三", "310101199801011235") != WECHAT_CERT_HASH
    assert cert_hash("PASSPORT", "张三", "310101199801011234") != WECHAT_CERT_HASH


def test_out_seq_no_shape():
    seqs = {new_out_seq_no() for _ in range(200)}
    assert len(seqs) == 200
    assert all(len(s) == 24 and set(s) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")
               for s in seqs)


# --- the adapter alone ------------------------------------------------------------------------

@pytest.fixture
def face_server():
    fake = FakeFace({APP_ID: APP_SECRET})
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()


@pytest.fixture
def provider(app, face_server):
    _, server = face_server
    return HttpFaceProvider(server.url, APP_ID, APP_SECRET, redis=app.extensions["redis"],
                            cipher=app.extensions["pii"], timeout=(1.0, 1.0))


def test_start_sends_the_certificate_and_a_fresh_out_seq_no(provider, face_server):
    fake, server = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    started = fake.only_session()
    assert session.biz_token == started.verify_id and session.id.startswith("lv")
    assert session.expires_in == 3600
    assert (started.cert_name, started.cert_no, started.openid) == (NAME, ID_NUMBER, None)
    assert len(started.out_seq_no) == 24
    assert fake.rejections == []
    assert server.requests[0].headers["X-App-Id"] == APP_ID


def test_pending_then_passed(provider, face_server):
    fake, server = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    assert provider.result(session.id).status == "pending"
    fake.finish(session.biz_token, 10000, score=88)
    result = provider.result(session.id)
    assert (result.status, result.user_id, result.score) == ("passed", "us_alice", 88.0)
    assert fake.rejections == []
    # The query proved the certificate by WeChat's hash of it, bound to this session's out_seq_no.
    query = json.loads(server.requests[-1].body)
    assert query == {"verify_id": session.biz_token, "out_seq_no": fake.only_session().out_seq_no,
                     "cert_hash": cert_hash("IDENTITY_CARD", NAME, ID_NUMBER)}
    assert ID_NUMBER.encode() not in server.requests[-1].body


@pytest.mark.parametrize("verify_ret, score, status", [
    (10000, None, "passed"),
    (10000, 70, "passed"),      # FACE_MIN_SCORE is inclusive
    (10000, 60, "failed"),      # low similarity
    (10000, 69.9, "failed"),
    (90002, None, "failed"),    # the user cancelled
    (90017, None, "failed"),    # the capture timed out
    (10003, None, "failed"),    # ID number does not match
])
def test_outcomes(provider, face_server, verify_ret, score, status):
    fake, _ = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    fake.finish(session.biz_token, verify_ret, score=score)
    assert provider.result(session.id).status == status


def test_a_result_is_read_once(provider, face_server):
    fake, _ = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    state = provider._redis.get(provider._key(session.id))
    fake.finish(session.biz_token, 10000)
    assert provider.result(session.id).status == "passed"
    assert provider.result(session.id).status == "expired"  # our side has forgotten the session
    provider._redis.set(provider._key(session.id), state)  # a replayed state: the gateway refuses a second read
    assert provider.result(session.id).status == "expired"
    assert fake.rejections == ["result_already_read"]


def _signed_query(provider, **body):
    return provider._post("/queryverifyinfo", body)


def test_fake_refuses_another_cert_hash_or_out_seq_no(provider, face_server):
    fake, _ = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    fake.finish(session.biz_token, 10000)
    own = fake.only_session()
    wrong_hash = _signed_query(provider, verify_id=own.verify_id, out_seq_no=own.out_seq_no,
                               cert_hash=cert_hash("IDENTITY_CARD", "李四", ID_NUMBER))
    other_seq = _signed_query(provider, verify_id=own.verify_id, out_seq_no=new_out_seq_no(), cert_hash=own.cert_hash)
    assert wrong_hash["errcode"] == other_seq["errcode"] == 84002
    assert fake.rejections == ["cert_hash_mismatch", "out_seq_no_mismatch"]
    assert provider.result(session.id).status == "passed"  # the refused queries did not spend the result


def test_adapter_treats_a_session_mismatch_as_failed(provider, face_server):
    fake, _ = face_server
    # Bob's session state under Alice's certificate: the gateway says the hash is not the session's.
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    other = provider.start(user_id="us_bob", name=vectors.LI_SI[0], id_number=vectors.LI_SI[1])
    fake.finish(session.biz_token, 10000)
    alice, bob = (json.loads(provider._redis.get(provider._key(s.id))) for s in (session, other))
    alice["cert_hash"] = bob["cert_hash"]
    provider._redis.set(provider._key(session.id), json.dumps(alice))
    assert provider.result(session.id).status == "failed"
    assert fake.rejections == ["cert_hash_mismatch"]


@pytest.mark.parametrize("mode, afterwards", [
    ("bad_reply_hmac", "expired"),  # the gateway handed its single-use result to whoever forged the reply
    ("unsigned", "expired"),
    ("error500", "passed"),  # the gateway never read it: asked again once sound, it still passes
])
def test_untrustworthy_answers_fail_closed(provider, face_server, mode, afterwards):
    fake, _ = face_server
    session = provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    fake.finish(session.biz_token, 10000)
    fake.mode = mode
    with pytest.raises(LivenessUnavailable):
        provider.result(session.id)
    fake.mode = "normal"  # our side kept the session
    assert provider.result(session.id).status == afterwards


def test_wrong_secret_is_refused_by_the_gateway(app, face_server):
    fake, server = face_server
    wrong = HttpFaceProvider(server.url, APP_ID, "not-the-secret", redis=app.extensions["redis"],
                             cipher=app.extensions["pii"])
    with pytest.raises(LivenessUnavailable):
        wrong.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    assert fake.rejections == ["bad_signature"] and fake.sessions == {}


def test_slow_gateway_times_out(provider, face_server):
    fake, _ = face_server
    fake.mode, fake.hang_seconds = "slow", 30
    started = time.monotonic()
    with pytest.raises(LivenessUnavailable, match="timeout"):
        provider.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)
    assert time.monotonic() - started < 5


def test_unreachable_gateway_fails_closed(app):
    down = HttpFaceProvider("http://127.0.0.1:1", APP_ID, APP_SECRET, redis=app.extensions["redis"],
                            cipher=app.extensions["pii"])
    with pytest.raises(LivenessUnavailable):
        down.start(user_id="us_alice", name=NAME, id_number=ID_NUMBER)


# --- configuration ----------------------------------------------------------------------------

def _production(**overrides) -> dict:
    base = {"APP_ENV": "production", "JWT_SIGNING_KEY": "k", "DATA_ENCRYPTION_KEY": "k", "KEYSTORE_KEKS": "k",
            "PLATFORM_CA_CERT": "c", "PLATFORM_CA_KEY": "k", "SMS_ACCESS_KEY_ID": "i", "SMS_ACCESS_KEY_SECRET": "s",
            "SMS_SIGN_NAME": "n", "SMS_TEMPLATE_CODE": "t", "REGISTRY_URL": "u", "REGISTRY_APP_ID": "a",
            "REGISTRY_APP_SECRET": "s", "WECHAT_APPID": "wx", "WECHAT_SECRET": "s",
            "PKI_BASE_URL": "https://pki.example.gov.cn"}
    return load_settings({**base, **overrides}, environ={})


def test_production_face_settings():
    assert load_settings({}, environ={})["FACE_MIN_SCORE"] == 70
    with pytest.raises(ConfigError) as refused:
        check_config(_production(LIVENESS_BACKEND="http", FACE_URL="https://face.example.gov.cn"))
    assert "FACE_APP_ID" in str(refused.value) and "FACE_APP_SECRET" in str(refused.value)
    assert "FACE_URL" not in str(refused.value)
    with pytest.raises(ConfigError, match="LIVENESS_BACKEND=dev"):
        check_config(_production(LIVENESS_BACKEND="dev"))
    complete = _production(LIVENESS_BACKEND="http", FACE_URL="https://face.example.gov.cn", FACE_APP_ID="a",
                           FACE_APP_SECRET="s")
    try:
        check_config(complete)
    except ConfigError as exc:  # another back end's settings (other work packages add some): not ours
        assert "FACE_" not in str(exc) and "LIVENESS" not in str(exc), str(exc)


def test_http_backend_without_gateway_or_unknown_backend_stops_the_app(make_app):
    with pytest.raises(ConfigError, match="FACE_URL"):
        make_app(LIVENESS_BACKEND="http", FACE_APP_ID=APP_ID, FACE_APP_SECRET=APP_SECRET)
    with pytest.raises(ConfigError, match="LIVENESS_BACKEND"):
        make_app(LIVENESS_BACKEND="tencent")


# --- wired into /me/liveness ------------------------------------------------------------------

def _face_app(make_app, url: str, **extra):
    return make_app(LIVENESS_BACKEND="http", FACE_URL=url, FACE_APP_ID=APP_ID, FACE_APP_SECRET=APP_SECRET, **extra)


def _verified(app, client, person=vectors.ZHANG_SAN, phone=vectors.PHONES[0]) -> str:
    """Log in by SMS and verify the real name (L2) on this app; the access token."""
    app.test_cli_runner().invoke(args=["registry", "add", "--name", person[0], "--id-number", person[1]])
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    login = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
    token = login.get_json()["access_token"]
    response = client.post("/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                           headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return token


def _me(client, token) -> dict:
    return client.get("/api/v1/me", headers=bearer(token)).get_json()


def _events(user_id: str) -> list[tuple[int, str, str | None]]:
    """The account's assurance events (identity_assurance_event, issue 19)."""
    rows = AssuranceEvent.select().where(AssuranceEvent.user_id == user_id).order_by(AssuranceEvent.at)
    return [(row.level, row.method, row.ref_hash) for row in rows]


def test_liveness_journey_over_face_v1(make_app, face_server):
    fake, _ = face_server
    app = _face_app(make_app, fake_url(face_server))
    client = app.test_client()
    token = _verified(app, client)
    started = client.post("/api/v1/me/liveness", headers=bearer(token))
    assert started.status_code == 201, started.get_json()
    session = started.get_json()
    own = fake.only_session()
    assert session["biz_token"] == own.verify_id  # the client's wx.requestFacialVerify({verifyId})
    assert (own.cert_name, own.cert_no) == (NAME, ID_NUMBER)
    confirm = f"/api/v1/me/liveness/{session['session_id']}/confirm"
    assert_problem(client.post(confirm, headers=bearer(token)), 409, "liveness_pending")
    fake.finish(own.verify_id, 10000, score=91)
    response = client.post(confirm, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assurance_level"] == "L3"
    me = _me(client, token)
    assert me["assurance_level"] == "L3" and me["liveness_verified_at"]
    ref = hashlib.sha256(session["session_id"].encode()).hexdigest()
    assert _events(me["id"])[-1] == (3, "face", ref)  # the L3 event a step-up looks for (H1's record_assurance)
    assert_problem(client.post(confirm, headers=bearer(token)), 404, "liveness_session_not_found")
    assert fake.rejections == []


@pytest.mark.parametrize("verify_ret, score", [(90002, None), (90017, None), (10000, 60)])
def test_liveness_journey_not_passed(make_app, face_server, verify_ret, score):
    fake, _ = face_server
    app = _face_app(make_app, fake_url(face_server))
    client = app.test_client()
    token = _verified(app, client)
    session_id = client.post("/api/v1/me/liveness", headers=bearer(token)).get_json()["session_id"]
    fake.finish(fake.only_session().verify_id, verify_ret, score=score)
    assert_problem(client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=bearer(token)),
                   422, "liveness_failed")
    me = _me(client, token)
    assert me["assurance_level"] == "L2" and me["liveness_verified_at"] is None
    assert [e for e in _events(me["id"]) if e[1] == "face"] == []


def test_liveness_journey_bad_reply_hmac_is_503(make_app, face_server):
    fake, _ = face_server
    app = _face_app(make_app, fake_url(face_server))
    client = app.test_client()
    token = _verified(app, client)
    session_id = client.post("/api/v1/me/liveness", headers=bearer(token)).get_json()["session_id"]
    fake.finish(fake.only_session().verify_id, 10000, score=95)
    fake.mode = "bad_reply_hmac"
    assert_problem(client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=bearer(token)),
                   503, "liveness_unavailable")
    assert _me(client, token)["assurance_level"] == "L2"


def test_liveness_journey_timeout_is_503(make_app, face_server):
    fake, _ = face_server
    fake.mode, fake.hang_seconds = "slow", 30
    app = _face_app(make_app, fake_url(face_server))
    client = app.test_client()
    token = _verified(app, client)
    started = time.monotonic()
    assert_problem(client.post("/api/v1/me/liveness", headers=bearer(token)), 503, "liveness_unavailable")
    assert time.monotonic() - started < 10  # bounded by the adapter's read timeout
    assert _me(client, token)["assurance_level"] == "L2"


def fake_url(face_server) -> str:
    return face_server[1].url
