"""The vivo push channel against a local fake that checks the md5 sign, the authToken and the body
(system-message classification, service category, length rules); and through the worker: a dead
regId drops the device, 10070 makes the delivery wait for the next day (China time)."""
from __future__ import annotations

from datetime import datetime

import pytest

from identity.adapters.wechat import InMemoryTokenCache
from notify.push import build_channels
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.china import seconds_to_china_midnight
from notify.push.vivo import VivoChannel, cut
from notify.quiet import SHANGHAI
from tests.fakes.server import FakeServer
from tests.fakes.vivo_push import FakeVivoPush
from tests.notify.vendor_push import (assert_device_dropped, assert_waits_for_the_next_china_day, case_notice,
                                   register, run_worker)

REG_ID = "16005080910330978890938"
APP_ID, APP_KEY, APP_SECRET = "10004", "25509283-3767-4b9e-83fe-b6e55ac6243e", "8b85c2b4-1e0f-4c3b-9a55-2d12df8f0a11"


def _message(idempotency_key: str = "yw-1-dev_v", **kw) -> PushMessage:
    return case_notice(idempotency_key, **kw)


@pytest.fixture
def vivo():
    now = [1_800_000_000.0]
    fake = FakeVivoPush(app_id=int(APP_ID), app_key=APP_KEY, app_secret=APP_SECRET, clock=lambda: now[0])
    cache = InMemoryTokenCache(clock=lambda: now[0])
    with FakeServer(fake) as server:
        def channel(secret: str = APP_SECRET) -> VivoChannel:
            return VivoChannel(endpoint=server.url, app_id=APP_ID, app_key=APP_KEY, app_secret=secret,
                               token_cache=cache, clock=lambda: now[0])
        yield fake, channel, server, now


def test_vivo_signs_the_auth_and_sends_a_system_message_with_a_service_category(vivo):
    fake, channel, server, now = vivo
    channel().send(REG_ID, _message())
    auth = fake.auth_requests[0]
    assert auth["appId"] == 10004 and auth["timestamp"] == int(now[0] * 1000) and len(auth["sign"]) == 32
    sent = fake.sent[0]
    assert sent["regId"] == REG_ID and sent["classification"] == 1 and sent["category"] == "ORDER"
    assert sent["notifyType"] == 4 and sent["title"] == "办件进度：已受理" and sent["timeToLive"] == 3 * 86400
    assert sent["skipType"] == 4
    assert sent["skipContent"] == "intent://notifications?kind=case_status#Intent;scheme=yiwang;launchFlags=0x4000000;end"
    assert sent["requestId"] == "yw-1-dev_v" and sent["clientCustomMap"]["case_no"] == "HF2026-0001"
    request = [r for r in server.requests if r.path == "/message/send"][0]
    assert request.headers["Authtoken"] == next(iter(fake.tokens))


def test_vivo_cuts_title_and_content_by_its_length_rule():
    assert cut("办" * 30, 40) == "办" * 20 and cut("a" * 50, 40) == "a" * 40 and cut("办a", 2) == "办"


def test_vivo_token_is_cached_across_sends_and_workers_renewed_when_refused_and_after_2_hours(vivo):
    fake, channel, _, now = vivo
    channel().send(REG_ID, _message())
    channel().send(REG_ID, _message("yw-2-dev_v"))  # another worker, the same cache
    assert len(fake.auth_requests) == 1 and len(fake.sent) == 2
    fake.revoke_all()  # vivo answers 10000: a new token, the push retried once
    channel().send(REG_ID, _message("yw-3-dev_v"))
    assert len(fake.auth_requests) == 2 and len(fake.sent) == 3
    now[0] += 2 * 3600 + 1
    channel().send(REG_ID, _message("yw-4-dev_v"))
    assert len(fake.auth_requests) == 3


def test_vivo_a_retried_delivery_carries_the_same_request_id_and_is_sent_once(vivo):
    fake, channel, _, _ = vivo
    channel().send(REG_ID, _message())
    channel().send(REG_ID, _message())
    assert len(fake.sent) == 1


def test_vivo_wrong_app_secret_is_refused_by_the_sign_check(vivo):
    fake, channel, _, _ = vivo
    with pytest.raises(PushRetryable, match="vivo auth refused: 10205"):
        channel(secret="wrong").send(REG_ID, _message())
    assert fake.refused_auth == [10205] and fake.sent == []


def test_vivo_invalid_or_uninstalled_reg_id_is_dead_rate_limit_retries_bad_request_rejected(vivo):
    fake, channel, _, _ = vivo
    fake.dead_ids.add(REG_ID)
    with pytest.raises(TokenDead, match="10302"):
        channel().send(REG_ID, _message())
    fake.uninstalled.add("16005080910330978890939")
    with pytest.raises(TokenDead, match="invalidUser status 2"):
        channel().send("16005080910330978890939", _message())
    fake.fail_next = [10072]
    with pytest.raises(PushRetryable, match="10072"):
        channel().send("16005080910330978890940", _message())
    fake.fail_next = [10055]
    with pytest.raises(PushRejected, match="10055"):
        channel().send("16005080910330978890940", _message())


def test_vivo_10070_waits_for_midnight_china_time_and_send_is_not_called_again_that_day(vivo):
    fake, channel, server, now = vivo
    fake.quota = 0
    with pytest.raises(PushRetryable) as first:
        channel().send(REG_ID, _message())
    assert first.value.retry_after == seconds_to_china_midnight(now[0])
    for n in range(3):
        with pytest.raises(PushRetryable, match="daily quota"):
            channel().send(REG_ID, _message(f"yw-{n + 2}-dev_v"))
    assert server.count("/message/send") == 1 and fake.sends_after_quota == 0
    fake.quota = 10
    now[0] += first.value.retry_after
    assert datetime.fromtimestamp(now[0], SHANGHAI).hour == 0
    channel().send(REG_ID, _message("yw-9-dev_v"))
    assert len(fake.sent) == 1


def test_build_channels_makes_the_vivo_channel_from_the_config(app):
    config = {**app.config, "PUSH_BACKEND": "http", "PUSH_CHANNELS": "vivo", "VIVO_APP_ID": APP_ID,
              "VIVO_APP_KEY": APP_KEY, "VIVO_APP_SECRET": APP_SECRET}
    channel = build_channels(config, None)["vivo"]
    assert isinstance(channel, VivoChannel) and channel.endpoint == "https://api-push.vivo.com.cn"
    assert APP_SECRET not in repr(channel)


# --- through the worker ------------------------------------------------------------------------------

def test_worker_drops_the_device_vivo_says_is_invalid(app, client, citizen, notice, make_worker, vivo):
    fake, channel, _, _ = vivo
    register(client, citizen, "vivo", REG_ID)
    fake.uninstalled.add(REG_ID)
    run_worker(make_worker, notice, citizen, channel())
    assert_device_dropped(app, "vivo")


def test_worker_holds_the_delivery_until_the_next_china_day_on_10070(app, client, citizen, notice, make_worker, vivo,
                                                                     clock):
    fake, channel, _, now = vivo
    register(client, citizen, "vivo", REG_ID)
    fake.quota = 0
    now[0] = clock.now.timestamp()
    run_worker(make_worker, notice, citizen, channel())
    assert_waits_for_the_next_china_day(app, clock)
    assert fake.sends_after_quota == 0
