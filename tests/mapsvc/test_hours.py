"""Opening hours: lunch breaks, the 2026 holiday notice, make-up working days, closures, 24 h halls."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app import calendar
from app.calendar import CHINA
from app.db import db
from mapsvc import hours

WEEKDAYS = {"mon-fri": ["09:00-12:00", "13:30-17:00"]}


def schedule(spec=None, rule="closed", closures=None) -> hours.Schedule:
    return hours.Schedule(hours.parse_weekly(spec or WEEKDAYS), rule, hours.parse_closures(closures))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


@pytest.fixture
def ctx(app):
    with app.app_context(), db.connection_context():
        yield


@pytest.mark.parametrize("when, open_", [
    ("2026-11-24T08:59", False), ("2026-11-24T09:00", True), ("2026-11-24T11:59", True),
    ("2026-11-24T12:00", False), ("2026-11-24T13:29", False),  # lunch break
    ("2026-11-24T13:30", True), ("2026-11-24T16:59", True), ("2026-11-24T17:00", False),
    ("2026-11-28T10:00", False),  # an ordinary Saturday
])
def test_weekday_hall_with_lunch_break(ctx, when, open_):
    assert hours.is_open(schedule(), at(when)) is open_


def test_a_2026_holiday_closes_a_hall_that_would_be_open(ctx):
    thursday = at("2026-10-01T10:00")  # 国庆节
    assert thursday.weekday() == 3
    assert not hours.is_open(schedule(), thursday)
    state = hours.today_state(schedule(), thursday)
    assert state["closed_reason"] == "国庆节" and state["next_open_at"] == at("2026-10-08T09:00")


def test_make_up_saturday_opens_with_monday_hours(ctx):
    assert date(2026, 2, 14).weekday() == 5 and calendar.is_working_day(date(2026, 2, 14))
    assert hours.is_open(schedule(), at("2026-02-14T10:00"))
    assert not hours.is_open(schedule(), at("2026-02-14T12:30"))  # Monday's lunch break applies


def test_a_closure_wins_over_the_weekly_hours(ctx):
    closed = schedule(closures=[{"from": "2026-12-01", "to": "2026-12-02", "reason": "系统升级"}])
    assert not hours.is_open(closed, at("2026-12-01T10:00"))
    assert hours.day_plan(closed, date(2026, 12, 2)) == ((), "系统升级")
    assert hours.is_open(closed, at("2026-12-03T10:00"))


def test_a_24h_self_service_area_stays_open_on_holidays(ctx):
    always = schedule({"mon-sun": ["00:00-24:00"]}, rule="open")
    for when in ("2026-10-01T03:00", "2026-02-17T23:59", "2026-11-28T00:00"):
        assert hours.is_open(always, at(when))


def test_calendar_override_from_the_cli(app, runner, ctx):
    assert calendar.is_working_day(date(2027, 2, 8))  # a Monday; no 2027 notice built in
    out = runner.invoke(args=["calendar", "set", "2027-02-08", "holiday", "春节"])
    assert out.exit_code == 0, out.output
    assert not calendar.is_working_day(date(2027, 2, 8))
    listed = runner.invoke(args=["calendar", "list", "--year", "2027"]).output
    assert "2027-02-08" in listed and "override" in listed
    runner.invoke(args=["calendar", "unset", "2027-02-08"])
    assert calendar.is_working_day(date(2027, 2, 8))


@pytest.mark.parametrize("spec, reason", [
    ({"mon": ["9:00-12:00"]}, "HH:MM-HH:MM"), ({"mon": ["12:00-09:00"]}, "晚于"),
    ({"mon": ["09:00-12:00", "11:00-13:00"]}, "重叠"), ({"xyz": []}, "未知的星期"), ("09-17", "对象"),
])
def test_bad_hours_say_why_in_chinese(spec, reason):
    with pytest.raises(hours.HoursError, match=reason):
        hours.parse_weekly(spec)
