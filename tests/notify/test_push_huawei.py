"""Huawei Push Kit (notify/push/huawei.py) against a fake that checks the OAuth client credentials, the
Bearer token and the body (category, urgency, ttl, click action): sending, token caching and renewal,
dead tokens dropping the device through the worker, traffic control retried."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests

from app.config import ConfigError, check_config, load_settings
from identity.adapters.wechat import InMemoryTokenCache
from notify.push import build_channels
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.huawei import HuaweiPushChannel, android_intent, qps_limit
from tests.fakes.huawei_push import FakeHuaweiPush
from tests.fakes.server import FakeServer
from tests.notify.vendor_push import CREATED, assert_device_dropped, case_notice, register, run_worker

APP_ID = "107654321"
SECRET = "hms-secret-" + "s" * 20
TOKEN = "IQAAAACy0kYqAAD" + "x" * 60
DAYTIME = CREATED.timestamp()  # 10:00 China time


class Counter:
    """The two Redis calls the QPS counter makes."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.ttls: dict[str, int] = {}

    def incr(self, key: str) -> int:
        self.values[key] = self.values.get(key, 0) + 1
        return self.values[key]

    def expire(self, key: str, seconds: int) -> None:
        self.ttls[key] = seconds


def _message(**kw) -> PushMessage:
    return case_notice(**{"data": {"case_id": "case_1"}, **kw})


@pytest.fixture
def hms():
    fake = FakeHuaweiPush(app_id=APP_ID, client_secret=SECRET)
    with FakeServer(fake) as server:
        channel = HuaweiPushChannel(endpoint=server.url, oauth_endpoint=server.url + "/oauth2/v3/token",
                                    app_id=APP_ID, client_secret=SECRET, token_cache=InMemoryTokenCache(),
                                    clock=lambda: DAYTIME)
        yield fake, channel, server


def test_hms_gets_a_client_credentials_token_once_and_sends_a_service_message(hms):
    fake, channel, server = hms
    channel.send(TOKEN, _message())
    channel.send(TOKEN, _message())
    assert fake.token_requests == 1  # the access token is cached until it expires
    token_form = server.requests[0].form
    assert token_form == {"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": SECRET}
    assert server.requests[1].path == f"/v1/{APP_ID}/messages:send"
    message = fake.messages[0]
    android = message["android"]
    assert message["token"] == [TOKEN] and json.loads(message["data"]) == {"case_id": "case_1"}
    assert android["category"] == "WORK" and android["urgency"] == "NORMAL" and android["ttl"] == "259200s"
    assert android["notification"]["title"] == "办件进度：已受理"
    assert android["notification"]["click_action"] == {
        "type": 1, "intent": "intent://notifications?kind=case_status#Intent;scheme=yiwang;launchFlags=0x4000000;end"}


def test_hms_security_notices_are_account_category_and_urgent_is_high(hms):
    fake, channel, _ = hms
    channel.send(TOKEN, _message(kind="new_device", urgent=True, data={"link": "yiwang://devices"}))
    android = fake.messages[0]["android"]
    assert android["category"] == "ACCOUNT" and android["urgency"] == "HIGH"
    assert android["notification"]["click_action"]["intent"].startswith("intent://devices#Intent;scheme=yiwang;")


def test_hms_invalid_token_is_dead_and_the_worker_drops_the_device(app, client, citizen, notice, make_worker, hms):
    fake, channel, _ = hms
    with pytest.raises(TokenDead, match="80300007"):
        fake.invalid_tokens.add("gone" + TOKEN)
        channel.send("gone" + TOKEN, _message())
    fake.invalid_tokens.add(TOKEN)
    register(client, citizen, "hms", TOKEN)
    run_worker(make_worker, notice, citizen, channel)
    assert_device_dropped(app, "hms")


def test_hms_expired_token_is_renewed_once_and_traffic_control_retries(hms):
    fake, channel, _ = hms
    channel.send(TOKEN, _message())
    fake.expire_all()  # 80200003 OAuth token expired
    channel.send(TOKEN, _message())
    assert fake.token_requests == 2 and len(fake.messages) == 2
    fake.fail_next = [503]
    with pytest.raises(PushRetryable, match="503"):
        channel.send(TOKEN, _message())
    fake.fail_next = [500]
    with pytest.raises(PushRetryable, match="81000001"):
        channel.send(TOKEN, _message())


def test_hms_a_wrong_secret_is_not_a_dead_token_and_a_too_large_body_is_rejected(hms):
    fake, _, server = hms
    wrong = HuaweiPushChannel(endpoint=server.url, oauth_endpoint=server.url + "/oauth2/v3/token", app_id=APP_ID,
                              client_secret="wrong", clock=lambda: DAYTIME)
    with pytest.raises(PushRetryable, match="token refused"):
        wrong.send(TOKEN, _message())
    right = HuaweiPushChannel(endpoint=server.url, oauth_endpoint=server.url + "/oauth2/v3/token", app_id=APP_ID,
                              client_secret=SECRET, clock=lambda: DAYTIME)
    with pytest.raises(PushRejected, match="80300008"):
        right.send(TOKEN, _message(data={"blob": "x" * 6000}))
    assert fake.messages == []


def test_the_fake_refuses_a_marketing_or_unclassified_message(hms):
    fake, channel, server = hms
    body = channel.message(TOKEN, _message())
    body["message"]["android"]["category"] = "MARKETING"
    answer = requests.post(f"{server.url}/v1/{APP_ID}/messages:send", json=body, timeout=5,
                           headers={"Authorization": f"Bearer {channel.access_token()}"})
    assert answer.json()["code"] == "80100003" and fake.messages == []


def test_hms_holds_non_urgent_pushes_between_0_and_6_china_time(hms):
    fake, _, server = hms
    now = [datetime(2026, 3, 10, 18, 30, tzinfo=timezone.utc).timestamp()]  # 02:30 China time
    channel = HuaweiPushChannel(endpoint=server.url, oauth_endpoint=server.url + "/oauth2/v3/token", app_id=APP_ID,
                                client_secret=SECRET, clock=lambda: now[0])
    with pytest.raises(PushRetryable, match="night hold") as held:
        channel.send(TOKEN, _message())
    assert held.value.retry_after == 3.5 * 3600 and fake.messages == []
    channel.send(TOKEN, _message(urgent=True))  # urgent (security) notices are not held
    now[0] += 3.5 * 3600  # 06:00
    channel.send(TOKEN, _message())
    assert len(fake.messages) == 2


def test_hms_per_app_qps_follows_huaweis_formula_and_is_shared_in_redis(hms):
    fake, _, server = hms
    assert qps_limit(0, 1.0) == 6000 and qps_limit(20_000_000, 1.0) == 14_400 and qps_limit(20_000_000, 0.5) == 7200
    counter = Counter()
    channel = HuaweiPushChannel(endpoint=server.url, oauth_endpoint=server.url + "/oauth2/v3/token", app_id=APP_ID,
                                client_secret=SECRET, clock=lambda: DAYTIME, counter=counter, qps=2)
    channel.send(TOKEN, _message())
    channel.send(TOKEN, _message())
    with pytest.raises(PushRetryable, match="QPS") as limited:
        channel.send(TOKEN, _message())
    assert limited.value.retry_after == 1.0 and len(fake.messages) == 2
    assert list(counter.ttls.values()) == [2]


def test_android_intent_from_a_deep_link():
    assert android_intent("yiwang://cases/1?x=2") == "intent://cases/1?x=2#Intent;scheme=yiwang;launchFlags=0x4000000;end"


def test_hms_is_built_from_config_and_production_needs_its_secrets():
    config = load_settings({"PUSH_BACKEND": "http", "PUSH_CHANNELS": "hms", "HMS_APP_ID": APP_ID,
                            "HMS_CLIENT_SECRET": SECRET}, environ={})
    channel = build_channels(config, None)["hms"]
    assert isinstance(channel, HuaweiPushChannel) and channel.endpoint == "https://push-api.cloud.huawei.com"
    assert channel.qps == 6000
    assert build_channels(config | {"HMS_MAU": 50_000_000}, None)["hms"].qps == 36_000
    assert "hms" in build_channels(load_settings({"PUSH_BACKEND": "log"}, environ={}), None)
    production = load_settings({"APP_ENV": "production", "PUSH_BACKEND": "http", "PUSH_CHANNELS": "hms"}, environ={})
    with pytest.raises(ConfigError) as refused:
        check_config(production)
    assert "HMS_APP_ID is not set" in str(refused.value) and "HMS_CLIENT_SECRET is not set" in str(refused.value)
