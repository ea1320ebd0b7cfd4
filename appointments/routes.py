"""Appointment endpoints — 预约: slots of a hall, booking, my appointments, cancellation, the
check-in QR, and check-in at the counter."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from app.openapi import problems
from app.qr import render_png
from app.security.auth import auth_required, current_principal
from appointments import checkin as appointment_checkin
from appointments import schemas as s
from appointments import service as appointments
from appointments import slots

blp = Blueprint("appointments", __name__, url_prefix="/api/v1", description="预约 (service-hall appointments)")

_BOOK_PROBLEMS = {403: "assurance_level_insufficient, booking_banned", 404: "hall_not_found",
                  409: "slot_full, already_booked",
                  422: "validation_failed, slot_invalid, item_not_offered, booking_window"}


@blp.route("/map/halls/<hall_id>/slots", methods=["GET"])
@blp.arguments(s.SlotArgsSchema(), location="query")
@blp.response(200, s.SlotListSchema())
@problems(blp, {404: "hall_not_found", 422: "validation_failed, slot_date_out_of_range"})
def list_slots(args, hall_id):
    """A hall's appointment slots on a day: start, end, capacity, remaining seats, bookable or why not."""
    return slots.list_slots(hall_id=hall_id, day=args["date"])


@blp.route("/appointments", methods=["POST"])
@blp.arguments(s.BookSchema())
@blp.response(201, s.AppointmentSchema())
@problems(blp, _BOOK_PROBLEMS)
@auth_required(delegable="appointments:book")
def book(body):
    """Book a slot at a hall for a service item (L1+; one per person per hall-day)."""
    return appointments.book(user_id=current_principal().id, hall_id=body["hall_id"], slot_id=body["slot_id"],
                             item_code=body["item_code"]), 201


@blp.route("/appointments", methods=["GET"])
@blp.arguments(s.AppointmentListArgsSchema(), location="query")
@blp.response(200, s.AppointmentListSchema())
@problems(blp, {422: "cursor_invalid, validation_failed"})
@auth_required(delegable="appointments:book")
def list_appointments(args):
    """My appointments, latest slot first (cursor pagination)."""
    return appointments.list_for(user_id=current_principal().id, limit=args["limit"], cursor=args["cursor"],
                                 status=args["status"])


@blp.route("/appointments/<appointment_id>", methods=["GET"])
@blp.response(200, s.AppointmentSchema())
@problems(blp, {404: "appointment_not_found"})
@auth_required(delegable="appointments:book")
def get_appointment(appointment_id):
    """One of my appointments, with its check-in code while it is booked."""
    return appointments.get(user_id=current_principal().id, appointment_id=appointment_id)


@blp.route("/appointments/<appointment_id>", methods=["DELETE"])
@blp.response(204)
@problems(blp, {404: "appointment_not_found", 409: "cancel_too_late, appointment_not_active"})
@auth_required(delegable="appointments:book")
def cancel_appointment(appointment_id):
    """Cancel my appointment (until 2 hours before the slot); the seat is free again at once."""
    appointments.cancel(user_id=current_principal().id, appointment_id=appointment_id)
    return "", 204


@blp.route("/appointments/<appointment_id>/qr.png", methods=["GET"])
@blp.doc(responses={200: {"description": "PNG", "content": {"image/png": {}}}})
@problems(blp, {404: "appointment_not_found", 409: "appointment_not_active"})
@auth_required(delegable="appointments:book")
def appointment_qr(appointment_id):
    """The check-in QR code of my booked appointment, as PNG (it holds the check-in code)."""
    text = appointments.qr_text_of(user_id=current_principal().id, appointment_id=appointment_id)
    response = Response(render_png(text), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/counter/check-ins", methods=["POST"])
@blp.arguments(s.CheckInRequestSchema())
@blp.response(200, s.CheckInSchema())
@problems(blp, {403: "forbidden", 404: "check_in_code_invalid",
                409: "check_in_other_hall (hall.name only: booked at another hall of the province; audited), "
                     "already_checked_in, appointment_not_active, check_in_wrong_day, "
                     "check_in_too_early (opens_at), check_in_too_late (closed_at)",
                422: "validation_failed", 429: "rate_limited"})
@auth_required(kinds=("staff",), roles=("clerk",))
def check_in(body):
    """Check a citizen in at the counter by their check-in code (clerks of the appointment's hall), on the
    appointment's day from APPOINTMENT_CHECK_IN_EARLY_MINUTES (60) before the slot until
    APPOINTMENT_CHECK_IN_GRACE_MINUTES (15) after it. A code booked at another hall is answered 409
    check_in_other_hall with that hall's name only (no personal data; audited; rate limited like every
    lookup)."""
    return appointment_checkin.check_in(clerk=current_principal(), code=body["code"])
