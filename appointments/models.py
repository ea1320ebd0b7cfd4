"""Appointment tables (预约): per-slot seat counters, appointments, booking bans, reminder outbox.

A slot's counter row (`map_slot`) is created on its first booking; a seat is taken with one
conditional UPDATE (`booked = booked + 1 WHERE booked < capacity`), so no two transactions can
take the last seat, on SQLite and PostgreSQL alike. `Appointment.active_key` is "user|hall|day"
while the appointment holds its hall-day (booked or arrived) and NULL otherwise: its unique index
is the rule "one active appointment per person per hall-day", enforced by the database.

Every statement of appointments is below the tables. A change of state is one conditional UPDATE
naming the state it leaves (`… WHERE status = 'booked'`): of concurrent callers exactly one sees 1.
"""
from __future__ import annotations

from datetime import date, datetime

import peewee as pw

from app import i18n
from app.db import BaseModel, UTCDateTimeField, execute, insert_row, select_one, select_where, update_where, utcnow
from app.i18n import N_
from app.pagination import newest_first

STATUSES = ("booked", "cancelled", "arrived", "no_show")
STATUS_LABELS = {"booked": N_("已预约"), "cancelled": N_("已取消"), "arrived": N_("已签到"), "no_show": N_("爽约")}
i18n.register_labels("appointment_status", STATUS_LABELS)


class SlotCounter(BaseModel):
    """A bookable slot that has seen a booking: its capacity (copied from the hall then) and seats taken."""

    id = pw.CharField(primary_key=True, max_length=64)  # the slot id (slots.py)
    hall_id = pw.CharField(max_length=32)
    day = pw.DateField()
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    capacity = pw.IntegerField()
    booked = pw.IntegerField(default=0)

    class Meta:
        table_name = "map_slot"
        indexes = ((("hall_id", "day"), False),)


class Appointment(BaseModel):
    """An appointment — 预约 — of a citizen at a hall for one slot and one service item."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    hall_id = pw.CharField(max_length=32, index=True)
    slot_id = pw.CharField(max_length=64, index=True)
    day = pw.DateField()
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    item_code = pw.CharField(max_length=64)
    status = pw.CharField(max_length=16, default="booked")  # STATUSES
    active_key = pw.CharField(max_length=96, null=True, unique=True)  # user|hall|day while booked/arrived
    check_in_code = pw.CharField(max_length=8, unique=True)
    reminder_due_at = UTCDateTimeField(null=True)
    reminded_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    cancelled_at = UTCDateTimeField(null=True)
    arrived_at = UTCDateTimeField(null=True)
    checked_in_by = pw.CharField(max_length=32, null=True)
    no_show_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "map_appointment"
        indexes = ((("user_id", "starts_at", "id"), False), (("status", "ends_at"), False),
                   (("status", "reminder_due_at"), False))


class BookingBan(BaseModel):
    """A booking ban after repeated no-shows (爽约限制预约)."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    until = UTCDateTimeField()
    no_shows = pw.IntegerField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "map_booking_ban"
        indexes = ((("user_id", "until"), False),)


class AppointmentNotice(BaseModel):
    """The record of a notice sent about an appointment (the day-before reminder): what it said
    (`payload`: hall, time, item, no personal data) and to which account. One notice of a kind per
    appointment (unique), so a reminder is counted once; delivery is the notification outbox's
    (notify.service.enqueue, written in the same unit of work)."""

    id = pw.CharField(primary_key=True, max_length=32)
    appointment_id = pw.CharField(max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    kind = pw.CharField(max_length=16)  # reminder
    payload = pw.TextField()
    created_at = UTCDateTimeField(default=utcnow)
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "map_appointment_notice"
        indexes = ((("appointment_id", "kind"), True),)


# --- Seats ----------------------------------------------------------------------------------------
# The seat is taken or given back by the database itself: of concurrent bookings of the last seat
# exactly one UPDATE matches (PostgreSQL re-checks the condition on the locked row; SQLite writers
# take turns).
_TAKE_SEAT = 'UPDATE "map_slot" SET "booked" = "booked" + 1 WHERE "id" = ? AND "booked" < "capacity"'
_FREE_SEAT = 'UPDATE "map_slot" SET "booked" = "booked" - 1 WHERE "id" = ? AND "booked" > 0'


def open_counter(*, slot_id: str, hall_id: str, day: date, starts_at: datetime, ends_at: datetime,
                 capacity: int) -> None:
    """The slot's counter row, made by its first booking (the hall's capacity then); kept if it exists."""
    insert_row(SlotCounter, ignore_conflict=True, id=slot_id, hall_id=hall_id, day=day, starts_at=starts_at,
               ends_at=ends_at, capacity=capacity, booked=0)


def take_seat(slot_id: str) -> bool:
    """Take one seat of the slot; False when it is full."""
    return execute(_TAKE_SEAT, [slot_id]).rowcount == 1


def free_seat(slot_id: str) -> None:
    execute(_FREE_SEAT, [slot_id])


def counters_of(hall_id: str, day: date) -> dict[str, SlotCounter]:
    """slot id → counter for the hall's slots on `day` that have seen a booking."""
    return {c.id: c for c in SlotCounter.select().where((SlotCounter.hall_id == hall_id) & (SlotCounter.day == day))}


# --- Appointments ----------------------------------------------------------------------------------

def appointment_by_id(appointment_id: str) -> Appointment | None:
    return select_one(Appointment, Appointment.id, appointment_id)


def appointment_of(user_id: str, appointment_id: str) -> Appointment | None:
    """The citizen's own appointment (None for anyone else's)."""
    return select_where(Appointment, id=appointment_id, user_id=user_id)


def appointment_holding(active_key: str) -> Appointment | None:
    """The appointment holding the hall-day `active_key` (user|hall|day), if any."""
    return select_one(Appointment, Appointment.active_key, active_key)


def appointment_by_code(check_in_code: str) -> Appointment | None:
    return select_one(Appointment, Appointment.check_in_code, check_in_code)


def insert_appointment(*, appointment_id: str, user_id: str, hall_id: str, slot_id: str, day: date, starts_at: datetime,
                       ends_at: datetime, item_code: str, active_key: str, check_in_code: str,
                       reminder_due_at: datetime, created_at: datetime) -> Appointment | None:
    """A booked appointment; None when its check-in code or hall-day key is taken already."""
    return insert_row(Appointment, ignore_conflict=True, id=appointment_id, user_id=user_id, hall_id=hall_id, slot_id=slot_id,
                      day=day, starts_at=starts_at, ends_at=ends_at, item_code=item_code, status="booked",
                      active_key=active_key, check_in_code=check_in_code, reminder_due_at=reminder_due_at,
                      created_at=created_at)


def cancel_booked(appointment_id: str, at: datetime) -> bool:
    """booked → cancelled (the hall-day is free again); False when it was not booked."""
    return update_where(Appointment, {"id": appointment_id, "status": "booked"}, status="cancelled",
                        active_key=None, cancelled_at=at) == 1


def check_in_booked(appointment_id: str, at: datetime, clerk_id: str) -> bool:
    """booked → arrived; False when it was not booked."""
    return update_where(Appointment, {"id": appointment_id, "status": "booked"}, status="arrived", arrived_at=at,
                        checked_in_by=clerk_id) == 1


def mark_no_show(appointment_id: str, at: datetime) -> bool:
    """booked → no_show; False when it was not booked."""
    return update_where(Appointment, {"id": appointment_id, "status": "booked"}, status="no_show",
                        active_key=None, no_show_at=at) == 1


def appointments_page(user_id: str, *, status: str | None, limit: int,
                      cursor: str | None) -> tuple[list[Appointment], str | None]:
    """The citizen's appointments, latest slot first: one page and the cursor of the next."""
    query = Appointment.select().where(Appointment.user_id == user_id)
    if status:
        query = query.where(Appointment.status == status)
    return newest_first(query, Appointment.starts_at, Appointment.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.starts_at, id_of=lambda r: r.id)


def ended_unattended(at: datetime, limit: int) -> list[Appointment]:
    """(id, user_id, hall_id, starts_at) of booked appointments whose slot ended by `at`, oldest first."""
    return list(Appointment.select(Appointment.id, Appointment.user_id, Appointment.hall_id, Appointment.starts_at)
                .where((Appointment.status == "booked") & (Appointment.ends_at <= at))
                .order_by(Appointment.ends_at).limit(limit))


def no_shows_since(user_id: str, since: datetime) -> int:
    return Appointment.select().where((Appointment.user_id == user_id) & (Appointment.status == "no_show")
                                      & (Appointment.starts_at >= since)).count()


def reminders_due(at: datetime) -> list[Appointment]:
    """Booked appointments whose reminder is due at `at` and not sent, before their slot starts."""
    return list(Appointment.select().where((Appointment.status == "booked") & Appointment.reminded_at.is_null()
                                           & (Appointment.reminder_due_at <= at) & (Appointment.starts_at > at))
                .order_by(Appointment.reminder_due_at))


def starting_between(at: datetime, until: datetime) -> list[Appointment]:
    """Booked appointments whose slot starts after `at` and by `until`, soonest first."""
    return list(Appointment.select().where((Appointment.status == "booked") & (Appointment.starts_at > at)
                                           & (Appointment.starts_at <= until)).order_by(Appointment.starts_at))


def claim_reminder(appointment_id: str, at: datetime) -> bool:
    """Mark the reminder sent; False when another run did, or the appointment is no longer booked."""
    return (Appointment.update(reminded_at=at)
            .where((Appointment.id == appointment_id) & (Appointment.status == "booked")
                   & Appointment.reminded_at.is_null()).execute()) == 1


def insert_notice(*, notice_id: str, appointment_id: str, user_id: str, kind: str, payload: str,
                  created_at: datetime) -> AppointmentNotice | None:
    """The notice, or None when the appointment has one of this kind already."""
    return insert_row(AppointmentNotice, ignore_conflict=True, id=notice_id, appointment_id=appointment_id,
                      user_id=user_id, kind=kind, payload=payload, created_at=created_at)


# --- Booking bans ----------------------------------------------------------------------------------

def active_ban(user_id: str, at: datetime) -> BookingBan | None:
    """The citizen's ban running at `at` that ends last, if any."""
    return (BookingBan.select().where((BookingBan.user_id == user_id) & (BookingBan.until > at))
            .order_by(BookingBan.until.desc()).first())


def insert_ban(*, ban_id: str, user_id: str, until: datetime, no_shows: int, created_at: datetime) -> BookingBan:
    return insert_row(BookingBan, id=ban_id, user_id=user_id, until=until, no_shows=no_shows, created_at=created_at)
