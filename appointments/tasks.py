"""Background work for appointments, run by `flask --app wsgi appointments …` (cron / a timer).

- `mark_no_shows`: slots that ended without a check-in become no-shows (爽约); a citizen with
  APPOINTMENT_NO_SHOW_LIMIT no-shows among the slots of the last APPOINTMENT_NO_SHOW_WINDOW_DAYS days
  is banned from booking for APPOINTMENT_BAN_DAYS (a `map_booking_ban` row, audited).
- `send_reminders`: the reminder the day before (due at APPOINTMENT_REMINDER_HOUR, Beijing time),
  recorded in `map_appointment_notice` and queued in the notification outbox (appointments.notices),
  in the same unit of work; logged with ids only (no personal data).
- `send_hour_reminders`: the reminder one hour before the slot, once (the outbox's dedupe key); the
  same command runs both (`flask appointments send-reminders`, every 10 minutes).
The no-show and the ban are told to the citizen too (appointments.notices), in their unit of work.
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
from app.db import new_id, unit_of_work
from app.i18n import N_, T_, in_english
from appointments import models, notices, slots
from appointments.models import Appointment, BookingBan, active_ban
from mapsvc.service import Hall, hall_item, halls_by_id

log = logging.getLogger(__name__)

BATCH = 500


def _maybe_ban(user_id: str, at: datetime) -> BookingBan | None:
    config = current_app.config
    since = at - timedelta(days=config["APPOINTMENT_NO_SHOW_WINDOW_DAYS"])
    count = models.no_shows_since(user_id, since)
    if count < config["APPOINTMENT_NO_SHOW_LIMIT"] or active_ban(user_id, at) is not None:
        return None
    ban = models.insert_ban(ban_id=new_id("ban"), user_id=user_id,
                            until=at + timedelta(days=config["APPOINTMENT_BAN_DAYS"]), no_shows=count, created_at=at)
    audit.record("map.booking_banned", actor_kind="system", target=user_id,
                 details={"ban": ban.id, "no_shows": count, "until": ban.until.isoformat()})
    return ban


def mark_no_shows() -> tuple[int, int]:
    """Mark booked appointments whose slot has ended as no-shows; (no-shows marked, bans made)."""
    at = slots.now()
    marked = banned = 0
    while True:
        due = models.ended_unattended(at, BATCH)
        halls = halls_by_id(a.hall_id for a in due)
        for appointment in due:
            with unit_of_work():
                if not models.mark_no_show(appointment.id, at):
                    continue
                audit.record("map.appointment_no_show", actor_kind="system", actor_id=None,
                             target=appointment.id, details={"hall": appointment.hall_id})
                marked += 1
                hall = halls.get(appointment.hall_id)
                notices.missed(appointment, hall_name=hall.name if hall else None)
                ban = _maybe_ban(appointment.user_id, at)
                if ban is not None:
                    notices.banned(appointment, ban)
                    banned += 1
        if len(due) < BATCH:
            return marked, banned


_REMINDER = T_("预约提醒")


def _payload(appointment: Appointment, hall: Hall | None, item_name: str | None) -> str:
    start = appointment.starts_at.astimezone(CHINA)
    text = N_("您预约了{start:%m月%d日 %H:%M}到{hall}办理业务，请携带相关材料按时到达。", start=start,
              hall=hall.name if hall else "服务大厅")
    return json.dumps({"title": _REMINDER, "appointment_id": appointment.id,
                       "hall_name": hall.name if hall else None, "hall_address": hall.address if hall else None,
                       "item_name": item_name, "start": start.isoformat(),
                       "end": appointment.ends_at.astimezone(CHINA).isoformat(),
                       "text": text, **in_english(text=text)},
                      ensure_ascii=False)


def send_reminders() -> int:
    """Queue the day-before reminder of every booked appointment that is due; the number queued."""
    at = slots.now()
    due = models.reminders_due(at)
    halls = halls_by_id(a.hall_id for a in due)
    queued = 0
    for appointment in due:
        item = hall_item(appointment.hall_id, appointment.item_code)
        with unit_of_work():
            if not models.claim_reminder(appointment.id, at):
                continue
            payload = _payload(appointment, halls.get(appointment.hall_id), item.item_name if item else None)
            notice = models.insert_notice(notice_id=new_id("ntc"), appointment_id=appointment.id,
                                          user_id=appointment.user_id, kind="reminder", payload=payload,
                                          created_at=at)
            # the notification worker delivers it (inbox, live stream, pushes) from the shared outbox
            hall = halls.get(appointment.hall_id)
            notices.reminder(appointment, hall_name=hall.name if hall else None)
        if notice is not None:
            queued += 1
            log.info("appointment reminder queued", extra={"appointment": appointment.id, "notice": notice.id})
    return queued


def send_hour_reminders() -> int:
    """Queue the reminder one hour before the slot of every booked appointment starting within the
    hour; the number queued (once each: a second run queues none)."""
    at = slots.now()
    due = models.starting_between(at, at + timedelta(minutes=notices.HOUR_BEFORE_MINUTES))
    halls = halls_by_id(a.hall_id for a in due)
    queued = 0
    for appointment in due:
        hall = halls.get(appointment.hall_id)
        with unit_of_work():
            queued += notices.reminder(appointment, hall_name=hall.name if hall else None, hour_before=True)
    return queued
