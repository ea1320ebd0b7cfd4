"""Xiaomi MiPush (notify/push/xiaomi.py) against a fake that checks `Authorization: key=<AppSecret>`, the
form body and the channel id non-marketing messages need since 2024-11-04: sending, dead regids
dropping the device through the worker, rate limits and the daily quota retried later."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from app.config import ConfigError, check_config, load_settings
from notify.push import build_channels
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.xiaomi import XiaomiPushChannel
from tests.fakes.server import FakeServer
from tests.fakes.xiaomi_push import FakeXiaomiPush
from tests.notify.vendor_push import assert_device_dropped, case_notice, register, run_worker

SECRET = "mi-secret-" + "s" * 14 + "=="
PACKAGE = "cn.gov.yiwang"
CHANNEL = "yw_service"
REGID = "hT8f3xQm0z" + "R" * 34
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 22:00 China time


def _message(**kw) -> PushMessage:
    return case_notice(**{"data": {"case_id": "case_1"}, **kw})


@pytest.fixture
def mi():
    fake = FakeXiaomiPush(app_secret=SECRET, package=PACKAGE, channel_ids={CHANNEL})
    with FakeServer(fake) as server:
        now = [NOW.timestamp()]
        channel = XiaomiPushChannel(endpoint=server.url, app_secret=SECRET, package=PACKAGE, channel_id=CHANNEL,
                                    clock=lambda: now[0])
        yield fake, channel, server, now


def test_xiaomi_sends_a_notification_bar_message_with_key_auth_and_the_channel_id(mi):
    fake, channel, server, _now = mi
    channel.send(REGID, _message(title="标题" * 40))
    request = server.requests[0]
    assert request.path == "/v3/message/regid" and request.headers["Authorization"] == f"key={SECRET}"
    form = fake.messages[0]
    assert form["registration_id"] == REGID and form["restricted_package_name"] == PACKAGE
    assert form["extra.channel_id"] == CHANNEL and form["pass_through"] == "0"
    assert len(form["title"]) < 50 and form["description"].startswith("您办理的")
    assert json.loads(form["payload"]) == {"kind": "case_status", "case_id": "case_1"}
    assert form["time_to_live"] == str(3 * 86400 * 1000)
    assert form["extra.notify_effect"] == "2" and form["extra.intent_uri"].startswith("intent://notifications?")


def test_a_message_without_a_registered_channel_id_is_refused(mi):
    fake, _, server, _now = mi
    wrong = XiaomiPushChannel(endpoint=server.url, app_secret=SECRET, package=PACKAGE, channel_id="marketing")
    with pytest.raises(PushRejected, match="10017"):
        wrong.send(REGID, _message())
    assert fake.messages == []
    with pytest.raises(ValueError, match="channel id"):
        XiaomiPushChannel(endpoint=server.url, app_secret=SECRET, package=PACKAGE, channel_id="")
    bad_auth = XiaomiPushChannel(endpoint=server.url, app_secret="wrong", package=PACKAGE, channel_id=CHANNEL)
    with pytest.raises(PushRejected, match="21301"):
        bad_auth.send(REGID, _message())


def test_xiaomi_unknown_regid_is_dead_and_the_worker_drops_the_device(app, client, citizen, notice, make_worker, mi):
    fake, channel, _, _now = mi
    fake.unknown_regids.add(REGID)
    with pytest.raises(TokenDead, match="20301"):
        channel.send(REGID, _message())
    register(client, citizen, "xiaomi", REGID)
    run_worker(make_worker, notice, citizen, channel)
    assert_device_dropped(app, "xiaomi")


def test_xiaomi_rate_limit_retries_and_the_daily_quota_waits_for_midnight_china_time(mi):
    fake, channel, server, now = mi
    fake.fail_next = [10037]
    with pytest.raises(PushRetryable, match="10037") as limited:
        channel.send(REGID, _message())
    assert limited.value.retry_after is None
    fake.fail_next = [200001]
    with pytest.raises(PushRetryable, match="daily quota") as quota:
        channel.send(REGID, _message())
    assert quota.value.retry_after == 2 * 3600 + 300  # 22:00 → 00:05 China time
    calls = len(server.requests)
    with pytest.raises(PushRetryable, match="daily quota"):
        channel.send(REGID, _message())
    assert len(server.requests) == calls  # no further call that day
    now[0] += 2 * 3600 + 300
    channel.send(REGID, _message())
    assert len(fake.messages) == 1


def test_xiaomi_is_built_from_config_and_production_needs_its_secrets():
    config = load_settings({"PUSH_BACKEND": "http", "PUSH_CHANNELS": "xiaomi", "XIAOMI_APP_SECRET": SECRET,
                            "XIAOMI_PACKAGE": PACKAGE, "XIAOMI_CHANNEL_ID": CHANNEL}, environ={})
    channel = build_channels(config, None)["xiaomi"]
    assert isinstance(channel, XiaomiPushChannel) and channel.endpoint == "https://api.xmpush.xiaomi.com"
    production = load_settings({"APP_ENV": "production", "PUSH_BACKEND": "http", "PUSH_CHANNELS": "xiaomi",
                                "XIAOMI_APP_SECRET": SECRET, "XIAOMI_PACKAGE": PACKAGE}, environ={})
    with pytest.raises(ConfigError) as refused:
        check_config(production)
    assert "XIAOMI_CHANNEL_ID is not set" in str(refused.value) and "XIAOMI_APP_SECRET" not in str(refused.value)
