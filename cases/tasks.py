"""Background work on cases: attaching parked cases when their applicant is verified, and the
好差评 reminder 3 days after the invitation (`flask --app wsgi cases remind`, run hourly), and the
notice that a case's SLA is about to be missed (`flask --app wsgi cases remind-sla`, run daily): once
per case and due date (the outbox's dedupe key), when the due date is today or the next working day.

The reminder is not queued at conclusion: the command queues it when it is due, in the same
transaction as a conditional update that only passes while the case is still unrated, so a case
rated before that moment never gets one (and the rating, which sets `rated_at` under the same
row, cannot slip in between).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app import audit, calendar
from app.db import unit_of_work, utcnow
from app.security.pii import field_cipher
from app.uscc import normalise_uscc
from cases import models, notices
from cases.events import invite_to_evaluate
from cases.models import Case
from cases.statuses import CONCLUDED
from identity import service as identity

log = logging.getLogger(__name__)


# --- Parking (停放) -------------------------------------------------------------------------------

def attach_parked(*, user_id: str) -> int:
    """Give a newly verified citizen the cases filed under their ID number while they had no account,
    and queue what they missed: the latest status of each, the evaluation invitation if concluded."""
    # The account's ID-number blind index: a 网号 account that consented to matching holds only that.
    bidx = identity.holder_index(user_id)
    if bidx is None:
        return 0
    attached = 0
    with unit_of_work():
        for case_id in models.parked_case_ids(bidx):
            now = utcnow()
            # Conditional: an event applied meanwhile may have attached the case (and queued its notice).
            if not models.attach_case(case_id, user_id=user_id, now=now):
                continue
            case = models.case_by_id(case_id)
            _queue_missed(case, now)
            attached += 1
        if attached:
            audit.record("cases.attached", actor_kind="citizen", actor_id=user_id, details={"count": attached})
    return attached


def _queue_missed(case: Case, now: datetime) -> None:
    latest = models.event_in_slot(case.id, case.last_seq) if case.last_seq else None
    if latest is not None and latest.state == "applied":
        notices.status_changed(case, event_id=latest.event_id, status=latest.status)
    if case.status in CONCLUDED:
        due = case.reminder_due_at
        invite_to_evaluate(case, now=now)
        if case.reminder_due_at != due:
            models.set_reminder_due(case.id, case.reminder_due_at)


def attach_enterprise_parked(*, enterprise_id: str, uscc: str) -> int:
    """Give a newly registered enterprise the cases filed under its USCC while it was not registered,
    and queue what it missed (to its inbox; pushes fan out to its LR and agents: notify)."""
    bidx = field_cipher().blind_index("uscc", normalise_uscc(uscc))
    attached = 0
    with unit_of_work():
        for case_id in models.parked_case_ids(bidx):
            now = utcnow()
            if not models.attach_case(case_id, user_id=enterprise_id, now=now):
                continue
            _queue_missed(models.case_by_id(case_id), now)
            attached += 1
        if attached:
            audit.record("cases.attached", actor_kind="system", target=enterprise_id,
                         details={"count": attached, "applicant_kind": "enterprise"})
    return attached


def on_enterprise_registered(sender: Any, *, uscc: str, **_: Any) -> None:
    """orgs.signals.enterprise_registered (sender: the enterprise id)."""
    attached = attach_enterprise_parked(enterprise_id=sender, uscc=uscc)
    if attached:
        log.info("parked enterprise cases attached", extra={"enterprise": sender, "count": attached})


def on_real_name_verified(sender: Any, *, user_id: str, **_: Any) -> None:
    attached = attach_parked(user_id=user_id)
    if attached:
        log.info("parked cases attached", extra={"user": user_id, "count": attached})


# --- 好差评 reminders --------------------------------------------------------------------------

def send_evaluation_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Queue the reminders that are due for cases still unrated; the number queued."""
    now = now or utcnow()
    sent = 0
    while True:
        due = models.due_reminder_ids(now, batch)
        for case_id in due:
            with unit_of_work():
                if not models.mark_reminded(case_id, now):
                    continue  # rated (or reminded by another run) meanwhile
                sent += notices.evaluation_reminder(models.case_by_id(case_id))
        if len(due) < batch:
            return sent


# --- SLA about to be missed (承诺时限) ----------------------------------------------------------

def send_sla_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Queue the SLA notice of every running case due within 1 working day; the number queued
    (a second run the same day queues none)."""
    today = calendar.china_now(now or utcnow()).date()
    last = calendar.working_days_after(today, 1)[-1]
    sent, after = 0, ""
    while True:
        due = models.sla_due_case_ids(today, last, after=after, batch=batch)
        for case_id in due:
            with unit_of_work():
                case = models.case_by_id(case_id)
                sent += notices.sla_due(case, due=case.due_date)
        if len(due) < batch:
            return sent
        after = due[-1]
