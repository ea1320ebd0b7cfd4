"""Issue 16, the router: "When a quota is reached the message waits or falls back (inbox always, SMS
only for what is marked critical)". Driven through the worker with the vivo fake's quota mode (10070)
and Huawei's night hold: a critical notice goes by SMS to the bound phone, once per notice, and the
waiting push is dropped; any other notice waits (the inbox has it)."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from identity.adapters.wechat import InMemoryTokenCache
from notify.models import ACCOUNT_PHONE, Delivery, InboxEntry, OutboxEntry, PushAttempt
from notify.outbox import CRITICAL_KINDS, SECURITY_KINDS
from notify.push.vivo import VivoChannel
from notify.quiet import SHANGHAI
from tests.fakes.server import FakeServer
from tests.fakes.vivo_push import FakeVivoPush
from tests.fixtures.notify import ScriptedChannel
from tests.helpers import rows
from tests.notify.test_push_vivo import APP_ID, APP_KEY, APP_SECRET, REG_ID
from tests.notify.vendor_push import assert_waits_for_the_next_china_day, register
from tests.vectors import PHONES


@pytest.fixture
def vivo_full(clock):
    """The vivo fake with its day's quota used up (it answers 10070), on the worker's clock."""
    now = [clock.now.timestamp()]
    fake = FakeVivoPush(app_id=int(APP_ID), app_key=APP_KEY, app_secret=APP_SECRET, clock=lambda: now[0])
    fake.quota = 0
    cache = InMemoryTokenCache(clock=lambda: now[0])
    with FakeServer(fake) as server:
        yield fake, VivoChannel(endpoint=server.url, app_id=APP_ID, app_key=APP_KEY, app_secret=APP_SECRET,
                                token_cache=cache, clock=lambda: now[0])


def _drain(make_worker, *channels) -> ScriptedChannel:
    sms = ScriptedChannel("sms")
    make_worker(channels={c.name: c for c in (*channels, sms)}).drain()
    return sms


def _of(app, kind: str) -> list[Delivery]:
    """The deliveries of the notices of `kind` (registering a device also queues a new_device notice)."""
    ids = {o.id for o in rows(app, OutboxEntry) if o.kind == kind}
    return [d for d in rows(app, Delivery) if d.outbox_id in ids]


def _sms(sms: ScriptedChannel, kind: str) -> list[str]:
    return [token for token, m in sms.sent if m.kind == kind]


def test_critical_kinds_are_the_security_kinds_and_the_marked_ones():
    assert SECURITY_KINDS < CRITICAL_KINDS and {"licence_suspended", "licence_revoked"} <= CRITICAL_KINDS
    assert "case_status" not in CRITICAL_KINDS


def test_a_critical_notice_goes_by_sms_to_the_bound_phone_instead_of_waiting_for_the_quota(
        app, client, citizen, notice, make_worker, vivo_full):
    fake, vivo = vivo_full
    register(client, citizen, "vivo", REG_ID)
    notice(citizen["user_id"], kind="licence_revoked", title="电子证照已撤销", body="您的证照已被撤销。")
    sms = _drain(make_worker, vivo)
    assert [(token, m.title) for token, m in sms.sent if m.kind == "licence_revoked"] == [(PHONES[0], "电子证照已撤销")]
    by_device = {d.device_id: d for d in _of(app, "licence_revoked")}
    assert by_device[ACCOUNT_PHONE].status == "sent" and by_device[ACCOUNT_PHONE].platform == "sms"
    push = next(d for d in by_device.values() if d.platform == "vivo")
    assert push.status == "dropped" and push.last_error.startswith("fallback_sms: vivo 10070")
    assert [a.status for a in rows(app, PushAttempt) if a.delivery_id == push.id] == ["quota_wait"]
    assert fake.sent == [] and [e.kind for e in rows(app, InboxEntry)].count("licence_revoked") == 1  # inbox always


def test_a_non_critical_notice_waits_for_the_next_china_day_and_no_sms_is_sent(
        app, client, citizen, notice, make_worker, vivo_full, clock):
    _fake, vivo = vivo_full
    register(client, citizen, "vivo", REG_ID)
    notice(citizen["user_id"])  # case_status
    sms = _drain(make_worker, vivo)
    assert _sms(sms, "case_status") == [] and all(d.device_id != ACCOUNT_PHONE for d in _of(app, "case_status"))
    assert_waits_for_the_next_china_day(app, clock)
    assert [e.kind for e in rows(app, InboxEntry)].count("case_status") == 1


def test_the_sms_fallback_is_queued_once_per_notice_when_several_devices_wait(
        app, client, citizen, notice, make_worker, vivo_full):
    _fake, vivo = vivo_full
    register(client, citizen, "vivo", REG_ID)
    register(client, citizen, "vivo", "16005080910330978890939")
    notice(citizen["user_id"], kind="licence_suspended", title="电子证照已暂停", body="您的证照已暂停使用。")
    sms = _drain(make_worker, vivo)
    assert _sms(sms, "licence_suspended") == [PHONES[0]]
    assert [d.status for d in _of(app, "licence_suspended") if d.platform == "vivo"] == ["dropped", "dropped"]
    assert sum(d.device_id == ACCOUNT_PHONE for d in _of(app, "licence_suspended")) == 1


def test_with_an_sms_device_the_notice_already_has_its_sms_and_no_second_one_is_queued(
        app, client, citizen, notice, make_worker, vivo_full):
    _fake, vivo = vivo_full
    register(client, citizen, "vivo", REG_ID)
    register(client, citizen, "sms", PHONES[0])
    notice(citizen["user_id"], kind="licence_revoked", title="电子证照已撤销", body="您的证照已被撤销。")
    sms = _drain(make_worker, vivo)
    assert _sms(sms, "licence_revoked") == [PHONES[0]]
    assert all(d.device_id != ACCOUNT_PHONE for d in _of(app, "licence_revoked"))


@pytest.fixture
def night(client, citizen, clock):
    """02:00 China time, the citizen's quiet hours off: only Huawei's own night hold applies."""
    answer = client.put("/api/v1/notifications/preferences", json={"quiet_hours": False, "channels": {}},
                        headers=citizen["headers"])
    assert answer.status_code == 200, answer.get_json()
    clock.now = datetime.combine(clock.now.astimezone(SHANGHAI).date(), time(2, 0), tzinfo=SHANGHAI)


def test_huawei_night_hold_waits_until_six_without_a_send_or_an_attempt(app, client, citizen, notice, make_worker,
                                                                        night, clock):
    hms = ScriptedChannel("hms")
    register(client, citizen, "hms", "IQAAAACy0kYhAAD" + "x" * 40)
    notice(citizen["user_id"])
    sms = _drain(make_worker, hms)
    assert hms.sent == [] and _sms(sms, "case_status") == []
    (delivery,) = _of(app, "case_status")
    assert [a for a in rows(app, PushAttempt) if a.delivery_id == delivery.id] == []
    assert delivery.status == "pending" and delivery.attempts == 0 and delivery.last_error == "hms_night_hold"
    assert delivery.available_at.astimezone(SHANGHAI) == clock.now.astimezone(SHANGHAI).replace(hour=6)
    clock.advance(hours=4)
    make_worker(channels={"hms": hms}).drain()
    assert len(hms.sent) == 1 and _of(app, "case_status")[0].attempts == 1  # the one send: no attempt spent holding


def test_a_critical_notice_in_huawei_night_goes_by_sms(app, client, citizen, notice, make_worker, night):
    hms = ScriptedChannel("hms")
    register(client, citizen, "hms", "IQAAAACy0kYhAAD" + "x" * 40)
    notice(citizen["user_id"], kind="licence_revoked", title="电子证照已撤销", body="您的证照已被撤销。")
    sms = _drain(make_worker, hms)
    assert hms.sent == [] and _sms(sms, "licence_revoked") == [PHONES[0]]
    held = [d.last_error for d in _of(app, "licence_revoked") if d.platform == "hms"]
    assert held == ["fallback_sms: hms_night_hold"]


def test_an_urgent_notice_is_not_held_by_huawei_night(app, client, citizen, notice, make_worker, night):
    hms = ScriptedChannel("hms")
    register(client, citizen, "hms", "IQAAAACy0kYhAAD" + "x" * 40)
    notice(citizen["user_id"], urgent=True)
    _drain(make_worker, hms)
    assert [m.kind for _t, m in hms.sent] == ["case_status"]

