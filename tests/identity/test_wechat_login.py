"""WeChat mini-program login (jscode2session), phone binding, and the production WeChat adapter wired in."""
from __future__ import annotations

import pytest

from app.db import db
from identity.models import User, WeChatIdentity
from tests import vectors
from tests.fakes.server import FakeServer
from tests.fakes.wechat import FakeWeChat
from tests.helpers import assert_problem, bearer, latest_code

WX_APPID, WX_SECRET = "wx0123456789yiwang", "wxsecret-yiwang-test"
SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ=="



def wechat(client, code: str):
    return client.post("/api/v1/auth/wechat", json={"code": code})


def me(client, token: str) -> dict:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bind(client, token: str, **body):
    return client.post("/api/v1/me/phone", json=body, headers=bearer(token))


# --- Development adapter ---------------------------------------------------------------------

def test_wechat_login_creates_l0_account(client):
    response = wechat(client, "alice.1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
    assert body["phone_bound"] is False
    assert body["user"]["assurance_level"] == "L0"
    assert body["user"]["phone_masked"] is None
    assert body["user"]["real_name_verified"] is False
    profile = me(client, body["access_token"])
    assert profile["id"] == body["user"]["id"] and profile["phone_bound"] is False


def test_same_dev_user_reaches_same_account(client):
    first = wechat(client, "alice.1").get_json()
    second = wechat(client, "alice.2").get_json()
    other = wechat(client, "bob.1").get_json()
    assert second["user"]["id"] == first["user"]["id"]
    assert other["user"]["id"] != first["user"]["id"]


def test_wechat_code_is_single_use(client):
    assert wechat(client, "alice.1").status_code == 200
    assert_problem(wechat(client, "alice.1"), 400, "wechat_code_invalid")


@pytest.mark.parametrize("code", ["has space", "semi;colon"])
def test_malformed_wechat_code(client, code):
    assert_problem(wechat(client, code), 400, "wechat_code_invalid")


def test_missing_wechat_code(client):
    body = assert_problem(client.post("/api/v1/auth/wechat", json={}), 422, "validation_failed")
    assert "code" in body["errors"]


def test_real_name_needs_a_phone_first(client, runner):
    runner.invoke(args=["registry", "add", "--name", vectors.ZHANG_SAN[0], "--id-number", vectors.ZHANG_SAN[1]])
    token = wechat(client, "alice.1").get_json()["access_token"]
    response = client.post("/api/v1/me/real-name", json={"name": vectors.ZHANG_SAN[0],
                                                          "id_number": vectors.ZHANG_SAN[1]}, headers=bearer(token))
    assert_problem(response, 403, "phone_required")
    assert me(client, token)["assurance_level"] == "L0"


def test_bind_phone_with_wechat_phone_code(client):
    login = wechat(client, "alice.1").get_json()
    response = bind(client, login["access_token"], wechat_code=f"phone-{vectors.PHONES[1]}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["phone_bound"] is True
    assert body["user"]["id"] == login["user"]["id"]
    assert body["user"]["assurance_level"] == "L1"
    assert body["user"]["phone_masked"] == "139****9000"
    assert me(client, body["access_token"])["phone_bound"] is True
    # A second binding is refused: the account has a phone now.
    assert_problem(bind(client, body["access_token"], wechat_code=f"phone-{vectors.PHONES[2]}"), 409, "phone_already_bound")


def test_bind_phone_with_sms_code(client):
    login = wechat(client, "carol.1").get_json()
    phone = vectors.PHONES[2]
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    code = latest_code(client, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_problem(bind(client, login["access_token"], phone=phone, code=wrong), 400, "sms_code_invalid")
    response = bind(client, login["access_token"], phone=phone, code=code)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["phone_bound"] is True
    assert body["user"]["assurance_level"] == "L1"
    assert body["user"]["phone_masked"] == "137****7000"
    assert body["user"]["id"] == login["user"]["id"]


def test_bind_needs_a_proof(client):
    token = wechat(client, "alice.1").get_json()["access_token"]
    assert_problem(bind(client, token), 422, "validation_failed")
    assert_problem(bind(client, token, phone=vectors.PHONES[1]), 422, "validation_failed")
    assert_problem(bind(client, token, wechat_code="not-a-phone-code"), 400, "wechat_code_invalid")
    assert me(client, token)["phone_bound"] is False


def test_binding_a_known_phone_moves_the_wechat_link(client, login_citizen):
    phone_account = login_citizen(vectors.PHONES[0])["user"]["id"]
    wx = wechat(client, "bob.1").get_json()
    wx_account = wx["user"]["id"]
    assert wx_account != phone_account
    response = bind(client, wx["access_token"], wechat_code=f"phone-{vectors.PHONES[0]}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["id"] == phone_account
    assert body["phone_bound"] is True
    assert me(client, body["access_token"])["id"] == phone_account
    # The merged-away account's tokens are dead.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {wx['access_token']}"}).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": wx["refresh_token"]}).status_code == 401
    # Later WeChat logins of the same person reach the phone account.
    later = wechat(client, "bob.2").get_json()
    assert later["user"]["id"] == phone_account
    assert later["phone_bound"] is True
    assert later["user"]["phone_masked"] == "138****8000"
    with db.connection_context():
        assert User.get_or_none(User.id == wx_account) is None
        assert {i.user_id for i in WeChatIdentity.select()} == {phone_account}


# --- Production adapter (HTTP) wired into the app ---------------------------------------------

@pytest.fixture
def wechat_server():
    fake = FakeWeChat(WX_APPID, WX_SECRET)
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()


@pytest.fixture
def http_app(make_app, wechat_server):
    fake, server = wechat_server
    return make_app(WECHAT_BACKEND="http", WECHAT_API_BASE=server.url, WECHAT_APPID=WX_APPID,
                    WECHAT_SECRET=WX_SECRET)


def test_http_wechat_login(http_app, wechat_server, logs_without_personal_data):
    fake, server = wechat_server
    fake.sessions["js-code-1"] = {"openid": "oYiWangOpenid0001", "session_key": SESSION_KEY, "unionid": "uYiWang1"}
    fake.sessions["js-code-2"] = {"openid": "oYiWangOpenid0001", "session_key": "secondKey+abc==", "unionid": "uYiWang1"}
    client = http_app.test_client()
    response = wechat(client, "js-code-1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["assurance_level"] == "L0" and body["phone_bound"] is False
    assert SESSION_KEY.encode() not in response.get_data()
    (request,) = [r for r in server.requests if r.path == "/sns/jscode2session"]
    assert request.args["appid"] == WX_APPID and request.args["js_code"] == "js-code-1"
    assert request.args["grant_type"] == "authorization_code"
    # session_key stays server-side, encrypted.
    with db.connection_context():
        identity = WeChatIdentity.get_by_id("oYiWangOpenid0001")
    stored = bytes(identity.session_key_enc)
    assert stored != SESSION_KEY.encode() and SESSION_KEY.encode() not in stored
    assert http_app.extensions["pii"].decrypt(stored, "wechat.session_key") == SESSION_KEY
    # The same openid again: the same account, and a profile that never shows the key either.
    again = wechat(client, "js-code-2")
    assert again.status_code == 200 and again.get_json()["user"]["id"] == body["user"]["id"]
    assert b"secondKey" not in again.get_data()
    profile = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert profile.status_code == 200 and SESSION_KEY.encode() not in profile.get_data()
    assert not any(SESSION_KEY in line or "secondKey" in line for line in logs_without_personal_data.lines)


def test_http_wechat_code_reuse_and_invalid(http_app, wechat_server):
    fake, server = wechat_server
    fake.sessions["js-code-1"] = {"openid": "oYiWangOpenid0002", "session_key": SESSION_KEY}
    fake.error_codes["bad-code"] = 40029
    client = http_app.test_client()
    assert wechat(client, "js-code-1").status_code == 200
    assert_problem(wechat(client, "js-code-1"), 400, "wechat_code_invalid")  # WeChat answers 40163
    assert_problem(wechat(client, "bad-code"), 400, "wechat_code_invalid")
    assert_problem(wechat(client, "never-issued"), 400, "wechat_code_invalid")


@pytest.mark.parametrize("errcode", [45011, -1])
def test_http_wechat_busy_is_503(http_app, wechat_server, errcode):
    fake, server = wechat_server
    fake.error_codes["busy-code"] = errcode
    client = http_app.test_client()
    assert_problem(wechat(client, "busy-code"), 503, "wechat_unavailable")
    with db.connection_context():
        assert User.select().count() == 0


def test_http_wechat_unreachable_is_503(make_app):
    client = make_app(WECHAT_BACKEND="http", WECHAT_API_BASE="http://127.0.0.1:1", WECHAT_APPID=WX_APPID,
                      WECHAT_SECRET=WX_SECRET).test_client()
    assert_problem(wechat(client, "any-code"), 503, "wechat_unavailable")


def test_http_wechat_bind_phone(http_app, wechat_server):
    fake, server = wechat_server
    fake.sessions["js-code-1"] = {"openid": "oYiWangOpenid0003", "session_key": SESSION_KEY}
    fake.phone_codes["phone-btn-1"] = vectors.PHONES[1]
    client = http_app.test_client()
    token = wechat(client, "js-code-1").get_json()["access_token"]
    response = bind(client, token, wechat_code="phone-btn-1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["phone_bound"] is True
    assert body["user"]["assurance_level"] == "L1" and body["user"]["phone_masked"] == "139****9000"
    assert server.count("/cgi-bin/token") == 1
    assert_problem(bind(client, body["access_token"], wechat_code="phone-btn-1"), 409, "phone_already_bound")
