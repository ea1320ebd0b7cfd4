"""Notices about the citizen's appointments (预约), written to the notify outbox inside the caller's
transaction (the appointment change and its notice commit or roll back together); the notify worker
delivers each to the inbox, the live stream (SSE) and the citizen's devices.

Events (issue 16): booked, reminded (the day before, `send_reminders`, and one hour before,
`send_hour_reminders`), cancelled, missed (爽约, marked by `mark_no_shows`) and a booking ban after
repeated no-shows. Each notice's data carries the deep link the app opens,
`link: yiwang://appointments/<id>` (the ban: the missed appointment that brought it), plus
`screen: appointments`, `appointment_id` and its English (`title_en`, `body_en`). Texts carry no
personal data: the hall's name, the slot's time, dates and counts. Dedupe keys make a retried event
a no-op.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.clock import CHINA_TZ as CHINA
from app.i18n import N_, T_, in_english
from appointments.models import Appointment, BookingBan
from notify.service import enqueue

LINK = "yiwang://appointments/{}"
HOUR_BEFORE_MINUTES = 60  # the second reminder, this long before the slot starts


def _hall(name: str | None) -> Any:
    return name or T_("服务大厅")


def _send(appointment: Appointment, *, kind: str, title: str, body: str, key: str, **extra: Any) -> bool:
    data = {"screen": "appointments", "appointment_id": appointment.id, "link": LINK.format(appointment.id),
            "start": appointment.starts_at.astimezone(CHINA).isoformat(), **extra,
            **in_english(title=title, body=body)}
    return enqueue(user_id=appointment.user_id, kind=kind, title=title, body=body, dedupe_key=key, data=data,
                   collapse_key=appointment.id)


def _start(appointment: Appointment) -> datetime:
    return appointment.starts_at.astimezone(CHINA)


def booked(appointment: Appointment, *, hall_name: str | None) -> bool:
    title = T_("预约成功")
    body = N_("您已预约{start:%m月%d日 %H:%M}到{hall}办理业务，请按时到达并出示预约签到码。",
              start=_start(appointment), hall=_hall(hall_name))
    return _send(appointment, kind="appointment_booked", title=title, body=body,
                 key=f"appointment-booked:{appointment.id}", event="booked")


def reminder(appointment: Appointment, *, hall_name: str | None, hour_before: bool = False) -> bool:
    """The reminder the day before, or (`hour_before`) one hour before: each once (its own key)."""
    if hour_before:
        title = T_("预约即将开始")
        body = N_("您预约的{start:%H:%M}到{hall}办理业务即将开始，请携带相关材料按时到达。",
                  start=_start(appointment), hall=_hall(hall_name))
        key, event = f"appointment-reminder-hour:{appointment.id}", "reminder_hour"
    else:
        title = T_("预约提醒")
        body = N_("您预约了{start:%m月%d日 %H:%M}到{hall}办理业务，请携带相关材料按时到达。",
                  start=_start(appointment), hall=_hall(hall_name))
        key, event = f"appointment-reminder:{appointment.id}", "reminder"
    return _send(appointment, kind="appointment_reminder", title=title, body=body, key=key, event=event)


def cancelled(appointment: Appointment, *, hall_name: str | None) -> bool:
    title = T_("预约已取消")
    body = N_("您{start:%m月%d日 %H:%M}在{hall}的预约已取消，号源已释放。", start=_start(appointment),
              hall=_hall(hall_name))
    return _send(appointment, kind="appointment_cancelled", title=title, body=body,
                 key=f"appointment-cancelled:{appointment.id}", event="cancelled")


def missed(appointment: Appointment, *, hall_name: str | None) -> bool:
    title = T_("预约已爽约")
    body = N_("您{start:%m月%d日 %H:%M}在{hall}的预约未签到，已记为爽约。多次爽约将暂停预约资格。",
              start=_start(appointment), hall=_hall(hall_name))
    return _send(appointment, kind="appointment_missed", title=title, body=body,
                 key=f"appointment-missed:{appointment.id}", event="missed")


def banned(appointment: Appointment, ban: BookingBan) -> bool:
    """A booking ban after repeated no-shows; linked to the missed appointment that brought it."""
    until = ban.until.astimezone(CHINA)
    title = T_("预约资格已暂停")
    body = N_("您近期爽约 {count} 次，{until.year}年{until.month}月{until.day}日前不能在线预约。",
              count=ban.no_shows, until=until)
    return _send(appointment, kind="appointment_banned", title=title, body=body, key=f"appointment-ban:{ban.id}",
                 event="banned", ban_id=ban.id, until=until.isoformat())
