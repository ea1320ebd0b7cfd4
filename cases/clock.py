"""The SLA clock of a case (承诺时限): working days from acceptance (受理), stopped while the case
waits for the applicant (补正) or is in a special procedure (特别程序/挂起).

The promised days are working days on the holiday calendar (app.calendar, China time: app.clock).
A pause pushes the due date back by the working days it covered: every working day from the day
it began up to, not including, the day the clock ran again. Pauses are timed by the events'
`occurred_at` (the department's clock), so a backfill gives the same answer as live events.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app import calendar
from cases.models import Case
from cases.statuses import CLOCK_STARTS, FINAL, PAUSED

_MAX_PAUSE_DAYS = 3660  # a pause longer than ten years is counted as ten years


def _china_day(at: datetime) -> date:
    return calendar.china_now(at).date()


def working_days_between(first: date, end: date) -> int:
    """Working days d with first <= d < end."""
    count, day, steps = 0, first, 0
    while day < end and steps < _MAX_PAUSE_DAYS:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
        steps += 1
    return count


def due_date(started: datetime, days: int) -> date:
    """The last day of `days` working days counted from the day after `started`."""
    return calendar.working_days_after(_china_day(started), days)[-1]


def advance(case: Case, *, status: str, at: datetime, promised_days: int | None) -> None:
    """Move the clock of `case` for its new `status` reached at `at` (mutates the row)."""
    if promised_days is not None:
        case.promised_days = promised_days
    if status == CLOCK_STARTS and case.clock_started_at is None:
        case.clock_started_at = at
    running = case.clock_started_at is not None
    if case.paused_since is not None and (status not in PAUSED or status in FINAL):
        end = max(at, case.paused_since)
        case.paused_seconds += int((end - case.paused_since).total_seconds())
        case.paused_working_days += working_days_between(_china_day(case.paused_since), _china_day(end))
        case.paused_since = None
    if running and status in PAUSED and case.paused_since is None:
        case.paused_since = at
    if running and case.promised_days:
        case.due_date = due_date(case.clock_started_at, case.promised_days + case.paused_working_days)


def view(case: Case, now: datetime) -> dict[str, Any]:
    """The clock as the citizen and the department see it."""
    paused_seconds = case.paused_seconds
    if case.paused_since is not None:
        paused_seconds += max(0, int((now - case.paused_since).total_seconds()))
    return {
        "promised_days": case.promised_days,
        "started_at": case.clock_started_at,
        "due_date": case.due_date,
        "paused": case.paused_since is not None,
        "paused_since": case.paused_since,
        "paused_seconds": paused_seconds,
        "paused_working_days": case.paused_working_days,
        "overdue": overdue(case, now),
    }


def overdue(case: Case, now: datetime) -> bool:
    """Past its due date with the clock running (not paused, not finished): the clock's `overdue`."""
    finished = case.status in FINAL or case.status == "concluded"
    return bool(case.due_date and not finished and case.paused_since is None and _china_day(now) > case.due_date)
