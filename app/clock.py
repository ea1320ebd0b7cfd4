"""China time (北京时间): the one definition every feature uses, and how answers write times.

China Standard Time is UTC+08:00 all year, with no daylight saving since 1991. It is a fixed
offset here, not `ZoneInfo("Asia/Shanghai")`: the tz database gives dates before 1901 the local
mean time of Shanghai (+08:05:43), which is not an offset RFC 3339 clients expect, nor one the
API promises. Times are stored in UTC (app.db.UTCDateTimeField) and written in answers as
RFC 3339 with `+08:00` (API.md), whichever schema or plain JSON value carries them.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import marshmallow as ma
from flask import Flask

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def to_china(moment: datetime) -> datetime:
    """`moment` in China time; a naive datetime is taken as UTC (how the database holds times)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA_TZ)


def china_now(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) as an aware China-time datetime."""
    return to_china(now or datetime.now(timezone.utc))


def china_today(now: datetime | None = None) -> date:
    """The calendar date in China at `now` (default: the current time)."""
    return china_now(now).date()


def rfc3339(moment: datetime) -> str:
    """`moment` as RFC 3339 in China time, e.g. `2026-09-29T10:00:00+08:00`."""
    return to_china(moment).isoformat()


def init_app(app: Flask) -> None:
    """Every datetime in an answer is written in China time.

    Schemas declare `ma.fields.DateTime()` / `AwareDateTime()` (ISO format) in every feature; the
    ISO writer they share is replaced once here rather than in each of the fields, so a new schema
    cannot forget it. Values that reach Flask's JSON encoder outside a schema get the same form
    instead of Flask's default HTTP date."""
    for name in ("iso", "iso8601"):
        ma.fields.DateTime.SERIALIZATION_FUNCS[name] = rfc3339
    fallback = app.json.default

    def _default(value: Any) -> Any:
        if isinstance(value, datetime):
            return rfc3339(value)
        return fallback(value)

    app.json.default = _default  # type: ignore[attr-defined]
