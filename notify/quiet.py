"""Quiet hours (免打扰): the citizen's window in Beijing time (app.clock), 22:00–08:00 unless they set
another (`notify_preference.quiet_start` / `quiet_end`, "HH:MM"); non-urgent pushes falling inside it
are held until it ends. The window may cross midnight (22:30–07:00) or not (13:00–14:00); it starts
at `start` (inclusive) and ends at `end` (exclusive: a push at the end minute goes at once). A window
whose start equals its end is refused when it is set (notify/service.py)."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

from app.clock import CHINA_TZ as SHANGHAI

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)
DEFAULT_START, DEFAULT_END = "22:00", "08:00"
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # the OpenAPI pattern of quiet_start / quiet_end
_HHMM = re.compile(HHMM)


def parse(value: str | None, default: time) -> time:
    """ "HH:MM" → time; `default` for a missing or malformed value (a row written before migration 020)."""
    if not value or not _HHMM.match(value):
        return default
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def held_until(now: datetime, start: time | str | None = None, end: time | str | None = None) -> datetime | None:
    """The end of the quiet window `now` falls in (UTC), or None outside it (or for an empty window)."""
    start = start if isinstance(start, time) else parse(start, QUIET_START)
    end = end if isinstance(end, time) else parse(end, QUIET_END)
    local = now.astimezone(SHANGHAI)
    moment = local.time().replace(tzinfo=None)
    if start == end:
        return None
    if start < end:  # within one day, e.g. 13:00–14:00
        if not start <= moment < end:
            return None
        day = local.date()
    else:  # across midnight, e.g. 22:00–08:00
        if end <= moment < start:
            return None
        day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=SHANGHAI).astimezone(timezone.utc)
