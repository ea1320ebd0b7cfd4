"""Quiet hours (免打扰): 22:00–08:00 China time (app.clock), non-urgent pushes are held until 08:00."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from app.clock import CHINA_TZ as SHANGHAI

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)


def held_until(now: datetime) -> datetime | None:
    """The end of the quiet period `now` falls in (UTC), or None outside quiet hours."""
    local = now.astimezone(SHANGHAI)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=SHANGHAI).astimezone(timezone.utc)
