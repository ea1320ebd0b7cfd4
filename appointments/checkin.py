"""Check-in at the hall (到厅签到): a counter clerk scans the citizen's check-in QR (or types the
8-character code read aloud) and the appointment is marked arrived.

Outcomes, in order: unknown code (404 check_in_code_invalid) → another hall's appointment (409
check_in_other_hall, naming that hall only) → already checked in / cancelled or missed (409) →
not today (409 check_in_wrong_day, naming the day) → too early (409 check_in_too_early: more than
APPOINTMENT_CHECK_IN_EARLY_MINUTES, default 60, before the slot starts; names the time check-in
opens) → too late (409 check_in_too_late: more than APPOINTMENT_CHECK_IN_GRACE_MINUTES, default 15,
after the slot ended; names the slot). Of concurrent scans of one code exactly one succeeds.

Another hall's code — the security trade-off. Until issue 16 it was answered like an unknown code
(404), so that a clerk could not learn that a code exists elsewhere. Now the clerk is told the
booked hall's NAME (public information: every hall is on the map) so the citizen can be sent to
the right place; nothing about the citizen (no name, time, matter or status) is disclosed. What a
dishonest clerk gains is "this 8-character code is a live booking at hall X": the codes are random
over 32^8 ≈ 10^12, the per-clerk rate limit (APPOINTMENT_CHECK_IN_PER_MINUTE) stays in front of
every lookup, and each such answer leaves a refused audit row (reason other_hall, the clerk's and the
booked hall), so probing is slow, visible and yields no personal data. The status of another
hall's appointment is not looked at (a cancelled booking elsewhere still answers other_hall).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app import audit, calendar, i18n
from app.clock import CHINA_TZ as CHINA
from app.db import unit_of_work
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.security.tokens import Principal
from appointments import models, slots
from appointments.errors import (AlreadyCheckedIn, AppointmentNotActive, CheckInCodeInvalid, CheckInOtherHall,
                                 CheckInTooEarly, CheckInTooLate, CheckInWrongDay)
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
                         target=appointment.id, details={"reason": "other_hall", "clerk_hall": clerk.hall_code,
                                                         "booked_hall": hall.code})
        raise CheckInOtherHall(N_("该预约是在“{hall}”办理的，不是本大厅的预约，请群众前往该大厅签到。", hall=hall.name),
                               extra={"hall": {"name": hall.name}})
    return appointment, hall


def _window(appointment: Appointment) -> tuple[datetime, datetime]:
    """(check-in opens, check-in closes) for the appointment (configurable minutes)."""
    config = current_app.config
    early = timedelta(minutes=config["APPOINTMENT_CHECK_IN_EARLY_MINUTES"])
    grace = timedelta(minutes=config["APPOINTMENT_CHECK_IN_GRACE_MINUTES"])
    return appointment.starts_at - early, appointment.ends_at + grace


def _refuse(clerk: Principal, appointment: Appointment, reason: str, error: Exception) -> None:
    with unit_of_work():
        audit.record("map.appointment_checked_in", outcome="refused", actor_kind="staff", actor_id=clerk.id,
                     target=appointment.id, details={"reason": reason})
    raise error


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
    opens, closes = _window(appointment)
    start, end = appointment.starts_at.astimezone(CHINA), appointment.ends_at.astimezone(CHINA)
    if at < opens:
        _refuse(clerk, appointment, "too_early", CheckInTooEarly(
            N_("预约时段为{start:%H:%M}–{end:%H:%M}，{opens:%H:%M}起才能签到，请稍后再来。",
               start=start, end=end, opens=opens.astimezone(CHINA)),
            extra={"opens_at": opens.astimezone(CHINA).isoformat()}))
    if at > closes:
        _refuse(clerk, appointment, "too_late", CheckInTooLate(
            N_("预约时段{start:%H:%M}–{end:%H:%M}已过，{closes:%H:%M}后不能再签到，请群众重新预约或现场取号。",
               start=start, end=end, closes=closes.astimezone(CHINA)),
            extra={"closed_at": closes.astimezone(CHINA).isoformat()}))
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
