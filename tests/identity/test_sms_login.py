"""SMS login (短信验证码登录): codes, their limits, enumeration resistance and the Aliyun adapter wired in."""
from __future__ import annotations

import re
import threading
import time

import pytest

from app.db import db
from identity.adapters.dev import OUTBOX_KEY
from identity.models import User
from tests import vectors
from tests.fakes.aliyun_sms import FakeAliyunSms, expected_signature
from tests.fakes.server import FakeServer
from tests.helpers import assert_problem, latest_code

PHONE = vectors.PHONES[0]  # 13800138000
OTHER = vectors.PHONES[1]
SMS_KEY_ID, SMS_KEY_SECRET = "LTAI5tYIWANGTEST", "aliyun/secret+key*~ 2"
SIGN_NAME, TEMPLATE = "易网", "SMS_100001"


def send(client, phone: str = PHONE, **kw):
    return client.post("/api/v1/auth/sms-codes", json={"phone": phone}, **kw)


def login(client, phone: str, code: str):
    return client.post("/api/v1/auth/login", json={"phone": phone, "code": code})



def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def user_count() -> int:
    with db.connection_context():
        return User.select().count()


# --- Sending and logging in ------------------------------------------------------------------

def test_code_sent_and_written_to_outbox(client):
    response = send(client)
    assert response.status_code == 202
    assert response.get_json() == {"expires_in": 300, "resend_after": 60}
    items = client.get(f"/api/v1/dev/sms-outbox?phone={PHONE}").get_json()["items"]
    assert len(items) == 1
    assert items[0]["phone"] == PHONE
    assert re.fullmatch(r"\d{6}", items[0]["code"])
    assert items[0]["sent_at"]


def test_login_creates_l1_account_with_documented_shape(client):
    send(client)
    response = login(client, PHONE, latest_code(client, PHONE))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"access_token", "refresh_token", "token_type", "expires_in", "user"} <= set(body)
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert body["access_token"] and body["refresh_token"]
    user = body["user"]
    assert {"id", "phone_masked", "assurance_level", "real_name_verified"} <= set(user)
    assert user["phone_masked"] == "138****8000"
    assert user["assurance_level"] == "L1"
    assert user["real_name_verified"] is False
    assert PHONE not in response.get_data(as_text=True)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == user["id"]


def test_second_login_reaches_the_same_account(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0).test_client()
    send(client)
    first = login(client, PHONE, latest_code(client, PHONE)).get_json()
    send(client)
    second = login(client, PHONE, latest_code(client, PHONE))
    assert second.status_code == 200
    assert second.get_json()["user"]["id"] == first["user"]["id"]
    assert second.get_json()["access_token"] != first["access_token"]
    assert user_count() == 1


def test_phone_with_plus86_prefix_is_the_same_phone(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0).test_client()
    assert send(client, "+86" + PHONE).status_code == 202
    items = client.get(f"/api/v1/dev/sms-outbox?phone={PHONE}").get_json()["items"]
    assert items and items[0]["phone"] == PHONE
    first = login(client, "+86" + PHONE, items[0]["code"])
    assert first.status_code == 200, first.get_json()
    send(client, PHONE)
    second = login(client, PHONE, latest_code(client, PHONE))
    assert second.get_json()["user"]["id"] == first.get_json()["user"]["id"]


def test_code_is_single_use(client):
    send(client)
    code = latest_code(client, PHONE)
    assert login(client, PHONE, code).status_code == 200
    assert_problem(login(client, PHONE, code), 400, "sms_code_expired")


def test_code_for_another_phone_does_not_work(client):
    send(client)
    code = latest_code(client, PHONE)
    assert_problem(login(client, OTHER, code), 400, "sms_code_expired")
    assert login(client, PHONE, code).status_code == 200


def test_expired_code_is_refused(make_app):
    client = make_app(SMS_CODE_TTL=1).test_client()
    response = send(client)
    assert response.get_json()["expires_in"] == 1
    code = latest_code(client, PHONE)
    time.sleep(1.3)  # real time: Redis expires the code's key itself (a moved process clock would not)
    assert_problem(login(client, PHONE, code), 400, "sms_code_expired")
    assert user_count() == 0


def test_wrong_code_then_right_code(client):
    send(client)
    code = latest_code(client, PHONE)
    assert_problem(login(client, PHONE, other_code(code)), 400, "sms_code_invalid")
    assert login(client, PHONE, code).status_code == 200


def test_five_wrong_tries_kill_the_code(client):
    send(client)
    code = latest_code(client, PHONE)
    wrong = other_code(code)
    for _ in range(4):
        assert_problem(login(client, PHONE, wrong), 400, "sms_code_invalid")
    assert_problem(login(client, PHONE, wrong), 400, "sms_code_attempts_exceeded")
    assert_problem(login(client, PHONE, code), 400, "sms_code_expired")
    assert user_count() == 0


def test_new_code_replaces_the_old_one(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0).test_client()
    send(client)
    old = latest_code(client, PHONE)
    send(client)
    new = latest_code(client, PHONE)
    if old != new:  # one in a million they coincide
        assert_problem(login(client, PHONE, old), 400, "sms_code_invalid")
    assert login(client, PHONE, new).status_code == 200


# --- Limits ----------------------------------------------------------------------------------

def test_resend_cooldown(client):
    assert send(client).status_code == 202
    response = send(client)
    body = assert_problem(response, 429, "sms_resend_too_soon")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["detail"]
    assert len(client.get(f"/api/v1/dev/sms-outbox?phone={PHONE}").get_json()["items"]) == 1
    # The cooldown is per phone: another phone is not affected.
    assert send(client, OTHER).status_code == 202


def test_per_phone_hourly_limit(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0).test_client()
    for _ in range(5):
        assert send(client).status_code == 202
    response = send(client)
    assert_problem(response, 429, "sms_limit_reached")
    assert 60 < int(response.headers["Retry-After"]) <= 3600
    assert len(client.get(f"/api/v1/dev/sms-outbox?phone={PHONE}").get_json()["items"]) == 5
    assert send(client, OTHER).status_code == 202


def test_per_phone_daily_limit(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0, SMS_PER_PHONE_HOUR=10, SMS_PER_PHONE_DAY=3).test_client()
    for _ in range(3):
        assert send(client).status_code == 202
    response = send(client)
    assert_problem(response, 429, "sms_limit_reached")
    assert 3600 < int(response.headers["Retry-After"]) <= 86400  # the daily window, not the hourly one


def test_per_ip_limit_and_refusals_count_nothing(make_app):
    client = make_app(SMS_PER_IP_HOUR=3).test_client()
    phones = vectors.PHONES[:4]
    assert send(client, phones[0]).status_code == 202
    # Refused by the phone's cooldown: must not use up one of the IP's three sends.
    assert_problem(send(client, phones[0]), 429, "sms_resend_too_soon")
    assert send(client, phones[1]).status_code == 202
    assert send(client, phones[2]).status_code == 202
    refused = send(client, phones[3])
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert client.get(f"/api/v1/dev/sms-outbox?phone={phones[3]}").get_json()["items"] == []
    # The refused request counted nothing against the phone: from another address it gets a code at once.
    elsewhere = send(client, phones[3], environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 202, elsewhere.get_json()
    assert len(client.get(f"/api/v1/dev/sms-outbox?phone={phones[3]}").get_json()["items"]) == 1


# --- No account enumeration ------------------------------------------------------------------

def test_registered_and_unregistered_phones_get_identical_answers(make_app):
    client = make_app(SMS_RESEND_COOLDOWN=0).test_client()
    send(client, PHONE)
    assert login(client, PHONE, latest_code(client, PHONE)).status_code == 200  # PHONE now has an account
    known = send(client, PHONE)
    unknown = send(client, OTHER)
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()

    def headers(response):
        return {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")}

    assert headers(known) == headers(unknown)
    # Both really got a code (the unknown phone can sign up with it).
    assert login(client, OTHER, latest_code(client, OTHER)).status_code == 200


# --- Concurrency -----------------------------------------------------------------------------

def test_concurrent_logins_with_one_code_succeed_once(app, client):
    send(client)
    code = latest_code(client, PHONE)
    barrier = threading.Barrier(5)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def attempt():
        own_client = app.test_client()
        barrier.wait()
        response = login(own_client, PHONE, code)
        with lock:
            results.append((response.status_code, response.get_json().get("code")))

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 5
    assert sorted(status for status, _ in results) == [200, 400, 400, 400, 400]
    assert {code for status, code in results if status == 400} == {"sms_code_expired"}
    assert user_count() == 1


# --- Malformed input -------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["1380013800a", "1380013800", "23800138000", "138001380001", "", "+8523800138000"])
def test_malformed_phone(client, phone):
    body = assert_problem(send(client, phone), 422, "phone_invalid")
    assert "phone" in body["errors"]
    assert_problem(login(client, phone, "123456"), 422, "phone_invalid")
    assert client.get("/api/v1/dev/sms-outbox").get_json()["items"] == []


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", "12 456"])
def test_malformed_code(client, code):
    send(client)
    body = assert_problem(login(client, PHONE, code), 422, "validation_failed")
    assert "code" in body["errors"]
    # A malformed code is not a try: the real code still works.
    assert login(client, PHONE, latest_code(client, PHONE)).status_code == 200


def test_missing_fields(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={}), 422, "validation_failed")
    assert set(body["errors"]) == {"phone", "code"}


# --- Storage ---------------------------------------------------------------------------------

def _redis_strings(redis, skip: tuple[str, ...] = ()) -> list[str]:
    found = []
    for key in redis.scan_iter("*"):
        if key in skip:
            continue
        found.append(key)
        kind = redis.type(key)
        if kind == "string":
            found.append(redis.get(key) or "")
        elif kind == "hash":
            for field, value in redis.hgetall(key).items():
                found += [field, value]
        elif kind == "list":
            found += redis.lrange(key, 0, -1)
        elif kind == "set":
            found += list(redis.smembers(key))
        elif kind == "zset":
            found += redis.zrange(key, 0, -1)
    return found


def _contains_code(strings: list[str], code: str) -> list[str]:
    pattern = re.compile(rf"(?<!\d){code}(?!\d)")
    return [s for s in strings if pattern.search(s)]


def test_code_is_stored_hashed(app, client):
    send(client)
    code = latest_code(client, PHONE)
    strings = _redis_strings(app.extensions["redis"], skip=(OUTBOX_KEY,))  # the dev outbox is the "SMS" itself
    assert strings, "the pending code must be kept somewhere"
    assert _contains_code(strings, code) == []
    assert login(client, PHONE, code).status_code == 200


# --- The production SMS adapter (Aliyun) wired into the app ---------------------------------

@pytest.fixture
def aliyun_app(make_app):
    fake = FakeAliyunSms({SMS_KEY_ID: SMS_KEY_SECRET})
    with FakeServer(fake) as server:
        try:
            app = make_app(SMS_BACKEND="aliyun", SMS_ENDPOINT=server.url + "/", SMS_ACCESS_KEY_ID=SMS_KEY_ID,
                           SMS_ACCESS_KEY_SECRET=SMS_KEY_SECRET, SMS_SIGN_NAME=SIGN_NAME, SMS_TEMPLATE_CODE=TEMPLATE)
            yield app, fake, server
        finally:
            fake.release.set()


def test_aliyun_delivers_signed_code_that_logs_in(aliyun_app):
    app, fake, server = aliyun_app
    client = app.test_client()
    response = send(client)
    assert response.status_code == 202, response.get_json()
    assert fake.errors == []
    assert len(fake.sent) == 1
    sent = fake.sent[0]
    assert (sent["phone"], sent["sign"], sent["template"]) == (PHONE, SIGN_NAME, TEMPLATE)
    code = sent["params"]["code"]
    assert re.fullmatch(r"\d{6}", code)
    (request,) = server.requests
    form = request.form
    assert form["Action"] == "SendSms" and form["AccessKeyId"] == SMS_KEY_ID
    assert form["Signature"] == expected_signature(form, SMS_KEY_SECRET)
    # No development outbox copy and no raw code anywhere in Redis.
    assert _contains_code(_redis_strings(app.extensions["redis"]), code) == []
    result = login(client, PHONE, code)
    assert result.status_code == 200, result.get_json()
    assert result.get_json()["user"]["assurance_level"] == "L1"


def test_aliyun_failure_is_503_and_releases_the_cooldown(aliyun_app):
    app, fake, server = aliyun_app
    client = app.test_client()
    fake.fail_with_503 = 100
    assert_problem(send(client), 503, "sms_unavailable")
    assert server.count("/") >= 1
    assert fake.sent == []
    fake.fail_with_503 = 0
    retry = send(client)
    assert retry.status_code == 202, retry.get_json()
    assert len(fake.sent) == 1
    assert login(client, PHONE, fake.sent[0]["params"]["code"]).status_code == 200
