"""The public-holiday calendar (节假日与调休), in China time (app.clock).

A day is a working day when it is Monday–Friday and not a statutory holiday, or when it is a
make-up working day (调休上班, usually a weekend day). The arrangement comes each November from
the State Council's notice (国务院办公厅关于部分节假日安排的通知); the 2026 one (2025-11-04) is
built in. Rows in `map_calendar_day` (admin: `flask --app wsgi calendar set`) override and
extend it, e.g. with the next year's notice. For a year with neither, the fixed-date statutory
holidays (元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct) still apply; the lunar ones cannot be
computed here, and `known_years()` lets an operator see that the notice is missing.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import peewee as pw

from app import clock
from app.db import BaseModel, unit_of_work
from app.i18n import N_

CHINA = clock.CHINA_TZ  # re-exported: features name it calendar.CHINA
HOLIDAY, WORKDAY = "holiday", "workday"


class CalendarDay(BaseModel):
    day = pw.DateField(primary_key=True)
    kind = pw.CharField(max_length=8)  # holiday | workday
    name = pw.CharField(max_length=32)

    class Meta:
        table_name = "map_calendar_day"


def _span(first: str, last: str, name: str) -> dict[date, tuple[str, str]]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=i): (HOLIDAY, name) for i in range((end - start).days + 1)}


# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
BUILTIN: dict[date, tuple[str, str]] = {
    **_span("2026-01-01", "2026-01-03", "元旦"), date(2026, 1, 4): (WORKDAY, "元旦调休上班"),
    **_span("2026-02-15", "2026-02-23", "春节"), date(2026, 2, 14): (WORKDAY, "春节调休上班"),
    date(2026, 2, 28): (WORKDAY, "春节调休上班"),
    **_span("2026-04-04", "2026-04-06", "清明节"),
    **_span("2026-05-01", "2026-05-05", "劳动节"), date(2026, 5, 9): (WORKDAY, "劳动节调休上班"),
    **_span("2026-06-19", "2026-06-21", "端午节"),
    **_span("2026-09-25", "2026-09-27", "中秋节"),
    **_span("2026-10-01", "2026-10-07", "国庆节"), date(2026, 9, 20): (WORKDAY, "国庆节调休上班"),
    date(2026, 10, 10): (WORKDAY, "国庆节调休上班"),
}
BUILTIN_YEARS = frozenset({2026})
# The holidays' names, translated in answers (the catalogue, app/i18n.py; names set with
# `calendar set` that are not here stay as written).
HOLIDAY_NAMES = (N_("元旦"), N_("春节"), N_("清明节"), N_("劳动节"), N_("端午节"), N_("中秋节"), N_("国庆节"))
_FIXED = {(1, 1): "元旦", (5, 1): "劳动节", (5, 2): "劳动节", (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节"}

_REFRESH_SECONDS = 60
_cache: dict[str, object] = {"loaded": 0.0, "rows": {}}


def _rows() -> dict[date, tuple[str, str]]:
    """The database rows, re-read at most once a minute per process (the table is tiny)."""
    now = time.monotonic()
    if now - float(_cache["loaded"]) > _REFRESH_SECONDS:
        _cache["rows"] = {r.day: (r.kind, r.name) for r in CalendarDay.select()}
        _cache["loaded"] = now
    return _cache["rows"]  # type: ignore[return-value]


def forget() -> None:
    """Drop this process's copy of the table (after a change, and between tests)."""
    _cache["loaded"] = 0.0


def special(day: date) -> tuple[str, str] | None:
    """(kind, name) when `day` is a holiday or a make-up working day, else None."""
    found = _rows().get(day) or BUILTIN.get(day)
    if found is not None:
        return found
    if day.year not in BUILTIN_YEARS and not any(d.year == day.year for d in _rows()):
        name = _FIXED.get((day.month, day.day))
        if name:
            return HOLIDAY, name
    return None


def is_working_day(day: date) -> bool:
    found = special(day)
    if found is not None:
        return found[0] == WORKDAY
    return day.weekday() < 5


def working_days_after(day: date, count: int) -> list[date]:
    """The next `count` working days after `day` (the booking window)."""
    days, current = [], day
    while len(days) < count:
        current += timedelta(days=1)
        if is_working_day(current):
            days.append(current)
    return days


def set_day(day: date, kind: str, name: str) -> None:
    """Mark `day` a holiday or a make-up working day (a row overriding the built-in notice)."""
    with unit_of_work() as uow:
        CalendarDay.insert(day=day, kind=kind, name=name).on_conflict(
            conflict_target=[CalendarDay.day], update={CalendarDay.kind: kind, CalendarDay.name: name}).execute()
        uow.after_commit(forget)


def unset_day(day: date) -> int:
    """Remove the override of `day` (the built-in notice applies again); the rows removed."""
    with unit_of_work() as uow:
        removed = CalendarDay.delete().where(CalendarDay.day == day).execute()
        uow.after_commit(forget)
    return removed


def overrides() -> dict[date, tuple[str, str]]:
    """The database rows (`flask --app wsgi calendar set`): day → (kind, name)."""
    return dict(_rows())


def known_years() -> list[int]:
    return sorted(BUILTIN_YEARS | {d.year for d in _rows()})


def china_now(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) as a Beijing-time aware datetime (app.clock.china_now)."""
    return clock.china_now(now)
