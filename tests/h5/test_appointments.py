"""Appointments on the H5 page (appointments, appointments/new, appointments/<id>): from a hall's page
to a booked slot with its check-in code and QR, the list by status, cancelling after a confirmation,
the booking rules and the no-show rule in the settings' numbers, and the API's refusals said in words
(a second booking at the same hall that day, a no-show ban) — in Chinese and in English."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from app.db import db, new_id, unit_of_work, utcnow
from appointments import models
from mapsvc.models import hall_by_code
from tests.fixtures.h5 import sign_in_demo, snap, tab, text_of, wait_text
from tests.helpers import bearer

DEMO_HALL = "340100-ZWFW-01"  # 合肥市政务服务中心: the demo citizen's appointment (居住证办理) is there
CODE = re.compile(r"[2-9A-HJ-NP-Z]{8}")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def hall_id(app, demo):
    with app.app_context(), db.connection_context():
        return hall_by_code(DEMO_HALL).id


def token(phone) -> str:
    return phone.js("JSON.parse(sessionStorage.getItem('yiwang.h5')).access")


def appointments_of(client, phone) -> list[dict]:
    answer = client.get("/api/v1/appointments", headers=bearer(token(phone)))
    assert answer.status_code == 200
    return answer.get_json()["items"]


def message(phone) -> str:
    return phone.wait_for("(m => !m.hidden && m.innerText)(document.getElementById('message'))")


def pick(phone, day: str | None = None, avoid: str | None = None) -> str:
    """Tap a day (`day`, else the first open one with free places that is not `avoid`), then its first
    free slot; the day tapped."""
    phone.wait_for("document.querySelectorAll('#apt-dates button[data-date]').length > 0")
    if day is None:
        day = phone.js("[...document.querySelectorAll('#apt-dates button[data-date]')]"
                       f".find(b => !b.disabled && !b.innerText.includes('已约满') && !b.innerText.includes('Full') "
                       f"&& b.getAttribute('data-date') !== {json.dumps(avoid)}).getAttribute('data-date')")
    phone.js(f"document.querySelector('#apt-dates button[data-date=\"{day}\"]').click(); true")
    phone.wait_for("!!document.querySelector('#apt-slots button[data-slot]:not(:disabled)')")
    phone.js("document.querySelector('#apt-slots button[data-slot]:not(:disabled)').click(); true")
    phone.wait_for("!document.getElementById('apt-book').disabled")
    return day


def test_book_a_slot_see_its_code_and_qr_then_cancel_it(client, phone, hall_id):
    sign_in_demo(phone)
    existing = appointments_of(client, phone)
    assert [a["status"] for a in existing] == ["booked"]
    # From the map: the hall's page, then one of its items opens the booking screen with it chosen.
    tab(phone, "halls")
    phone.wait_for(f"!!document.querySelector('#halls [data-hall=\"{hall_id}\"]')")
    phone.js(f"document.querySelector('#halls [data-hall=\"{hall_id}\"]').click(); true")
    wait_text(phone, "#hall-items", "居民身份证换领")
    phone.js("document.querySelector('#hall-items [data-item=GA001]').click(); true")
    phone.wait_for("!document.getElementById('appointments-view').hidden")
    wait_text(phone, "#apt-hall", "合肥市政务服务中心")
    phone.wait_for("document.getElementById('apt-item').value === 'GA001'")
    rules = wait_text(phone, "#apt-rules", "爽约")
    assert "可预约明天起 5 个工作日内的时段" in rules and "预约时段开始前 2 小时以上可以取消" in rules
    assert "30 天内爽约（既未取消也未签到）累计 2 次，将暂停预约 30 天。" in rules
    snap(phone, "appointments-new")

    # The day of the appointment the citizen has there already: marked, and refused in words.
    phone.wait_for("document.querySelectorAll('#apt-dates button[data-date]').length > 0")
    assert "您已有预约" in text_of(phone, f"#apt-dates [data-date='{existing[0]['date']}']")
    assert phone.js("document.querySelectorAll('#apt-dates button.held').length") == 1
    pick(phone, existing[0]["date"])
    phone.js("document.getElementById('apt-book').click(); true")
    assert "您在该大厅当天已有预约" in message(phone)
    assert phone.js("location.hash").startswith("#/appointments/new")
    snap(phone, "appointments-already-booked")

    # Another day: booked, and its page shows the check-in code and the QR.
    day = pick(phone, avoid=existing[0]["date"])
    assert "居民身份证换领" in text_of(phone, "#apt-choice")
    phone.js("document.getElementById('apt-book').click(); true")
    phone.wait_for("/^#\\/appointments\\/apt/.test(location.hash)")
    assert "预约成功" in message(phone)
    code = wait_text(phone, "#apt-code", "")
    booked = next(a for a in appointments_of(client, phone) if a["id"] != existing[0]["id"])
    assert CODE.fullmatch(code) and code == booked["check_in_code"] and booked["date"] == day
    phone.wait_for("(i => i.complete && i.naturalWidth > 100 && i.src.startsWith('blob:'))(document.getElementById('apt-qr'))")
    page = text_of(phone, "#apt-detail")
    assert "居民身份证换领" in page and "已预约" in page and "合肥市政务服务中心" in page and day[5:] in page
    assert "可在 " in page and "前取消" in page and "累计 2 次，将暂停预约 30 天" in page
    snap(phone, "appointments-booked")

    # My appointments: both, booked.
    phone.js("location.hash = '#/appointments'; true")
    phone.wait_for("document.querySelectorAll('#appointments [data-appointment]').length === 2")
    assert phone.js("[...document.querySelectorAll('#appointments [data-status=booked]')].length") == 2
    snap(phone, "appointments-list")

    # Cancel: asked first; "keep it" keeps it, "yes" cancels.
    phone.js(f"document.querySelector('#appointments [data-appointment=\"{booked['id']}\"]').click(); true")
    wait_text(phone, "#apt-code", code)
    phone.js("document.getElementById('apt-cancel').click(); true")
    assert "确定取消这次预约吗" in wait_text(phone, "#apt-confirm", "确定取消")
    snap(phone, "appointments-cancel-confirm")
    phone.js("document.getElementById('apt-cancel-no').click(); true")
    phone.wait_for("document.getElementById('apt-confirm').hidden && !document.getElementById('apt-cancel').hidden")
    phone.js("document.getElementById('apt-cancel').click(); document.getElementById('apt-cancel-yes').click(); true")
    phone.wait_for("document.getElementById('apt-detail').getAttribute('data-status') === 'cancelled'")
    assert "预约已取消" in message(phone)
    page = text_of(phone, "#apt-detail")
    assert "已取消" in page and "取消于" in page and code not in page
    assert not phone.js("document.getElementById('apt-qr')") and not phone.js("document.getElementById('apt-cancel')")
    assert {a["id"]: a["status"] for a in appointments_of(client, phone)}[booked["id"]] == "cancelled"
    snap(phone, "appointments-cancelled")

    # The list by status: 已取消 shows only the cancelled one.
    phone.js("location.hash = '#/appointments'; true")
    phone.wait_for("document.querySelectorAll('#appointments [data-appointment]').length === 2")
    phone.js("document.querySelector('#apt-filter [data-status=cancelled]').click(); true")
    phone.wait_for("document.getElementById('appointments').getAttribute('data-loaded') === 'cancelled'")
    shown = phone.js("[...document.querySelectorAll('#appointments [data-appointment]')].map(e => e.getAttribute('data-appointment'))")
    assert shown == [booked["id"]]
    snap(phone, "appointments-list-cancelled")


def test_a_no_show_ban_is_said_when_booking(app, client, phone, hall_id, clock):
    # The server's clock a month before the demo's: the days the page offers are the server's window
    # (from 09-02), whatever the phone's own clock says (a phone months ahead asks again for a listed day).
    now = clock("2026-09-01T10:00")
    user_id = sign_in_demo(phone)
    with app.app_context(), db.connection_context(), unit_of_work():
        models.insert_ban(ban_id=new_id("ban"), user_id=user_id, until=now + timedelta(days=30), no_shows=2, created_at=now)
    phone.js(f"location.hash = '#/appointments/new?hall={hall_id}&item=RS001'; true")
    phone.wait_for("document.getElementById('apt-item').value === 'RS001'")
    phone.wait_for("document.querySelectorAll('#apt-dates button[data-date]').length > 0")
    assert phone.js("document.querySelector('#apt-dates button[data-date]').getAttribute('data-date')") == "2026-09-02"
    pick(phone)
    phone.js("document.getElementById('apt-book').click(); true")
    said = message(phone)
    assert "您近期爽约次数过多，2026年10月01日 10:00前不能预约。" in said
    banned = wait_text(phone, "#apt-banned", "爽约次数过多")
    assert banned == said
    assert "将暂停预约 30 天" in text_of(phone, "#apt-rules")
    assert len(appointments_of(client, phone)) == 1  # nothing booked
    snap(phone, "appointments-banned")


def test_appointments_in_english(client, phone, hall_id):
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang:'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone)
    existing = appointments_of(client, phone)[0]
    tab(phone, "appointments")
    listed = wait_text(phone, "#appointments-view", "My appointments")
    phone.wait_for("document.querySelectorAll('#appointments [data-appointment]').length === 1")
    assert "Booked" in text_of(phone, "#appointments") and "Missed" in listed and "Book an appointment" in listed
    phone.js("document.querySelector('#appointments [data-appointment]').click(); true")
    page = wait_text(phone, "#apt-detail", "Check-in code")
    assert existing["check_in_code"] in page and "You can cancel until" in page
    rules = wait_text(phone, "#apt-rules", "missed")
    assert "2 missed appointments (neither cancelled nor checked in) within 30 days suspend booking for 30 days." in rules
    assert not CJK.search(rules)
    snap(phone, "appointments-detail-en")
    # Booking again that day: the refusal in English.
    phone.js(f"location.hash = '#/appointments/new?hall={hall_id}&item=GA001'; true")
    wait_text(phone, "#apt-rules", "working days")
    pick(phone, existing["date"])
    phone.js("document.getElementById('apt-book').click(); true")
    said = message(phone)
    assert said and not CJK.search(said)
    snap(phone, "appointments-already-booked-en")


def test_an_appointment_cancelled_elsewhere_shows_as_cancelled_on_the_list(client, phone, hall_id, make_worker):
    """The cancellation's notice arrives on the live stream while the list is on screen: the list shows
    the appointment as it is now, without a reload."""
    sign_in_demo(phone)
    existing = appointments_of(client, phone)[0]
    tab(phone, "appointments")
    phone.wait_for(f"document.querySelector('#appointments [data-appointment=\"{existing['id']}\"]')"
                   ".getAttribute('data-status') === 'booked'")
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    assert client.delete(f"/api/v1/appointments/{existing['id']}", headers=bearer(token(phone))).status_code == 204
    make_worker(clock=utcnow).drain()
    phone.wait_for(f"document.querySelector('#appointments [data-appointment=\"{existing['id']}\"]')"
                   ".getAttribute('data-status') === 'cancelled'")
    assert "已取消" in text_of(phone, "#appointments")
    snap(phone, "appointments-cancelled-elsewhere")
