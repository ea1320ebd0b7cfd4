"""Opening hours (办公时间): a weekly schedule with lunch breaks, special closures and the holiday
calendar, evaluated in the hall's local time (China time, app.clock).

Written form (import files, API answers):

    {"mon": ["09:00-12:00", "13:30-17:00"], "tue": [...], ..., "sun": []}

A missing day is closed; `"mon-fri": [...]` sets several days at once; "00:00-24:00" is all day.
The gap between two intervals is the lunch break. A hall's `holiday_rule` is "closed" (the usual:
shut on statutory holidays; on a make-up working day (调休上班) it opens with its Monday hours
when that weekday has none) or "open" (e.g. 24-hour self-service areas: the weekly schedule
applies every day). Closures are date ranges with a reason (装修, 系统升级 …).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app import calendar, i18n
from app.clock import CHINA_TZ
from app.i18n import N_

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
HOLIDAY_RULES = ("closed", "open")
WEEKLY_REST = N_("休息日")
i18n.register_labels("closed_reason", {WEEKLY_REST: WEEKLY_REST, **{n: n for n in calendar.HOLIDAY_NAMES}})
_INTERVAL = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


class HoursError(ValueError):
    """Why an hours specification is unusable (Chinese)."""


@dataclass(frozen=True)
class Closure:
    first: date
    last: date
    reason: str


@dataclass(frozen=True)
class Schedule:
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # per weekday (Mon = 0): (start, end) minutes
    holiday_rule: str = "closed"
    closures: tuple[Closure, ...] = field(default=())


def _minutes(text: str) -> tuple[int, int]:
    match = _INTERVAL.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise HoursError(f"时段“{text}”格式应为 HH:MM-HH:MM。")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end > 1440 or start >= end:
        raise HoursError(f"时段“{text}”的结束时间应晚于开始时间，且不超过24:00。")
    return start, end


def _day_indexes(key: str) -> list[int]:
    key = key.strip().lower()
    if key in DAYS:
        return [DAYS.index(key)]
    first, sep, last = key.partition("-")
    if sep and first in DAYS and last in DAYS and DAYS.index(first) <= DAYS.index(last):
        return list(range(DAYS.index(first), DAYS.index(last) + 1))
    raise HoursError(f"未知的星期“{key}”（应为 mon … sun 或 mon-fri 这样的范围）。")


def parse_weekly(spec: Any) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The weekly schedule from its written form; HoursError with a Chinese reason otherwise."""
    if not isinstance(spec, dict):
        raise HoursError("办公时间应为对象，如 {\"mon-fri\": [\"09:00-12:00\", \"13:30-17:00\"]}。")
    days: list[list[tuple[int, int]] | None] = [None] * 7
    for key, intervals in spec.items():
        if not isinstance(intervals, list):
            raise HoursError(f"“{key}”的时段应为列表。")
        parsed = sorted(_minutes(i) for i in intervals)
        for (_, end), (start, _) in zip(parsed, parsed[1:]):
            if start < end:
                raise HoursError(f"“{key}”的时段重叠。")
        for index in _day_indexes(str(key)):
            if days[index] is not None:
                raise HoursError(f"{DAY_LABELS[index]}的时段重复给出。")
            days[index] = parsed
    return tuple(tuple(d or ()) for d in days)


def weekly_text(weekly: tuple[tuple[tuple[int, int], ...], ...]) -> dict[str, list[str]]:
    """The written form of a weekly schedule (every day present)."""
    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return {DAYS[i]: [f"{hhmm(s)}-{hhmm(e)}" for s, e in weekly[i]] for i in range(7)}


def parse_closures(spec: Any) -> tuple[Closure, ...]:
    """[{"from": "2026-12-01", "to": "2026-12-03", "reason": "系统升级"}, ...] (to defaults to from)."""
    if spec in (None, ""):
        return ()
    if not isinstance(spec, list):
        raise HoursError("临时闭馆应为列表。")
    closures = []
    for item in spec:
        try:
            first = date.fromisoformat(item["from"])
            last = date.fromisoformat(item.get("to") or item["from"])
            reason = str(item.get("reason") or "临时闭馆")[:64]
        except (TypeError, KeyError, ValueError, AttributeError):
            raise HoursError("临时闭馆每项应含 from（YYYY-MM-DD），可选 to 和 reason。") from None
        if last < first:
            raise HoursError("临时闭馆的结束日期应不早于开始日期。")
        closures.append(Closure(first, last, reason))
    return tuple(closures)


def schedule_from_json(hours: str, holiday_rule: str, closures: str | None) -> Schedule:
    """The schedule of a stored hall (its JSON columns)."""
    weekly = parse_weekly(json.loads(hours))
    return Schedule(weekly, holiday_rule, parse_closures(json.loads(closures) if closures else None))


def day_plan(schedule: Schedule, day: date) -> tuple[tuple[tuple[int, int], ...], str | None]:
    """(open intervals on `day`, why it is closed when it is): closures, then the holiday calendar."""
    for closure in schedule.closures:
        if closure.first <= day <= closure.last:
            return (), closure.reason
    weekly = schedule.weekly[day.weekday()]
    if schedule.holiday_rule == "open":
        return weekly, None if weekly else WEEKLY_REST
    special = calendar.special(day)
    if special is not None:
        kind, name = special
        if kind == calendar.HOLIDAY:
            return (), name
        return weekly or schedule.weekly[0], None  # 调休上班
    return weekly, None if weekly else WEEKLY_REST


def closed_reason_label(reason: str | None) -> str | None:
    """Why a hall is closed, in the answer's language (a closure's own reason stays as written)."""
    return i18n.label("closed_reason", reason)


def is_open(schedule: Schedule, at: datetime) -> bool:
    local = calendar.china_now(at)
    minute = local.hour * 60 + local.minute
    intervals, _ = day_plan(schedule, local.date())
    return any(start <= minute < end for start, end in intervals)


def today_state(schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """What a citizen wants to know today: open now, today's hours, why closed, when it next opens."""
    local = calendar.china_now(now)
    minute = local.hour * 60 + local.minute
    intervals, reason = day_plan(schedule, local.date())
    open_now = any(start <= minute < end for start, end in intervals)
    next_open = None
    for offset in range(0, 15):
        day = local.date() + timedelta(days=offset)
        day_intervals, _ = day_plan(schedule, day) if offset else (intervals, reason)
        start = next((s for s, e in day_intervals if (offset or s > minute)), None)
        if start is not None:
            next_open = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=CHINA_TZ)
            break
    text = weekly_text((intervals,) + ((),) * 6)["mon"]
    return {"date": local.date(), "open_now": open_now, "hours": text, "closed_reason": closed_reason_label(reason),
            "next_open_at": None if open_now else next_open}
