"""The production push adapters against local fakes that speak each provider's protocol."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identity.adapters.wechat import HttpWeChatClient, InMemoryTokenCache
from notify.push.apns import ApnsChannel
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.fcm import FcmChannel
from notify.push.jpush import JPushChannel
from notify.push.sms import AliyunNoticeSms
from notify.push.wechat import WeChatSubscribeChannel
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.apns import FakeApns
from tests.fakes.push_http import FakeFcm, FakeJPush, FakeWeChatSubscribe
from tests.fakes.server import FakeServer

APNS_TOKEN = "a1" * 32
CREATED = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)


def _pem(key) -> tuple[str, str]:
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _message(**kw) -> PushMessage:
    base = dict(title="办件进度：已受理", body="您办理的「个体工商户登记」状态更新为：已受理。", kind="case_status",
                idempotency_key="yw-1-dev_a", data={"case_id": "case_1", "case_no": "HF2026-0001"},
                collapse_key="HF2026-0001", created_at=CREATED, expires_at=CREATED + timedelta(days=3))
    base.update(kw)
    return PushMessage(**base)


# --- APNs over HTTP/2 -------------------------------------------------------------------------

@pytest.fixture
def apns():
    private, public = _pem(ec.generate_private_key(ec.SECP256R1()))
    fake = FakeApns(team_id="TEAM123456", key_id="KEY1234567", public_key_pem=public, topic="cn.gov.yiwang")
    with fake:
        now = [1_800_000_000.0]
        fake.clock = lambda: now[0]
        channel = ApnsChannel(endpoint=fake.url, team_id="TEAM123456", key_id="KEY1234567", private_key_pem=private,
                              topic="cn.gov.yiwang", clock=lambda: now[0])
        yield fake, channel, now


def test_apns_sends_over_http2_with_the_headers_and_provider_token_apple_checks(apns):
    fake, channel, _ = apns
    channel.send(APNS_TOKEN, _message(urgent=True))
    request = fake.requests[-1]
    assert request.path == f"/3/device/{APNS_TOKEN}" and request.method == "POST"
    assert request.headers["apns-topic"] == "cn.gov.yiwang" and request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-priority"] == "10"
    assert request.headers["apns-collapse-id"] == "HF2026-0001"
    assert request.headers["apns-expiration"] == str(int((CREATED + timedelta(days=3)).timestamp()))
    assert request.jwt_header == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    assert request.claims["iss"] == "TEAM123456"
    payload = json.loads(request.body)
    assert payload["aps"]["alert"] == {"title": "办件进度：已受理", "body": "您办理的「个体工商户登记」状态更新为：已受理。"}
    assert payload["case_id"] == "case_1"


def test_apns_provider_token_is_reused_then_renewed_within_20_to_60_minutes(apns):
    fake, channel, now = apns
    channel.send(APNS_TOKEN, _message())
    now[0] += 19 * 60
    channel.send(APNS_TOKEN, _message())
    now[0] += 25 * 60  # 44 minutes after the first
    channel.send(APNS_TOKEN, _message())
    issued = [r.claims["iat"] for r in fake.requests]
    assert issued[0] == issued[1] != issued[2]
    assert fake.connections == 1  # one HTTP/2 connection multiplexes every push


def test_apns_collapse_id_stays_within_64_ascii_bytes_and_normal_priority_is_5(apns):
    fake, channel, _ = apns
    channel.send(APNS_TOKEN, _message(collapse_key="办" * 40))
    channel.send(APNS_TOKEN, _message(collapse_key="办" * 40))
    first, second = (r.headers["apns-collapse-id"] for r in fake.requests)
    assert first == second and first.isascii() and len(first) <= 64
    assert fake.requests[-1].headers["apns-priority"] == "5"


def test_apns_410_and_bad_device_token_are_dead_429_retries_others_rejected(apns):
    fake, channel, _ = apns
    fake.dead_tokens.add(APNS_TOKEN)
    with pytest.raises(TokenDead, match="410 Unregistered"):
        channel.send(APNS_TOKEN, _message())
    fake.bad_tokens.add("b2" * 32)
    with pytest.raises(TokenDead, match="BadDeviceToken"):
        channel.send("b2" * 32, _message())
    fake.fail_next = [(429, "TooManyRequests")]
    with pytest.raises(PushRetryable):
        channel.send("c3" * 32, _message())
    fake.fail_next = [(400, "PayloadTooLarge")]
    with pytest.raises(PushRejected):
        channel.send("c3" * 32, _message())


def test_apns_expired_provider_token_is_renewed_and_the_push_retried_once(apns):
    fake, channel, _ = apns
    fake.fail_next = [(403, "ExpiredProviderToken")]
    channel.send(APNS_TOKEN, _message())
    assert len(fake.requests) == 2 and fake.requests[1].claims["iss"] == "TEAM123456"
    assert channel.provider_token() == fake.requests[1].headers["authorization"][7:]


# --- FCM HTTP v1 -------------------------------------------------------------------------------

@pytest.fixture
def fcm():
    private, public = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    fake = FakeFcm(project_id="yiwang-prod", client_email="push@yiwang-prod.iam.gserviceaccount.com",
                   public_key_pem=public)
    with FakeServer(fake) as server:
        fake.token_uri = server.url + "/token"
        account = {"type": "service_account", "project_id": "yiwang-prod", "client_email": fake.client_email,
                   "private_key": private, "token_uri": fake.token_uri}
        yield fake, FcmChannel(endpoint=server.url, service_account_json=json.dumps(account),
                               token_cache=InMemoryTokenCache()), server


def test_fcm_exchanges_a_service_account_jwt_once_and_sends_v1_messages(fcm):
    fake, channel, server = fcm
    channel.send("fcm-token-" + "x" * 30, _message())
    channel.send("fcm-token-" + "y" * 30, _message())
    assert len(fake.assertions) == 1  # the access token is cached
    claims = fake.assertions[0]
    assert claims["scope"] == FakeFcm.SCOPE and claims["iss"] == fake.client_email
    message = fake.messages[0]
    assert message["notification"] == {"title": "办件进度：已受理", "body": "您办理的「个体工商户登记」状态更新为：已受理。"}
    assert message["android"]["collapse_key"] == "HF2026-0001" and message["android"]["ttl"] == "259200s"
    assert message["data"] == {"case_id": "case_1", "case_no": "HF2026-0001"}


def test_fcm_unregistered_is_dead_401_renews_the_token_503_retries(fcm):
    fake, channel, _ = fcm
    fake.unregistered.add("gone-" + "z" * 30)
    with pytest.raises(TokenDead, match="UNREGISTERED"):
        channel.send("gone-" + "z" * 30, _message())
    fake.revoke_all()
    channel.send("fcm-token-" + "x" * 30, _message())
    assert len(fake.assertions) == 2
    fake.fail_next = [503]
    with pytest.raises(PushRetryable):
        channel.send("fcm-token-" + "x" * 30, _message())


# --- JPush v3 ------------------------------------------------------------------------------------

@pytest.fixture
def jpush():
    fake = FakeJPush(app_key="4f7aeba5b4f3b1c3", master_secret="054d6103823a726fc12d0466")
    with FakeServer(fake) as server:
        yield fake, JPushChannel(endpoint=server.url, app_key=fake.app_key, master_secret=fake.master_secret), server


def test_jpush_basic_auth_system_message_and_one_cid_per_delivery(jpush):
    fake, channel, server = jpush
    channel.send("1a0018970a1b2c3d", _message())
    channel.send("1a0018970a1b2c3d", _message())  # the same delivery retried: same cid, delivered once
    channel.send("1a0018970a1b2c3d", _message(idempotency_key="yw-2-dev_a"))
    assert len(fake.pushes) == 2
    first = fake.pushes[0]
    assert first["options"]["classification"] == 1 and first["audience"] == {"registration_id": ["1a0018970a1b2c3d"]}
    assert first["notification"]["android"]["title"] == "办件进度：已受理"
    assert server.count("/v3/push/cid") == 1  # cids fetched in a block


def test_jpush_unknown_registration_id_is_dead(jpush):
    fake, channel, _ = jpush
    fake.dead_ids.add("1a0018970a1b2c3e")
    with pytest.raises(TokenDead, match="1011"):
        channel.send("1a0018970a1b2c3e", _message())


# --- WeChat subscribe messages -------------------------------------------------------------------

@pytest.fixture
def wechat():
    fake = FakeWeChatSubscribe(appid="wx1234567890abcdef", secret="s" * 32, template_id="TPL-case-progress")
    with FakeServer(fake) as server:
        client = HttpWeChatClient(server.url, fake.appid, fake.secret, token_cache=InMemoryTokenCache())
        yield fake, WeChatSubscribeChannel(client, template_id="TPL-case-progress",
                                           fields="thing1=title,thing2=body,character_string3=case_no,time4=time",
                                           page="pages/cases/detail", state="formal"), server


def test_wechat_subscribe_message_fields_are_cut_to_the_template_limits(wechat):
    fake, channel, server = wechat
    channel.send("oAbCdEfGhIjKlMnOpQrS", _message())
    channel.send("oAbCdEfGhIjKlMnOpQrS", _message())
    sent = fake.sent[0]
    assert sent["touser"] == "oAbCdEfGhIjKlMnOpQrS" and sent["page"] == "pages/cases/detail?id=case_1"
    assert len(sent["data"]["thing2"]["value"]) == 20 and sent["data"]["thing2"]["value"].endswith("…")
    assert sent["data"]["character_string3"]["value"] == "HF2026-0001"
    assert sent["data"]["time4"]["value"] == "2026-03-10 10:00"  # Beijing time
    assert server.count("/cgi-bin/token") == 1


def test_wechat_43101_is_a_dead_subscription_and_a_revoked_token_is_renewed(wechat):
    fake, channel, server = wechat
    fake.refused.add("oRefusedOpenId000001")
    with pytest.raises(TokenDead, match="43101"):
        channel.send("oRefusedOpenId000001", _message())
    fake.tokens.clear()
    channel.send("oAbCdEfGhIjKlMnOpQrS", _message())
    assert server.count("/cgi-bin/token") == 2 and len(fake.sent) == 1


# --- SMS (Aliyun SendSms, notice template) ---------------------------------------------------------

def test_sms_notice_is_signed_and_an_illegal_number_is_dead():
    fake = FakeAliyunSms({"LTAI5tNotifyKey": "notify-secret"})
    with FakeServer(fake) as server:
        channel = AliyunNoticeSms(endpoint=server.url + "/", access_key_id="LTAI5tNotifyKey",
                                  access_key_secret="notify-secret", sign_name="一网通办", template_code="SMS_900001")
        channel.send("13800138000", _message())
        assert fake.sent[0]["template"] == "SMS_900001" and fake.sent[0]["params"] == {"title": "办件进度：已受理"}
        fake.force_code = "isv.MOBILE_NUMBER_ILLEGAL"
        with pytest.raises(TokenDead):
            channel.send("13800138000", _message())
