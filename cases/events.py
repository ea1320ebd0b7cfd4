"""Department case events (办件过程信息): idempotent by `event_id`, applied in `seq` order per case.

One event is one transaction: the event row, the case update, the timeline entry, the outbox
notice and the audit row commit together or not at all. An event whose seq leaves a gap is stored
as pending and applied, in order, when the gap fills. A refused event (illegal transition, a seq
already used, a case number of another applicant) is stored as rejected, so the same event sent
again gets the same answer.

An applicant is a person (ID number) or an enterprise (USCC, issue 19): an enterprise's case is found
by blind_index("uscc", USCC) — another label than a person's "id" — and belongs to the enterprise
registered with that USCC (orgs), parked until it registers (cases/tasks.py attaches it then).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import peewee as pw
from flask import current_app

from app import audit
from app.db import new_id, unit_of_work, utcnow
from app.errors import AppError
from app.i18n import N_
from app.idnumber import IdNumberError, normalize_id_number
from app.security.pii import field_cipher
from app.uscc import normalise_uscc, uscc_valid
from cases import clock, models, notices
from cases.errors import (
    REJECTIONS, ApplicantNameMismatch, CaseMismatch, EventConflict, IllegalTransition, SeqConflict, UsccInvalid,
)
from cases.models import Case, CaseEvent
from cases.statuses import allowed, label
from identity import service as identity
from identity.service import IdNumberInvalid
from orgs import service as orgs

log = logging.getLogger(__name__)

PERSON, ENTERPRISE = "person", "enterprise"  # Case.applicant_kind


def applicant_bidx(kind: str, number: str) -> str:
    """The applicant's blind index: of the ID number ("id") or of the USCC ("uscc")."""
    return field_cipher().blind_index("uscc" if kind == ENTERPRISE else "id", number)


@dataclass(frozen=True)
class Applicant:
    """The applicant as this event's transaction finds it: the blind index, the owning account
    (None: parked) and, when the owner is verified, the name to compare with (read once)."""

    bidx: str
    owner: str | None
    registered_name: str | None


@dataclass(frozen=True)
class EventIn:
    """A department's event as received (validated by the schema, not yet normalised)."""

    event_id: str
    case_no: str
    applicant_name: str
    applicant_id_number: str
    item_code: str
    item_name: str
    status: str
    seq: int
    occurred_at: datetime
    message: str | None = None
    tracking_no: str | None = None
    promised_days: int | None = None
    channel: str = "online"
    supplement_due: date | None = None  # 补正 deadline (supplement_required events only)
    applicant_kind: str = PERSON  # ENTERPRISE: applicant_id_number is the enterprise's USCC


@dataclass
class EventResult:
    """What the department is told: the event is stored (applied or pending) or was seen before."""

    event_id: str
    case_id: str
    state: str  # applied | pending
    status: str | None  # the case's status afterwards
    duplicate: bool = False
    released: list[str] = field(default_factory=list)  # pending events this one let through

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": True, "duplicate": self.duplicate, "event_id": self.event_id, "case_id": self.case_id,
                "state": self.state, "status": self.status, "status_label": label(self.status),
                "released": self.released}


def _normalised(event: EventIn) -> EventIn:
    if event.applicant_kind == ENTERPRISE:
        uscc = normalise_uscc(event.applicant_id_number)
        if not uscc_valid(uscc):
            raise UsccInvalid(errors={"applicant.uscc": [N_("统一社会信用代码不正确。")]})
        return replace(event, applicant_name=event.applicant_name.strip(), applicant_id_number=uscc,
                       occurred_at=event.occurred_at.astimezone(timezone.utc))
    try:
        id_number = normalize_id_number(event.applicant_id_number)
    except IdNumberError as exc:
        raise IdNumberInvalid(str(exc), errors={"applicant.id_number": [str(exc)]}) from None
    return EventIn(event.event_id, event.case_no, event.applicant_name.strip(), id_number, event.item_code,
                   event.item_name, event.status, event.seq, event.occurred_at.astimezone(timezone.utc),
                   event.message, event.tracking_no, event.promised_days, event.channel, event.supplement_due)


def _digest(event: EventIn) -> str:
    """Keyed digest of the whole body (it holds an ID number: a plain hash could be reversed)."""
    fields = {**event.__dict__, "occurred_at": event.occurred_at.isoformat()}
    if event.applicant_kind == PERSON:  # absent: a person's digest stays as before enterprise applicants
        del fields["applicant_kind"]
    if event.supplement_due is None:  # absent: the digest of events stored before the field existed
        del fields["supplement_due"]
    else:
        fields["supplement_due"] = event.supplement_due.isoformat()
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return field_cipher().blind_index("case-event", body)


# --- Receiving ----------------------------------------------------------------------------------

def receive_event(*, client_id: str, event: EventIn) -> EventResult:
    """Store and (in seq order) apply a department event; see the module docstring.

    Raises EventConflict (same id, other body), IllegalTransition, SeqConflict, CaseMismatch,
    IdNumberInvalid. A refusal is recorded (event row + audit) before it is raised."""
    event = _normalised(event)
    digest = _digest(event)
    existing = models.find_event(client_id, event.event_id)
    if existing is None:
        try:
            with unit_of_work():
                outcome = _ingest(client_id, event, digest)
        except pw.IntegrityError:  # the same event id committed meanwhile (UNIQUE client_id, event_id)
            outcome = None
        if isinstance(outcome, EventResult):
            return outcome
        if isinstance(outcome, AppError):
            raise outcome
        existing = models.find_event(client_id, event.event_id)
        if existing is None:
            raise RuntimeError("case event vanished")  # pragma: no cover
    return _replay(client_id, existing, digest)


def _same_name(a: str, b: str) -> bool:
    """Names compared without spaces and with one form of the middle dot (少数民族姓名 间隔号)."""
    def canonical(name: str) -> str:
        return "".join(name.split()).replace("•", "·").replace("‧", "·").replace("・", "·")
    return canonical(a) == canonical(b)


def _applicant(event: EventIn) -> Applicant:
    """The applicant's blind index, owner and registered name (inside the event's transaction)."""
    bidx = applicant_bidx(event.applicant_kind, event.applicant_id_number)
    if event.applicant_kind == ENTERPRISE:
        enterprise_id = orgs.enterprise_for(event.applicant_id_number)
        return Applicant(bidx, enterprise_id, orgs.enterprise_name(enterprise_id) if enterprise_id else None)
    user_id, name = identity.holder_by_id_index(bidx)  # one query: the account and its verified name
    return Applicant(bidx, user_id, name)


def _name_refusal(client_id: str, event: EventIn, applicant: Applicant) -> AppError | None:
    """422 applicant_name_mismatch (audited) when the ID number belongs to a real-name verified
    citizen whose registered name is not the one sent: the case would reach the wrong person's app
    or carry a wrong name. Unverified ID numbers are parked as before (nothing to compare with). An
    enterprise applicant's name is compared with the registered enterprise's name."""
    if applicant.registered_name is None or _same_name(applicant.registered_name, event.applicant_name):
        return None
    reason = (N_("与该统一社会信用代码的企业登记名称不一致。") if event.applicant_kind == ENTERPRISE
              else N_("与该身份证号码的实名登记姓名不一致。"))
    audit.record("cases.event", outcome="refused", actor_kind="client", actor_id=client_id,
                 target=event.case_no, details={"event_id": event.event_id, "reason": ApplicantNameMismatch.code})
    return ApplicantNameMismatch(extra={"event_id": event.event_id}, errors={"applicant.name": [reason]})


def _replay(client_id: str, existing: CaseEvent, digest: str) -> EventResult:
    """The answer to an event id seen before: the stored outcome, or EventConflict."""
    if existing.digest != digest:
        with unit_of_work():
            audit.record("cases.event", outcome="refused", actor_kind="client", actor_id=client_id,
                         target=existing.case_id, details={"event_id": existing.event_id, "reason": "event_conflict"})
        raise EventConflict(extra={"event_id": existing.event_id})
    if existing.state == "rejected":
        raise _rejection(existing, duplicate=True)
    case = models.find_case(existing.case_id)
    return EventResult(existing.event_id, case.id, existing.state, case.status, duplicate=True)


def _rejection(row: CaseEvent, *, duplicate: bool) -> AppError:
    error = REJECTIONS[row.outcome]
    extra: dict[str, Any] = {"event_id": row.event_id, "duplicate": duplicate}
    if error is IllegalTransition:
        extra.update(from_status=row.from_status, to_status=row.status)
        return IllegalTransition(N_("办件当前状态为“{current}”，不能变更为“{status}”。",
                                    current=label(row.from_status) or "未开始", status=label(row.status)),
                                 extra=extra)
    return error(extra=extra)


def _ingest(client_id: str, event: EventIn, digest: str) -> EventResult | AppError:
    """Inside the transaction. Every outcome inserts the event's row: when the event id turned up
    meanwhile, its UNIQUE (client_id, event_id) index raises IntegrityError, the transaction rolls
    back and the caller replays the stored outcome."""
    applicant = _applicant(event)
    refusal = _name_refusal(client_id, event, applicant)
    if refusal is not None:
        return refusal
    case = _locked_case(client_id, event, applicant)
    row = models.new_event(client_id=client_id, event_id=event.event_id, digest=digest, case=case.id, seq=event.seq,
                           status=event.status, occurred_at=event.occurred_at, message=event.message,
                           tracking_no=event.tracking_no, promised_days=event.promised_days,
                           supplement_due=event.supplement_due, received_at=utcnow())
    if case.applicant_bidx != applicant.bidx or case.item_code != event.item_code:
        return _refuse(case, row, CaseMismatch.code)
    if case.user_id is None:  # parked: the applicant may have been verified (registered) since
        case.user_id = applicant.owner
    # A slot above last_seq is held only by a pending event: none while pending_count is 0.
    if event.seq <= case.last_seq or (case.pending_count and models.event_in_slot(case.id, event.seq) is not None):
        return _refuse(case, row, SeqConflict.code)
    released: list[str] = []
    if event.seq > case.last_seq + 1:
        row.state, row.seq_slot = "pending", event.seq
        case.pending_count += 1
        models.insert_event(row)
    else:
        if not _apply(case, row, new=True):
            models.save_case(case)
            _audit(client_id, case, row)
            return _rejection(row, duplicate=False)
        released = _release_pending(case)
    models.save_case(case)
    _audit(client_id, case, row)
    return EventResult(event.event_id, case.id, row.state, case.status, released=released)


def _refuse(case: Case, row: CaseEvent, code: str) -> AppError:
    row.state, row.outcome, row.from_status = "rejected", code, case.status
    models.insert_event(row)
    models.save_case(case)
    _audit(row.client_id, case, row)
    return _rejection(row, duplicate=False)


def _audit(client_id: str, case: Case, row: CaseEvent) -> None:
    details = {"event_id": row.event_id, "seq": row.seq, "status": row.status, "state": row.state}
    if row.outcome:
        details["reason"] = row.outcome
    audit.record("cases.event", outcome="refused" if row.state == "rejected" else "success", actor_kind="client",
                 actor_id=client_id, target=case.id, details=details)


# --- The case row ---------------------------------------------------------------------------------

_department_names: dict[str, str] = {}


def _department_name(client_id: str) -> str:
    name = _department_names.get(client_id)
    if name is None:
        name = _department_names[client_id] = (identity.client_name(client_id) or client_id)[:128]
    return name


def _locked_case(client_id: str, event: EventIn, applicant: Applicant) -> Case:
    """The case of this event, locked for the transaction; opened (from this event) if new."""
    case = models.lock_case_by_number(client_id, event.case_no)
    if case is not None:
        return case
    c, now = field_cipher(), utcnow()
    created = models.insert_case(
        id=new_id("case"), client_id=client_id, case_no=event.case_no,
        department_name=_department_name(client_id), item_code=event.item_code, item_name=event.item_name,
        channel=event.channel, applicant_bidx=applicant.bidx, applicant_kind=event.applicant_kind,
        applicant_name_enc=c.encrypt(event.applicant_name, "case.applicant_name"),
        applicant_id_enc=c.encrypt(event.applicant_id_number, "case.applicant_id"),
        user_id=applicant.owner, created_at=now, updated_at=now)
    return created or models.lock_case_by_number(client_id, event.case_no)


# --- Applying -------------------------------------------------------------------------------------

def _apply(case: Case, row: CaseEvent, *, new: bool) -> bool:
    """Apply the event next in seq order to `case` (in memory; the caller saves the case).
    False when the transition is illegal: the event is then stored as rejected."""
    if not allowed(case.status, row.status):
        row.state, row.outcome, row.from_status, row.seq_slot = "rejected", IllegalTransition.code, case.status, None
        if new:
            models.insert_event(row)
        else:
            models.update_event(row.id, state=row.state, outcome=row.outcome, from_status=row.from_status,
                                seq_slot=None)
        return False
    now = utcnow()
    clock.advance(case, status=row.status, at=row.occurred_at, promised_days=row.promised_days)
    case.status, case.status_at, case.last_seq = row.status, row.occurred_at, row.seq
    case.submitted_at = case.submitted_at or row.occurred_at
    case.tracking_no = row.tracking_no or case.tracking_no
    case.supplement_due = row.supplement_due if row.status == "supplement_required" else None
    row.state, row.seq_slot, row.applied_at = "applied", row.seq, now
    if new:
        models.insert_event(row)
    else:
        models.update_event(row.id, state="applied", applied_at=now)
    models.insert_status_entry(case=case.id, seq=row.seq, status=row.status, message=row.message,
                               tracking_no=row.tracking_no, supplement_due=row.supplement_due,
                               occurred_at=row.occurred_at, created_at=now)
    if case.user_id is not None:
        notices.status_changed(case, event_id=row.event_id, status=row.status, supplement_due=row.supplement_due)
    if row.status == "concluded" and case.concluded_at is None:
        case.concluded_at = row.occurred_at
        invite_to_evaluate(case, now=now)
    return True


def invite_to_evaluate(case: Case, *, now: datetime) -> None:
    """The 好差评 invitation (now) and the reminder's due time (3 days on), for an attached applicant."""
    if case.user_id is None or case.rated_at is not None:
        return
    notices.evaluation_invite(case)
    if case.reminder_due_at is None:
        case.reminder_due_at = now + timedelta(days=current_app.config["CASES_REMINDER_DAYS"])


def _release_pending(case: Case) -> list[str]:
    """Apply the pending events that now follow in seq order; stops at a gap or a refused one."""
    released: list[str] = []
    while case.pending_count:
        row = models.event_in_slot(case.id, case.last_seq + 1)
        if row is None or row.state != "pending":
            break
        case.pending_count -= 1
        if not _apply(case, row, new=False):
            log.info("pending case event refused", extra={"case": case.id, "seq": row.seq, "status": row.status})
            break
        released.append(row.event_id)
    return released
