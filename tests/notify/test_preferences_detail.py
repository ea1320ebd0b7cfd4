"""Issue 16: "notification preferences and quiet hours" as a citizen expects them — their own quiet-hours
window (Beijing time, across midnight or not, start == end refused) and per-category push switches
(a muted category is not pushed but still reaches the inbox and the live stream; the security and
critical notices cannot be muted). Driven through the API and the worker on an injectable clock."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest

from app.db import db, execute
from notify.categories import CATEGORIES, LOCKED, category_of
from notify.models import Delivery, InboxEntry, OutboxEntry, Preference
from notify.outbox import CRITICAL_KINDS, KINDS, SECURITY_KINDS
from notify.quiet import SHANGHAI, held_until
from tests.fixtures.notify import ScriptedChannel
from tests.helpers import assert_problem, rows
from tests.notify.test_worker import APNS, _device
from tests.notify.vendor_push import register
from tests.vectors import PHONES

PREFS = "/api/v1/notifications/preferences"


def _at(clock, hour: int, minute: int = 0, days: int = 0) -> datetime:
    """The clock's day (Beijing time) at hour:minute, `days` later, as an aware datetime."""
    day = clock.now.astimezone(SHANGHAI).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _local(moment: datetime | None) -> tuple | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    local = moment.astimezone(SHANGHAI)
    return local.date(), local.time()


# --- the categories table ----------------------------------------------------------------------

def test_every_kind_is_in_exactly_one_category_and_the_critical_ones_are_locked():
    listed = [kind for _name, kinds in CATEGORIES.values() for kind in kinds]
    assert sorted(listed) == sorted(KINDS) and len(listed) == len(set(listed))
    assert set(LOCKED) == {"security"} and set(CATEGORIES["security"][1]) == set(CRITICAL_KINDS)
    assert SECURITY_KINDS <= set(CATEGORIES["security"][1])
    assert category_of("appointment_reminder") == "appointments" and category_of("licence_issued") == "licences"
    assert category_of("proxy_used") == "proxies" and category_of("system") == "service"


# --- the window at its edges (notify/quiet.py) -----------------------------------------------------

def test_a_window_across_midnight_holds_inside_it_until_its_end_and_not_at_the_end_minute(clock):
    tomorrow = _at(clock, 0, days=1).date()
    today = _at(clock, 0).date()
    start, end = "22:30", "07:00"
    assert _local(held_until(_at(clock, 22, 30), start, end)) == (tomorrow, time(7, 0))  # at the start minute
    assert _local(held_until(_at(clock, 23, 59), start, end)) == (tomorrow, time(7, 0))
    assert _local(held_until(_at(clock, 3, 0), start, end)) == (today, time(7, 0))  # after midnight: the same day
    assert _local(held_until(_at(clock, 6, 59), start, end)) == (today, time(7, 0))
    assert held_until(_at(clock, 7, 0), start, end) is None  # the end minute is outside
    assert held_until(_at(clock, 22, 29), start, end) is None
    assert held_until(_at(clock, 12, 0), start, end) is None


def test_a_window_within_one_day_and_the_default_window(clock):
    today = _at(clock, 0).date()
    assert _local(held_until(_at(clock, 13, 0), "13:00", "14:00")) == (today, time(14, 0))
    assert _local(held_until(_at(clock, 13, 59), "13:00", "14:00")) == (today, time(14, 0))
    for outside in ((14, 0), (12, 59), (23, 0), (3, 0)):
        assert held_until(_at(clock, *outside), "13:00", "14:00") is None, outside
    # no window stored (a row from before migration 020, or a malformed value): 22:00–08:00
    assert _local(held_until(_at(clock, 23, 0))) == (_at(clock, 0, days=1).date(), time(8, 0))
    assert _local(held_until(_at(clock, 23, 0), "25:00", None)) == (_at(clock, 0, days=1).date(), time(8, 0))
    assert held_until(_at(clock, 8, 0)) is None
    assert held_until(_at(clock, 9, 0), "09:00", "09:00") is None  # an empty window (refused when set) holds nothing


# --- the API -------------------------------------------------------------------------------------

def test_preferences_answer_the_window_and_each_category_with_its_name_switch_and_lock(client, citizen):
    h = citizen["headers"]
    answer = client.get(PREFS, headers=h).get_json()
    assert (answer["quiet_start"], answer["quiet_end"]) == ("22:00", "08:00")
    assert answer["quiet_hours_window"] == {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}
    cats = {c["id"]: c for c in answer["categories"]}
    assert list(cats) == list(CATEGORIES)
    assert cats["appointments"] == {"id": "appointments", "name": "预约", "on": True, "locked": False,
                                    "locked_reason": None, "kinds": list(CATEGORIES["appointments"][1])}
    assert cats["security"]["locked"] and cats["security"]["on"] and "不能关闭" in cats["security"]["locked_reason"]
    english = {c["id"]: c for c in client.get(PREFS, headers={**h, "Accept-Language": "en"}).get_json()["categories"]}
    assert english["appointments"]["name"] == "Appointments" and english["proxies"]["name"] == "Family proxies"
    assert "cannot be switched off" in english["security"]["locked_reason"]

    saved = client.put(PREFS, json={"quiet_start": "22:30", "quiet_end": "07:00", "categories": {"appointments": False}},
                       headers=h).get_json()
    assert (saved["quiet_start"], saved["quiet_end"], saved["quiet_hours"]) == ("22:30", "07:00", True)
    assert saved["quiet_hours_window"]["start"] == "22:30"
    assert {c["id"]: c["on"] for c in saved["categories"]}["appointments"] is False
    # fields left out keep their value; a category switched on again
    again = client.put(PREFS, json={"channels": {"sms": False}}, headers=h).get_json()
    assert (again["quiet_start"], again["quiet_end"]) == ("22:30", "07:00")
    assert {c["id"]: c["on"] for c in again["categories"]}["appointments"] is False
    back = client.put(PREFS, json={"categories": {"appointments": True, "cases": False}}, headers=h).get_json()
    assert {c["id"]: c["on"] for c in back["categories"]} == {c: c != "cases" for c in CATEGORIES}


def test_a_window_starting_when_it_ends_and_a_locked_category_are_refused_in_both_languages(client, citizen):
    h = citizen["headers"]
    body = assert_problem(client.put(PREFS, json={"quiet_start": "23:00", "quiet_end": "23:00"}, headers=h),
                          422, "quiet_hours_empty")
    assert "不能相同" in body["detail"]
    # only the end given, equal to the stored start (22:00)
    english = client.put(PREFS, json={"quiet_end": "22:00"}, headers={**h, "Accept-Language": "en"})
    assert english.status_code == 422 and english.get_json()["code"] == "quiet_hours_empty"
    assert english.get_json()["detail"].startswith("Quiet hours cannot start and end at the same time")
    locked = assert_problem(client.put(PREFS, json={"categories": {"security": False, "cases": False}}, headers=h),
                            422, "category_locked")
    assert "账号与安全" in locked["detail"] and locked["categories"] == ["security"]
    locked_en = client.put(PREFS, json={"categories": {"security": False}}, headers={**h, "Accept-Language": "en"})
    assert "“Account and security” notices cannot be switched off" in locked_en.get_json()["detail"]
    for wrong in ({"quiet_start": "7:00"}, {"quiet_end": "24:00"}, {"quiet_start": "07:60"}, {"quiet_start": 700},
                  {"categories": {"weather": False}}, {"categories": {"cases": "no"}}):
        assert_problem(client.put(PREFS, json=wrong, headers=h), 422, "validation_failed")
    # nothing of the refused requests was saved; switching the locked category on is allowed (it is on)
    kept = client.put(PREFS, json={"categories": {"security": True}}, headers=h).get_json()
    assert (kept["quiet_start"], kept["quiet_end"]) == ("22:00", "08:00")
    assert all(c["on"] for c in kept["categories"])
    assert_problem(client.put(PREFS, json={"quiet_start": "22:30"}), 401)


def test_the_openapi_document_states_the_window_pattern_and_the_categories(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    update = schemas["PreferencesUpdate"]["properties"]
    assert update["quiet_start"]["pattern"] == update["quiet_end"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    switches = schemas["CategorySwitches"]["properties"]
    assert set(switches) == set(CATEGORIES)
    assert schemas["Preferences"]["properties"]["quiet_start"]["pattern"]
    put = spec["paths"][PREFS]["put"]
    assert "422" in put["responses"]
    text = json.dumps(put)
    assert "quiet_hours_empty" in text and "category_locked" in text
    device = schemas["DeviceCreate"]["properties"]["locale"]
    assert device["enum"] == ["zh-CN", "en"] and device.get("default") == "zh-CN"


def test_rows_from_before_the_migration_keep_the_default_window(app, citizen):
    """A preference row written without the new columns (as before migration 020) reads 22:00–08:00, nothing muted."""
    with app.app_context(), db.connection_context():
        execute('INSERT INTO "notify_preference" (user_id, disabled_channels, quiet_hours, updated_at) '
                'VALUES (?, ?, ?, ?)', (citizen["user_id"], "[]", True, datetime(2026, 1, 1)))
        pref = Preference.get_by_id(citizen["user_id"])
    assert (pref.quiet_start, pref.quiet_end, pref.muted_categories) == ("22:00", "08:00", "[]")


# --- the worker --------------------------------------------------------------------------------

def test_the_citizens_own_window_holds_pushes_until_its_end_and_urgent_ones_go_at_once(
        app, client, citizen, notice, make_worker, channels, clock):
    _device(client, citizen)
    client.put(PREFS, json={"quiet_start": "13:00", "quiet_end": "14:00"}, headers=citizen["headers"])
    clock.now = _at(clock, 13, 30)
    notice(citizen["user_id"])
    notice(citizen["user_id"], urgent=True, title="紧急通知")
    worker = make_worker()
    worker.drain()
    assert len(rows(app, InboxEntry)) == 2  # the inbox has both at once
    assert [m.title for _, m in channels["apns"].sent] == ["紧急通知"]
    held = [d for d in rows(app, Delivery) if d.status == "pending"][0]
    assert _local(held.available_at) == (clock.now.astimezone(SHANGHAI).date(), time(14, 0))
    clock.now = _at(clock, 13, 59)
    worker.drain()
    assert len(channels["apns"].sent) == 1
    clock.now = _at(clock, 14, 0)  # the end minute
    worker.drain()
    assert len(channels["apns"].sent) == 2
    # 22:00–08:00 is not this citizen's window any more: 23:30 goes at once
    clock.now = _at(clock, 23, 30)
    notice(citizen["user_id"], title="夜间通知")
    worker.drain()
    assert channels["apns"].sent[-1][1].title == "夜间通知"


def test_a_muted_category_is_not_pushed_but_reaches_the_inbox_and_the_live_channel(
        app, client, citizen, notice, make_worker, channels):
    _device(client, citizen)
    client.put(PREFS, json={"categories": {"appointments": False}}, headers=citizen["headers"])
    live = app.extensions["redis"].pubsub(ignore_subscribe_messages=True)
    live.subscribe(f"notify:user:{citizen['user_id']}")
    live.get_message(timeout=1)
    notice(citizen["user_id"], kind="appointment_reminder", title="预约提醒", body="明天 09:00 请到大厅办理。")
    notice(citizen["user_id"], kind="case_status")
    notice(citizen["user_id"], kind="account_security", title="账号安全提醒", body="您的密码已修改。")
    make_worker().drain()
    assert sorted(e.kind for e in rows(app, InboxEntry)) == ["account_security", "appointment_reminder", "case_status"]
    assert sorted(m.kind for _, m in channels["apns"].sent) == ["account_security", "case_status"]
    published = []
    for _ in range(20):
        message = live.get_message(timeout=0.2)
        if message is not None:
            published.append(json.loads(message["data"])["kind"])
        if len(published) == 3:
            break
    live.close()
    assert "appointment_reminder" in published
    inbox = client.get("/api/v1/notifications", headers=citizen["headers"]).get_json()["items"]
    assert "预约提醒" in [i["title"] for i in inbox]


def test_a_category_muted_while_its_push_waits_for_quiet_hours_to_end_is_dropped(
        app, client, citizen, notice, make_worker, channels, clock):
    _device(client, citizen)
    clock.now = _at(clock, 23, 0)
    notice(citizen["user_id"], kind="appointment_booked", title="预约成功", body="您已预约。")
    worker = make_worker()
    worker.drain()
    assert channels["apns"].sent == [] and [d.status for d in rows(app, Delivery)] == ["pending"]
    client.put(PREFS, json={"categories": {"appointments": False}}, headers=citizen["headers"])
    clock.now = _at(clock, 8, 0, days=1)
    worker.drain()
    assert channels["apns"].sent == []
    (delivery,) = rows(app, Delivery)
    assert (delivery.status, delivery.last_error) == ("dropped", "category_muted")


def test_critical_notices_still_go_by_sms_in_huawei_night_whatever_the_window_and_the_switches(
        app, client, citizen, notice, make_worker, clock):
    """The SMS fallback rules are unchanged: a licence revoked at 02:00 on a Huawei phone goes by SMS to
    the bound phone, with a window that does not cover 02:00 and every switchable category muted."""
    answer = client.put(PREFS, json={"quiet_hours": True, "quiet_start": "13:00", "quiet_end": "14:00",
                                     "categories": {c: False for c in CATEGORIES if c not in LOCKED}},
                        headers=citizen["headers"])
    assert answer.status_code == 200, answer.get_json()
    clock.now = _at(clock, 2, 0)
    hms, sms = ScriptedChannel("hms"), ScriptedChannel("sms")
    register(client, citizen, "hms", "IQAAAACy0kYhAAD" + "x" * 40)
    notice(citizen["user_id"], kind="licence_revoked", title="电子证照已撤销", body="您的证照已被撤销。")
    notice(citizen["user_id"], kind="licence_issued", title="电子证照已签发", body="您的证照已签发。")
    make_worker(channels={"hms": hms, "sms": sms}).drain()
    assert hms.sent == [] and [(t, m.kind) for t, m in sms.sent if m.kind != "new_device"] == [
        (PHONES[0], "licence_revoked")]
    ids = {o.id: o.kind for o in rows(app, OutboxEntry)}
    kinds = sorted(ids[d.outbox_id] for d in rows(app, Delivery))
    assert "licence_issued" not in kinds  # muted: no delivery at all


@pytest.mark.parametrize("kind", sorted(CRITICAL_KINDS - {"new_device"}))
def test_no_switch_mutes_a_critical_kind(app, client, citizen, notice, make_worker, channels, kind):
    _device(client, citizen)
    client.put(PREFS, json={"categories": {c: False for c in CATEGORIES if c not in LOCKED}},
               headers=citizen["headers"])
    notice(citizen["user_id"], kind=kind, title="重要通知", body="请查看。")
    make_worker().drain()
    assert [(t, m.kind) for t, m in channels["apns"].sent] == [(APNS, kind)]
