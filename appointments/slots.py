"""Appointment slots (预约时段): per hall per day, from its opening hours.

A day's slots are `slot_minutes` long and lie inside the day's open intervals, so a lunch break
has none and a last partial slot is dropped; a closed day (statutory holiday, closure, weekly
rest) has none, and a make-up working day (调休上班) has the hours hours.py gives it. Slot ids are
stable and opaque to clients: `<hall id>.<YYYYMMDD>.<HHMM>`, validated against the hall's plan
for that day on every use. Seats taken are counted in `map_slot` (models.py).

`now()` is the clock of every appointment rule; tests replace it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app

from app import calendar
from app.clock import CHINA_TZ as CHINA
from app.db import utcnow
from app.i18n import N_
from appointments import models
from appointments.errors import BookingWindow, SlotDateOutOfRange, SlotInvalid
from mapsvc.service import Hall, active_hall, closed_reason_label, day_plan

# The days whose slots can be listed: a month back (what was booked) to a quarter ahead (the
# published holiday arrangement reaches that far); bookable days are a few days inside it.
HORIZON_PAST_DAYS = 31
HORIZON_AHEAD_DAYS = 92

_SLOT_ID = re.compile(r"([A-Za-z0-9_-]{1,32})\.(\d{8})\.([01]\d|2[0-3])([0-5]\d)")


def now() -> datetime:
    """The current time (aware, UTC): the one clock of the appointment rules."""
    return utcnow()


@dataclass(frozen=True)
class Slot:
    id: str
    hall_id: str
    day: date
    starts_at: datetime  # Beijing time
    ends_at: datetime


def slot_id(hall_id: str, day: date, minute: int) -> str:
    return f"{hall_id}.{day:%Y%m%d}.{minute // 60:02d}{minute % 60:02d}"


def day_slots(hall: Hall, day: date) -> tuple[list[Slot], str | None]:
    """The hall's slots on `day`, in order, and why the hall is closed that day (or None)."""
    intervals, closed_reason = day_plan(hall, day)
    midnight = datetime.combine(day, time(0), tzinfo=CHINA)
    length = max(1, int(hall.slot_minutes))
    found = []
    for start, end in intervals:
        minute = start
        while minute + length <= end:
            found.append(Slot(slot_id(hall.id, day, minute), hall.id, day, midnight + timedelta(minutes=minute),
                              midnight + timedelta(minutes=minute + length)))
            minute += length
    return found, closed_reason


def find_slot(hall: Hall, text: Any) -> Slot:
    """The slot named by `text` in `hall`'s plan, or 422 slot_invalid."""
    match = _SLOT_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None or match.group(1) != hall.id:
        raise SlotInvalid()
    try:
        day = datetime.strptime(match.group(2), "%Y%m%d").date()
    except ValueError:
        raise SlotInvalid() from None
    for slot in day_slots(hall, day)[0]:
        if slot.id == text:
            return slot
    raise SlotInvalid()


def booking_window(today: date) -> tuple[date, date]:
    """First and last bookable day: from tomorrow to the Nth working day after today (N configurable)."""
    days = calendar.working_days_after(today, current_app.config["APPOINTMENT_WINDOW_WORKING_DAYS"])
    return today + timedelta(days=1), days[-1]


def check_window(day: date, at: datetime) -> None:
    first, last = booking_window(calendar.china_now(at).date())
    if not first <= day <= last:
        days = current_app.config["APPOINTMENT_WINDOW_WORKING_DAYS"]
        raise BookingWindow(N_("只能预约明天起{days}个工作日内的时段（{first:%m月%d日}至{last:%m月%d日}）。",
                               days=days, first=first, last=last),
                            extra={"first_date": first.isoformat(), "last_date": last.isoformat()})


def check_horizon(day: date, today: date) -> None:
    """422 slot_date_out_of_range unless `day` lies within the listing horizon around `today`."""
    first, last = today - timedelta(days=HORIZON_PAST_DAYS), today + timedelta(days=HORIZON_AHEAD_DAYS)
    if not first <= day <= last:
        raise SlotDateOutOfRange(N_("只能查看{first:%Y年%m月%d日}至{last:%Y年%m月%d日}的预约时段。", first=first, last=last),
                                 extra={"first_date": first.isoformat(), "last_date": last.isoformat()})


def list_slots(*, hall_id: str, day: date) -> dict[str, Any]:
    """The hall's slots on `day` with capacity, remaining seats and whether they can be booked now.
    `day` must lie within the listing horizon (checked before the hall: it is the input)."""
    today = calendar.china_now(now()).date()
    check_horizon(day, today)
    hall = active_hall(hall_id)
    found, closed_reason = day_slots(hall, day)
    counters = models.counters_of(hall.id, day)
    first, last = booking_window(today)
    in_window = first <= day <= last
    items = []
    for slot in found:
        counter = counters.get(slot.id)
        capacity = counter.capacity if counter else hall.slot_capacity
        remaining = max(0, capacity - (counter.booked if counter else 0))
        reason = None if in_window else "booking_window"
        if reason is None and remaining == 0:
            reason = "slot_full"
        items.append({"id": slot.id, "start": slot.starts_at, "end": slot.ends_at, "capacity": capacity,
                      "remaining": remaining, "bookable": reason is None, "unbookable_reason": reason})
    return {"hall_id": hall.id, "date": day, "closed_reason": closed_reason_label(closed_reason),
            "booking_window": {"first_date": first, "last_date": last}, "rules": rules(), "items": items}


def rules() -> dict[str, int]:
    """The booking rules in force (settings): what a client says beside the booking and the appointment."""
    config = current_app.config
    return {"window_working_days": config["APPOINTMENT_WINDOW_WORKING_DAYS"],
            "cancel_before_minutes": config["APPOINTMENT_CANCEL_BEFORE_MINUTES"],
            "no_show_limit": config["APPOINTMENT_NO_SHOW_LIMIT"],
            "no_show_window_days": config["APPOINTMENT_NO_SHOW_WINDOW_DAYS"], "ban_days": config["APPOINTMENT_BAN_DAYS"]}
