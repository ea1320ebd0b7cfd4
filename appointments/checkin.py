"""Check-in at the hall (到厅签到): a counter clerk scans the citizen's check-in QR (or types the
8-character code read aloud) and the appointment is marked arrived.

A clerk sees only their own hall's appointments: a code of another hall is answered like an
unknown one (404 check_in_code_invalid), with a refused audit row. Check-in is on the
appointment's day (Beijing time) only; of concurrent scans of one code exactly one succeeds.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from app import audit, calendar, i18n
from app.clock import CHINA_TZ as CHINA
from app.db import unit_of_work
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.security.tokens import Principal
from appointments import models, slots
from appointments.errors import AlreadyCheckedIn, AppointmentNotActive, CheckInCodeInvalid, CheckInWrongDay
from appointments.models import Appointment
from appointments.service import CODE_ALPHABET, CODE_LENGTH
from identity import service as identity
from mapsvc.service import Hall, hall_by_id, hall_item


def _normalise(code: str) -> str | None:
    code = (code or "").strip().upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def _find(clerk: Principal, code: str) -> tuple[Appointment, Hall]:
    normalised = _normalise(code)
    appointment = models.appointment_by_code(normalised) if normalised else None
    hall = hall_by_id(appointment.hall_id) if appointment else None
    if appointment is None or hall is None:
        raise CheckInCodeInvalid()
    if not clerk.hall_code or hall.code != clerk.hall_code:
        with unit_of_work():
            audit.record("map.appointment_checked_in", outcome="refused", actor_kind="staff", actor_id=clerk.id,
                         target=appointment.id, details={"reason": "other_hall", "clerk_hall": clerk.hall_code})
        raise CheckInCodeInvalid()
    return appointment, hall


def check_in(*, clerk: Principal, code: str) -> dict[str, Any]:
    """Mark the appointment with this check-in code arrived (the clerk's hall, today only)."""
    consume([Limit(f"appointment-check-in:{clerk.id}", current_app.config["APPOINTMENT_CHECK_IN_PER_MINUTE"], 60,
                   detail=N_("签到码输入过于频繁，请稍后再试。"))])
    appointment, hall = _find(clerk, code)
    if appointment.status == "arrived":
        raise AlreadyCheckedIn()
    if appointment.status != "booked":
        raise AppointmentNotActive()
    at = slots.now()
    if calendar.china_now(at).date() != appointment.day:
        raise CheckInWrongDay(N_("该预约日期为{day:%Y年%m月%d日}，请在预约当天签到。", day=appointment.day))
    with unit_of_work():
        if not models.check_in_booked(appointment.id, at, clerk.id):
            raise AlreadyCheckedIn()
        audit.record("map.appointment_checked_in", actor_kind="staff", actor_id=clerk.id, target=appointment.id,
                     details={"hall": hall.id, "slot": appointment.slot_id})
    item = hall_item(hall.id, appointment.item_code)
    return {
        "id": appointment.id,
        "status": "arrived",
        "status_label": i18n.label("appointment_status", "arrived"),
        "hall": {"id": hall.id, "code": hall.code, "name": hall.name},
        "item": {"code": appointment.item_code, "name": item.item_name if item else None},
        "start": appointment.starts_at.astimezone(CHINA),
        "end": appointment.ends_at.astimezone(CHINA),
        "arrived_at": at.astimezone(CHINA),
        "holder": {"name_masked": identity.user_view(identity.get_user(appointment.user_id))["name_masked"]},
    }
