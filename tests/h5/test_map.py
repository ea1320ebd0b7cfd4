"""The service map on the H5 page (halls, halls/<id>): the nearby list with its open-now and item
filters, and one hall's page — address, phone, the week's hours, today's queue and how old it is
(stale data said as such), closures with their reasons, the items it handles, the button to book."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest

from app import calendar
from app.clock import CHINA_TZ as CHINA
from app.db import db
from app.redis import get_redis
from mapsvc import directory, importer, index
from mapsvc.models import hall_by_code
from tests.fixtures.h5 import HEFEI, sign_in_demo, snap, tab, text_of, wait_text
from tests.fixtures.halls import hall

NEARBY = "/api/v1/map/halls/nearby"
WHERE = {"lat": HEFEI["latitude"], "lng": HEFEI["longitude"], "coord": "wgs84", "limit": 10}  # the phone's position


@pytest.fixture
def closed_hall(app, demo, clock):
    """Among the demo halls, one right where the phone is, closed today for 装修 and again later for
    系统升级; its id. The appointment clock (slot lists) is today's, like the map's."""
    clock(datetime.now(CHINA).strftime("%Y-%m-%dT%H:%M"))
    directory.forget()
    calendar.forget()
    today = calendar.china_now().date()
    closures = [{"from": str(today), "reason": "装修"},
                {"from": str(today + timedelta(days=20)), "to": str(today + timedelta(days=21)), "reason": "系统升级"}]
    record = hall("H-9", name="测试网点H-9", lat="31.8186", lng="117.2327", closures=json.dumps(closures, ensure_ascii=False))
    with app.app_context(), db.connection_context():
        importer.import_records(iter([(2, record)]), "gcj02")
        hall_id = hall_by_code("H-9").id
    directory.forget()
    yield hall_id
    directory.forget()
    calendar.forget()


def queue(app, hall_id: str, length: int, minutes_ago: float) -> None:
    """The hall's queue system reported `length` people `minutes_ago` (the live value nearby and detail read)."""
    with app.app_context():
        get_redis().hset(index.QUEUE, hall_id, f"{length}|{int(time.time() - minutes_ago * 60)}")


def shown_halls(phone, loaded: str) -> list[str]:
    phone.wait_for(f"document.getElementById('halls').getAttribute('data-loaded') === {json.dumps(loaded)}")
    return phone.js("[...document.querySelectorAll('#halls [data-hall]')].map(e => e.getAttribute('data-hall'))")


def api_halls(client, **filters) -> list[str]:
    answer = client.get(NEARBY, query_string={**WHERE, **filters})
    assert answer.status_code == 200
    return [h["id"] for h in answer.get_json()["items"]]


def test_the_nearby_list_changes_with_the_open_now_and_item_filters(app, client, phone, closed_hall):
    queue(app, closed_hall, 4, 3)
    sign_in_demo(phone)
    tab(phone, "halls")
    everything = shown_halls(phone, "all")
    assert everything == api_halls(client) and closed_hall in everything
    line = phone.js(f"document.querySelector('#halls [data-hall=\"{closed_hall}\"]').innerText")
    assert "测试网点H-9" in line and "今日休息（装修）" in line and "排队 4 人 · 3 分钟前更新" in line
    assert "米" in line or "公里" in line
    snap(phone, "map-nearby")

    # Open now only: the hall closed today goes, every hall left is open.
    phone.js("document.getElementById('halls-open-now').click(); true")
    open_now = shown_halls(phone, "&open_now=true")
    assert closed_hall not in open_now and open_now == api_halls(client, open_now="true")
    assert phone.js("document.querySelectorAll('#halls [data-open=no]').length") == 0
    snap(phone, "map-open-now")

    # And an item: only halls that handle 公积金贷款 (the test hall does not).
    phone.wait_for("[...document.getElementById('halls-item').options].some(o => o.value === 'GJJ002')")
    assert "公积金贷款" in text_of(phone, "#halls-item")
    phone.js("(s => { s.value = 'GJJ002'; s.dispatchEvent(new Event('change', {bubbles: true})); })"
             "(document.getElementById('halls-item')); true")
    both = shown_halls(phone, "&open_now=true&item=GJJ002")
    assert both == api_halls(client, open_now="true", item="GJJ002")
    assert both != everything and closed_hall not in both
    phone.js("document.getElementById('halls-open-now').click(); true")
    by_item = shown_halls(phone, "&item=GJJ002")
    assert by_item == api_halls(client, item="GJJ002") and by_item and closed_hall not in by_item
    snap(phone, "map-item")


def test_a_halls_page_shows_hours_queue_age_closures_and_books(app, client, runner, phone, closed_hall):
    queue(app, closed_hall, 7, 3)
    # A holiday in the calendar (`flask calendar set`) on a weekday soon: the hall, shut on holidays, says so.
    today = calendar.china_now().date()
    holiday = next(d for d in (today + timedelta(days=i) for i in range(2, 14)) if d.weekday() < 5)
    result = runner.invoke(args=["calendar", "set", str(holiday), "holiday", "中秋节"])
    assert result.exit_code == 0, result.output
    calendar.forget()
    sign_in_demo(phone)
    tab(phone, "halls")
    shown_halls(phone, "all")
    phone.js(f"document.querySelector('#halls [data-hall=\"{closed_hall}\"]').click(); true")
    page = wait_text(phone, "#hall-detail", "办公时间")
    assert phone.js("location.hash") == f"#/halls/{closed_hall}"
    assert "测试网点H-9" in page and "合肥市蜀山区怀宁路1号" in page and "0551-62000000" in page
    assert "今日休息（装修）" in page
    hours = text_of(phone, "#hall-hours")
    assert "周一\n09:00-12:00、13:30-17:00" in hours and "周六\n休息" in hours and "午休" in hours
    assert "法定节假日休息" in hours
    assert "当前排队 7 人" in text_of(phone, "#hall-queue") and "3 分钟前更新" in text_of(phone, "#hall-queue")
    assert "过时" not in text_of(phone, "#hall-queue")
    closures = wait_text(phone, "#hall-closures", "中秋节")
    assert "装修" in closures and "系统升级" in closures and f"{holiday} " in closures and "节假日休息" in closures
    assert closures.index("装修") < closures.index("中秋节") < closures.index("系统升级")  # in date order
    assert f"{today + timedelta(days=20)} 至 {today + timedelta(days=21)}" in closures
    assert "居民身份证换领" in text_of(phone, "#hall-items") and "社保卡申领" in text_of(phone, "#hall-items")
    snap(phone, "map-hall")

    # The queue system has gone quiet for 25 minutes: the page says the number may be out of date.
    queue(app, closed_hall, 7, 25)
    phone.js("location.hash = '#/halls'; true")
    shown_halls(phone, "all")
    phone.js(f"location.hash = '#/halls/{closed_hall}'; true")
    stale = wait_text(phone, "#hall-queue", "25 分钟前更新")
    assert "可能已过时" in stale
    snap(phone, "map-hall-stale")

    # 预约 opens the booking screen for this hall.
    phone.js("document.getElementById('hall-book').click(); true")
    phone.wait_for("!document.getElementById('appointments-view').hidden")
    assert phone.js("location.hash") == f"#/appointments/new?hall={closed_hall}"
    wait_text(phone, "#apt-hall", "测试网点H-9")


def test_a_halls_page_in_english_and_an_unknown_hall(app, phone, closed_hall):
    queue(app, closed_hall, 2, 3)
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang:'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone)
    phone.js(f"location.hash = '#/halls/{closed_hall}'; true")
    page = wait_text(phone, "#hall-detail", "Opening hours")
    assert "Closed today" in page and "Mon\n09:00-12:00, 13:30-17:00" in page and "Sat\nClosed" in page
    assert "2 people waiting now" in page and "updated 3 min ago" in page
    assert "Closures" in page and "Services handled here" in page and "Book" in page
    assert "营业中" not in page and "办公时间" not in page
    snap(phone, "map-hall-en")
    # A hall that does not exist: the API's problem, in English, on the message line.
    phone.js("location.hash = '#/halls/h_nope'; true")
    message = phone.wait_for("(m => !m.hidden && m.innerText)(document.getElementById('message'))")
    assert message and not any("\u4e00" <= ch <= "\u9fff" for ch in message)
    snap(phone, "map-hall-unknown-en")
