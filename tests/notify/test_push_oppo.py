"""The OPPO PUSH channel against a local fake that checks the sign, the auth token and the message
(private channel id, service category); and through the worker: a dead registration id drops the
device, the daily quota makes the delivery wait for the next day (China time)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from identity.adapters.wechat import InMemoryTokenCache
from notify.push import build_channels
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.china import seconds_to_china_midnight, service_category
from notify.push.oppo import OppoChannel
from notify.quiet import SHANGHAI
from tests.fakes.oppo_push import FakeOppoPush
from tests.fakes.server import FakeServer
from tests.notify.vendor_push import (assert_device_dropped, assert_waits_for_the_next_china_day, case_notice,
                                   register, run_worker)

REG_ID = "CN_078ad8b8a137cadb14ae5b70cf846312"
APP_KEY, MASTER_SECRET, CHANNEL = "7jGL33e7EMsC4S488s4O8OwS8", "87874c1285Eb2C2E3f3ed0159cDd06F7", "yiwang_service"


def _message(idempotency_key: str = "yw-1-dev_a", **kw) -> PushMessage:
    return case_notice(idempotency_key, data={"case_id": "case_1", "link": "yiwang://cases/case_1"}, **kw)


@pytest.fixture
def oppo():
    now = [1_800_000_000.0]
    fake = FakeOppoPush(app_key=APP_KEY, master_secret=MASTER_SECRET, channel_id=CHANNEL, clock=lambda: now[0])
    cache = InMemoryTokenCache(clock=lambda: now[0])
    with FakeServer(fake) as server:
        def channel(secret: str = MASTER_SECRET) -> OppoChannel:
            return OppoChannel(endpoint=server.url, app_key=APP_KEY, master_secret=secret, channel_id=CHANNEL,
                               token_cache=cache, clock=lambda: now[0])
        yield fake, channel, server, now


def test_oppo_signs_the_auth_and_sends_a_service_message_on_the_private_channel(oppo):
    fake, channel, server, now = oppo
    channel().send(REG_ID, _message())
    auth = fake.auth_requests[0]
    assert auth["timestamp"] == str(int(now[0] * 1000)) and len(auth["sign"]) == 64
    sent = fake.messages[0]
    assert sent["target_type"] == 2 and sent["target_value"] == REG_ID
    notification = sent["notification"]
    assert notification["channel_id"] == CHANNEL and notification["category"] == "ORDER"
    assert notification["notify_level"] == 2 and notification["title"] == "办件进度：已受理"
    assert notification["click_action_type"] == 5
    assert notification["click_action_url"].startswith("intent://cases/case_1#Intent;scheme=yiwang;")
    assert notification["app_message_id"] == "yw-1-dev_a" and notification["off_line_ttl"] == 3 * 86400
    assert json.loads(notification["action_parameters"])["case_id"] == "case_1"
    request = [r for r in server.requests if r.path.endswith("/unicast")][0]
    assert request.form["auth_token"] == next(iter(fake.tokens))  # in the body, as OPPO documents it


def test_oppo_token_is_cached_across_sends_and_workers_and_renewed_once_when_refused(oppo):
    fake, channel, _, now = oppo
    channel().send(REG_ID, _message())
    now[0] += 6 * 3600
    channel().send(REG_ID, _message("yw-2-dev_a"))  # another worker, the same cache
    assert len(fake.auth_requests) == 1 and len(fake.messages) == 2
    fake.revoke_all()  # OPPO answers 11 Invalid AuthToken: a new token, the push retried once
    channel().send(REG_ID, _message("yw-3-dev_a"))
    assert len(fake.auth_requests) == 2 and len(fake.messages) == 3
    now[0] += 23 * 3600 + 1  # the cached token is not used past 23 h
    channel().send(REG_ID, _message("yw-4-dev_a"))
    assert len(fake.auth_requests) == 3


def test_oppo_a_retried_delivery_is_shown_once(oppo):
    fake, channel, _, _ = oppo
    channel().send(REG_ID, _message())
    channel().send(REG_ID, _message())  # same idempotency key → same app_message_id
    assert len(fake.messages) == 1


def test_oppo_wrong_master_secret_is_refused_by_the_sign_check(oppo):
    fake, channel, _, _ = oppo
    with pytest.raises(PushRetryable, match="oppo auth refused: 16"):
        channel(secret="0" * 32).send(REG_ID, _message())
    assert fake.refused_auth == [16] and fake.messages == []


def test_oppo_invalid_registration_id_is_dead_flow_control_retries_bad_arguments_rejected(oppo):
    fake, channel, _, _ = oppo
    fake.dead_ids.add(REG_ID)
    with pytest.raises(TokenDead, match="10000"):
        channel().send(REG_ID, _message())
    fake.fail_next = [-2]
    with pytest.raises(PushRetryable, match="-2"):
        channel().send("CN_" + "1" * 32, _message())
    fake.fail_next = [41]
    with pytest.raises(PushRejected, match="41"):
        channel().send("CN_" + "1" * 32, _message())


def test_oppo_daily_quota_waits_for_midnight_china_time_without_calling_oppo_again(oppo):
    fake, channel, server, now = oppo
    fake.quota = 0
    with pytest.raises(PushRetryable) as first:
        channel().send(REG_ID, _message())
    assert first.value.retry_after == seconds_to_china_midnight(now[0])
    midnight = datetime.fromtimestamp(now[0] + first.value.retry_after, SHANGHAI)
    assert (midnight.hour, midnight.minute) == (0, 5)
    calls = server.count("/server/v1/message/notification/unicast")
    with pytest.raises(PushRetryable, match="daily quota"):
        channel().send(REG_ID, _message("yw-2-dev_a"))
    assert server.count("/server/v1/message/notification/unicast") == calls  # OPPO is not asked again today
    fake.quota = 10
    now[0] += first.value.retry_after
    channel().send(REG_ID, _message("yw-3-dev_a"))
    assert len(fake.messages) == 1


def test_service_categories_never_marketing():
    assert service_category("case_status") == "ORDER"
    assert service_category("new_device") == "ACCOUNT" and service_category("licence_revoked") == "ACCOUNT"
    assert service_category("appointment_reminder") == "TODO" and service_category("supplement_requested") == "TODO"
    assert service_category("anything_new") == "ORDER"


def test_build_channels_makes_the_oppo_channel_from_the_config(app):
    config = {**app.config, "PUSH_BACKEND": "http", "PUSH_CHANNELS": "oppo", "OPPO_APP_KEY": APP_KEY,
              "OPPO_MASTER_SECRET": MASTER_SECRET, "OPPO_CHANNEL_ID": CHANNEL}
    channel = build_channels(config, None)["oppo"]
    assert isinstance(channel, OppoChannel) and channel.endpoint == "https://api.push.oppomobile.com"
    assert MASTER_SECRET not in repr(channel)


# --- through the worker ------------------------------------------------------------------------------

def test_worker_drops_the_device_oppo_says_is_invalid(app, client, citizen, notice, make_worker, oppo):
    fake, channel, _, _ = oppo
    register(client, citizen, "oppo", REG_ID)
    fake.dead_ids.add(REG_ID)
    run_worker(make_worker, notice, citizen, channel())
    assert_device_dropped(app, "oppo")


def test_worker_holds_the_delivery_until_the_next_china_day_when_the_quota_is_reached(app, client, citizen, notice,
                                                                                       make_worker, oppo, clock):
    fake, channel, _, now = oppo
    register(client, citizen, "oppo", REG_ID)
    fake.quota = 0
    now[0] = clock.now.timestamp()
    run_worker(make_worker, notice, citizen, channel())
    assert_waits_for_the_next_china_day(app, clock)
