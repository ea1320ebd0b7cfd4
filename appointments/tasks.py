"""Background work for appointments, run by `flask --app wsgi appointments …` (cron / a timer).

- `mark_no_shows`: slots that ended without a check-in become no-shows (爽约); a citizen with
  APPOINTMENT_NO_SHOW_LIMIT no-shows among the slots of the last APPOINTMENT_NO_SHOW_WINDOW_DAYS days
  is banned from booking for APPOINTMENT_BAN_DAYS (a `map_booking_ban` row, audited).
- `send_reminders`: the reminder the day before (due at APPOINTMENT_REMINDER_HOUR, Beijing time),
  recorded in `map_appointment_notice` and queued in the notification outbox (`notify.outbox`), in
  the same transaction; logged with ids only (no personal data).
Each appointment is handled in its own transaction, with a conditional UPDATE naming the state it
leaves, so two runs at once never mark or remind one appointment twice.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from flask import current_app

from app import audit
from app.clock import CHINA_TZ as CHINA
from app.db import db, insert_row, new_id, update_where
from appointments import slots
from appointments.models import Appointment, AppointmentNotice, BookingBan
from appointments.service import active_ban
from mapsvc.models import Hall, HallItem
from notify.outbox import enqueue

log = logging.getLogger(__name__)

BATCH = 500


def _maybe_ban(user_id: str, at: datetime) -> bool:
    config = current_app.config
    since = at - timedelta(days=config["APPOINTMENT_NO_SHOW_WINDOW_DAYS"])
    count = Appointment.select().where((Appointment.user_id == user_id) & (Appointment.status == "no_show")
                                       & (Appointment.starts_at >= since)).count()
    if count < config["APPOINTMENT_NO_SHOW_LIMIT"] or active_ban(user_id, at) is not None:
        return False
    ban = insert_row(BookingBan, id=new_id("ban"), user_id=user_id,
                     until=at + timedelta(days=config["APPOINTMENT_BAN_DAYS"]), no_shows=count, created_at=at)
    audit.record("map.booking_banned", actor_kind="system", target=user_id,
                 details={"ban": ban.id, "no_shows": count, "until": ban.until.isoformat()})
    return True


def mark_no_shows() -> tuple[int, int]:
    """Mark booked appointments whose slot has ended as no-shows; (no-shows marked, bans made)."""
    at = slots.now()
    marked = banned = 0
    while True:
        due = list(Appointment.select(Appointment.id, Appointment.user_id, Appointment.hall_id)
                   .where((Appointment.status == "booked") & (Appointment.ends_at <= at))
                   .order_by(Appointment.ends_at).limit(BATCH))
        for appointment in due:
            with db.atomic():
                if update_where(Appointment, {"id": appointment.id, "status": "booked"}, status="no_show",
                                active_key=None, no_show_at=at) != 1:
                    continue
                audit.record("map.appointment_no_show", actor_kind="system", actor_id=None,
                             target=appointment.id, details={"hall": appointment.hall_id})
                marked += 1
                banned += _maybe_ban(appointment.user_id, at)
        if len(due) < BATCH:
            return marked, banned


def _payload(appointment: Appointment, hall: Hall | None, item_name: str | None) -> str:
    start = appointment.starts_at.astimezone(CHINA)
    return json.dumps({"title": "预约提醒", "appointment_id": appointment.id,
                       "hall_name": hall.name if hall else None, "hall_address": hall.address if hall else None,
                       "item_name": item_name, "start": start.isoformat(),
                       "end": appointment.ends_at.astimezone(CHINA).isoformat(),
                       "text": f"您预约了{start:%m月%d日 %H:%M}到{hall.name if hall else '服务大厅'}办理业务，请携带相关材料按时到达。",
                       "text_en": f"You have an appointment on {start:%Y-%m-%d} at {start:%H:%M} (China time); please "
                                  f"bring your documents and arrive on time."},
                      ensure_ascii=False)


def send_reminders() -> int:
    """Queue the day-before reminder of every booked appointment that is due; the number queued."""
    at = slots.now()
    due = list(Appointment.select().where((Appointment.status == "booked") & Appointment.reminded_at.is_null()
                                          & (Appointment.reminder_due_at <= at) & (Appointment.starts_at > at))
               .order_by(Appointment.reminder_due_at))
    halls = {h.id: h for h in Hall.select().where(Hall.id.in_({a.hall_id for a in due}))} if due else {}
    queued = 0
    for appointment in due:
        item = HallItem.get_or_none((HallItem.hall == appointment.hall_id)
                                    & (HallItem.item_code == appointment.item_code))
        with db.atomic():
            claimed = (Appointment.update(reminded_at=at)
                       .where((Appointment.id == appointment.id) & (Appointment.status == "booked")
                              & Appointment.reminded_at.is_null()).execute())
            if claimed != 1:
                continue
            payload = _payload(appointment, halls.get(appointment.hall_id), item.item_name if item else None)
            notice = insert_row(AppointmentNotice, ignore_conflict=True, id=new_id("ntc"),
                                appointment_id=appointment.id, user_id=appointment.user_id, kind="reminder",
                                payload=payload, created_at=at)
            # the notification worker delivers it (inbox, live stream, pushes) from the shared outbox
            text = json.loads(payload)
            enqueue(user_id=appointment.user_id, kind="appointment_reminder", title="预约提醒",
                    body=text["text"], dedupe_key=f"appointment-reminder:{appointment.id}",
                    data={"appointment_id": appointment.id, "title_en": "Appointment reminder",
                          "body_en": text["text_en"]}, collapse_key=appointment.id)
        if notice is not None:
            queued += 1
            log.info("appointment reminder queued", extra={"appointment": appointment.id, "notice": notice.id})
    return queued
