"""Background work on cases: attaching parked cases when their applicant is verified, and the
好差评 reminder 3 days after the invitation (`flask --app wsgi cases remind`, run hourly).

The reminder is not queued at conclusion: the command queues it when it is due, in the same
transaction as a conditional update that only passes while the case is still unrated, so a case
rated before that moment never gets one (and the rating, which sets `rated_at` under the same
row, cannot slip in between).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app

from app import audit
from app.db import db, select_where, utcnow
from identity import service as identity
from cases import notices
from cases.events import invite_to_evaluate
from cases.models import Case, CaseEvent
from cases.statuses import CONCLUDED

log = logging.getLogger(__name__)


# --- Parking (停放) -------------------------------------------------------------------------------

def attach_parked(*, user_id: str) -> int:
    """Give a newly verified citizen the cases filed under their ID number while they had no account,
    and queue what they missed: the latest status of each, the evaluation invitation if concluded."""
    person = identity.verified_identity(user_id)
    if person is None:
        return 0
    bidx = current_app.extensions["pii"].blind_index("id", person.id_number)
    attached = 0
    with db.atomic():
        for case_id in [c.id for c in Case.select(Case.id).where((Case.applicant_bidx == bidx)
                                                                 & Case.user_id.is_null())]:
            now = utcnow()
            # Conditional: an event applied meanwhile may have attached the case (and queued its notice).
            if not Case.update(user_id=user_id, updated_at=now).where(
                    (Case.id == case_id) & Case.user_id.is_null()).execute():
                continue
            case = Case.get_by_id(case_id)
            _queue_missed(case, now)
            attached += 1
        if attached:
            audit.record("cases.attached", actor_kind="citizen", actor_id=user_id, details={"count": attached})
    return attached


def _queue_missed(case: Case, now: datetime) -> None:
    latest = select_where(CaseEvent, case=case.id, seq_slot=case.last_seq) if case.last_seq else None
    if latest is not None and latest.state == "applied":
        notices.status_changed(case, event_id=latest.event_id, status=latest.status)
    if case.status in CONCLUDED:
        due = case.reminder_due_at
        invite_to_evaluate(case, now=now)
        if case.reminder_due_at != due:
            Case.update(reminder_due_at=case.reminder_due_at).where(Case.id == case.id).execute()


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
        due = [c.id for c in Case.select(Case.id).where(
            (Case.reminder_due_at <= now) & Case.reminded_at.is_null() & Case.rated_at.is_null()
            & Case.user_id.is_null(False)).order_by(Case.reminder_due_at).limit(batch)]
        for case_id in due:
            with db.atomic():
                if not Case.update(reminded_at=now).where(
                        (Case.id == case_id) & Case.reminded_at.is_null() & Case.rated_at.is_null()).execute():
                    continue  # rated (or reminded by another run) meanwhile
                sent += notices.evaluation_reminder(Case.get_by_id(case_id))
        if len(due) < batch:
            return sent
