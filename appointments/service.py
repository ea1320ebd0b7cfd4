"""Appointments (预约): booking, the citizen's list and detail, cancellation, the check-in QR.

Booking rules (DOMAIN.md, "booking rules seen in halls"): citizens at L1+; the item must be one
the hall handles; from tomorrow within the next N working days (APPOINTMENT_WINDOW_WORKING_DAYS);
one active appointment per person per hall-day (a unique key in the database); no booking while
a no-show ban runs (tasks.py). A seat is taken with one conditional UPDATE of the
slot's counter row in the same transaction as the appointment and its audit row, so a slot is
never overbooked and a refused request leaves nothing behind. Cancellation is allowed until
APPOINTMENT_CANCEL_BEFORE_MINUTES before the slot and gives the seat back in the same way.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app

from app import audit, i18n
from app.clock import CHINA_TZ as CHINA
from app.db import new_id, unit_of_work
from app.i18n import N_
from appointments import models, notices, slots
from appointments.errors import (
    AlreadyBooked, AppointmentNotActive, AppointmentNotFound, AssuranceTooLow, BookingBanned, CancelTooLate,
    ItemNotOffered, SlotFull,
)
from appointments.models import Appointment, active_ban
from identity import service as identity
from mapsvc.service import Hall, HallItem, active_hall, hall_by_id, hall_item, halls_by_id, item_names

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at counters
CODE_LENGTH = 8
MAX_LIMIT = 50


def new_check_in_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def active_key(user_id: str, hall_id: str, day) -> str:
    return f"{user_id}|{hall_id}|{day.isoformat()}"


def _reminder_due(slot: slots.Slot) -> datetime:
    hour = current_app.config["APPOINTMENT_REMINDER_HOUR"]
    return datetime.combine(slot.day - timedelta(days=1), time(hour), tzinfo=CHINA)


def _check_rules(*, user_id: str, hall: Hall, slot: slots.Slot, item_code: str, at: datetime) -> HallItem:
    item = hall_item(hall.id, item_code)
    if item is None:
        raise ItemNotOffered()
    slots.check_window(slot.day, at)
    ban = active_ban(user_id, at)
    if ban is not None:
        raise BookingBanned(ban.until)
    if models.appointment_holding(active_key(user_id, hall.id, slot.day)) is not None:
        raise AlreadyBooked()
    return item


def _insert_appointment(*, user_id: str, hall: Hall, slot: slots.Slot, item_code: str, at: datetime) -> Appointment:
    key = active_key(user_id, hall.id, slot.day)
    for _ in range(5):  # a check-in code collision (1 in 10^12) takes another code
        row = models.insert_appointment(
            appointment_id=new_id("apt"), user_id=user_id, hall_id=hall.id, slot_id=slot.id, day=slot.day,
            starts_at=slot.starts_at, ends_at=slot.ends_at, item_code=item_code, active_key=key,
            check_in_code=new_check_in_code(), reminder_due_at=_reminder_due(slot), created_at=at)
        if row is not None:
            return row
        if models.appointment_holding(key) is not None:  # a concurrent booking won
            raise AlreadyBooked()
    raise RuntimeError("no free check-in code")


def book(*, user_id: str, hall_id: str, slot_id: str, item_code: str) -> dict[str, Any]:
    """Book a seat in a slot for a service item; 201 with the appointment, or a problem."""
    at = slots.now()
    if identity.get_user(user_id).assurance_level < 1:
        raise AssuranceTooLow()
    hall = active_hall(hall_id)
    slot = slots.find_slot(hall, slot_id)
    item = _check_rules(user_id=user_id, hall=hall, slot=slot, item_code=item_code, at=at)
    with unit_of_work():
        models.open_counter(slot_id=slot.id, hall_id=hall.id, day=slot.day, starts_at=slot.starts_at,
                            ends_at=slot.ends_at, capacity=hall.slot_capacity)
        if not models.take_seat(slot.id):
            raise SlotFull()
        appointment = _insert_appointment(user_id=user_id, hall=hall, slot=slot, item_code=item_code, at=at)
        audit.record("map.appointment_booked", actor_kind="citizen", actor_id=user_id, target=appointment.id,
                     details={"hall": hall.id, "slot": slot.id, "item": item_code})
        notices.booked(appointment, hall_name=hall.name)
    return view(appointment, hall, item.item_name)


def _own(user_id: str, appointment_id: str) -> Appointment:
    """The citizen's own appointment; anyone else's is 404, like one that does not exist."""
    found = models.appointment_of(user_id, appointment_id) \
        if isinstance(appointment_id, str) and len(appointment_id) <= 32 else None
    if found is None:
        raise AppointmentNotFound()
    return found


def cancel(*, user_id: str, appointment_id: str) -> None:
    """Cancel a booked appointment until the cut-off before its slot; the seat is free again at once.
    Cancelling a cancelled appointment again changes nothing."""
    appointment = _own(user_id, appointment_id)
    if appointment.status == "cancelled":
        return
    if appointment.status != "booked":
        raise AppointmentNotActive()
    at = slots.now()
    minutes = current_app.config["APPOINTMENT_CANCEL_BEFORE_MINUTES"]
    if at > appointment.starts_at - timedelta(minutes=minutes):
        raise CancelTooLate(N_("距预约时段开始已不足{duration}，不能取消。", duration=_duration(minutes), minutes=minutes))
    with unit_of_work():
        if not models.cancel_booked(appointment.id, at):
            if models.appointment_by_id(appointment.id).status == "cancelled":
                return  # a concurrent cancellation did it
            raise AppointmentNotActive()
        models.free_seat(appointment.slot_id)
        audit.record("map.appointment_cancelled", actor_kind="citizen", actor_id=user_id, target=appointment.id,
                     details={"hall": appointment.hall_id, "slot": appointment.slot_id})
        hall = hall_by_id(appointment.hall_id)
        notices.cancelled(appointment, hall_name=hall.name if hall else None)


def _duration(minutes: int) -> str:
    return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


def get(*, user_id: str, appointment_id: str) -> dict[str, Any]:
    appointment = _own(user_id, appointment_id)
    hall = hall_by_id(appointment.hall_id)
    item = hall_item(appointment.hall_id, appointment.item_code)
    return view(appointment, hall, item.item_name if item else None)


def qr_text_of(*, user_id: str, appointment_id: str) -> str:
    """What the check-in QR holds: the check-in code itself (QR alphanumeric mode, a small symbol; a
    scanner gun types it into the same field a clerk types a code read aloud)."""
    appointment = _own(user_id, appointment_id)
    if appointment.status != "booked":
        raise AppointmentNotActive()
    return appointment.check_in_code


def list_for(*, user_id: str, limit: int = 20, cursor: str | None = None, status: str | None = None) -> dict[str, Any]:
    """The citizen's appointments, latest slot first, cursor-paginated (`next_cursor` null at the end)."""
    limit = max(1, min(limit, MAX_LIMIT))
    page, next_cursor = models.appointments_page(user_id, status=status, limit=limit, cursor=cursor)
    halls = halls_by_id(a.hall_id for a in page)
    names = item_names(halls)
    items = [view(a, halls.get(a.hall_id), names.get((a.hall_id, a.item_code))) for a in page]
    return {"items": items, "next_cursor": next_cursor}


def view(appointment: Appointment, hall: Hall | None, item_name: str | None) -> dict[str, Any]:
    """The appointment as its holder sees it (times in Beijing time)."""
    minutes = current_app.config["APPOINTMENT_CANCEL_BEFORE_MINUTES"]
    booked = appointment.status == "booked"
    return {
        "id": appointment.id,
        "status": appointment.status,
        "status_label": i18n.label("appointment_status", appointment.status),
        "hall": {"id": appointment.hall_id, "code": hall.code if hall else None, "name": hall.name if hall else None,
                 "address": hall.address if hall else None},
        "item": {"code": appointment.item_code, "name": item_name},
        "slot_id": appointment.slot_id,
        "date": appointment.day,
        "start": appointment.starts_at.astimezone(CHINA),
        "end": appointment.ends_at.astimezone(CHINA),
        "check_in_code": appointment.check_in_code if booked else None,
        "check_in_qr": f"/api/v1/appointments/{appointment.id}/qr.png" if booked else None,
        "cancellable_until": (appointment.starts_at - timedelta(minutes=minutes)).astimezone(CHINA) if booked else None,
        "created_at": appointment.created_at.astimezone(CHINA),
        "cancelled_at": appointment.cancelled_at.astimezone(CHINA) if appointment.cancelled_at else None,
        "arrived_at": appointment.arrived_at.astimezone(CHINA) if appointment.arrived_at else None,
    }


# What the booking benchmark (bench/scenarios/map_book.py) reads of the slots: the window, a slot's id.
booking_window = slots.booking_window
slot_id = slots.slot_id
