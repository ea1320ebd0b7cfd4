"""Appointment tables (预约): per-slot seat counters, appointments, booking bans, reminder outbox.

A slot's counter row (`map_slot`) is created on its first booking; a seat is taken with one
conditional UPDATE (`booked = booked + 1 WHERE booked < capacity`), so no two transactions can
take the last seat, on SQLite and PostgreSQL alike. `Appointment.active_key` is "user|hall|day"
while the appointment holds its hall-day (booked or arrived) and NULL otherwise: its unique index
is the rule "one active appointment per person per hall-day", enforced by the database.
"""
from __future__ import annotations

import peewee as pw

from app import i18n
from app.db import BaseModel, UTCDateTimeField, utcnow

STATUSES = ("booked", "cancelled", "arrived", "no_show")
STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "arrived": "已签到", "no_show": "爽约"}
STATUS_LABELS_EN = {"booked": "Booked", "cancelled": "Cancelled", "arrived": "Checked in", "no_show": "Missed"}
i18n.register_labels("appointment_status", STATUS_LABELS, STATUS_LABELS_EN)


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
    """Outbox of notices to citizens (the day-before reminder), until notifications exist (issue 7).

    `payload` holds what the notice says (hall, time, item) and no personal data; the recipient is
    the account id. One notice of a kind per appointment (unique)."""

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
