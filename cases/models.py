"""Case tables (办件): cases, the department events that move them, the citizen's timeline,
evaluations (好差评) and the follow-ups a poor rating opens.

The applicant's name and ID number are stored SM4-GCM encrypted; the applicant is found by the
keyed blind index of the ID number. `user_id` is null while the case is parked (停放): the
applicant has no verified account yet.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, db, execute, insert_row, select_where, update_where, utcnow
from app.pagination import newest_first
from cases.statuses import SLA_RUNNING


class Case(BaseModel):
    """A case — 办件: one application handled by one department (its machine client)."""

    id = pw.CharField(primary_key=True, max_length=32)
    client_id = pw.CharField(max_length=40)  # the handling department's client
    case_no = pw.CharField(max_length=64)  # the department's case number, unique per client
    department_name = pw.CharField(max_length=128)
    item_code = pw.CharField(max_length=64)
    item_name = pw.CharField(max_length=128)
    channel = pw.CharField(max_length=16)
    applicant_bidx = pw.CharField(max_length=64, index=True)
    # "person": blind_index("id", ID number); "enterprise": blind_index("uscc", USCC), the owner
    # (user_id) an enterprise id and applicant_id_enc the USCC (issue 19)
    applicant_kind = pw.CharField(max_length=10, default="person")
    applicant_name_enc = pw.BlobField()
    applicant_id_enc = pw.BlobField()
    user_id = pw.CharField(max_length=32, null=True)  # null: parked
    status = pw.CharField(max_length=24, null=True)  # null until its first event is applied
    last_seq = pw.BigIntegerField(default=0)  # the highest event seq applied (events apply in seq order)
    pending_count = pw.IntegerField(default=0)  # events waiting for a gap in seq to fill
    submitted_at = UTCDateTimeField(null=True)
    status_at = UTCDateTimeField(null=True)
    # The SLA clock (承诺时限): working days from acceptance, stopped during 补正 and 特别程序.
    promised_days = pw.IntegerField(null=True)
    clock_started_at = UTCDateTimeField(null=True)
    paused_since = UTCDateTimeField(null=True)
    paused_seconds = pw.BigIntegerField(default=0)
    paused_working_days = pw.IntegerField(default=0)
    due_date = pw.DateField(null=True)
    supplement_due = pw.DateField(null=True)  # 补正 deadline, while the case waits for the applicant
    tracking_no = pw.CharField(max_length=64, null=True)  # delivery (送达) tracking number
    concluded_at = UTCDateTimeField(null=True)
    rated_at = UTCDateTimeField(null=True)
    reminder_due_at = UTCDateTimeField(null=True)  # the 好差评 reminder, 3 days after the invitation
    reminded_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_case"
        indexes = ((("client_id", "case_no"), True), (("user_id", "created_at", "id"), False),
                   (("reminder_due_at",), False))


class CaseEvent(BaseModel):
    """A department's status event — 办件过程信息: applied, pending (waiting for an earlier seq) or
    rejected (illegal transition, seq already used). `seq_slot` holds the seq while the event is
    applied or pending (UNIQUE per case) and is null once rejected, so the slot may be reused."""

    id = pw.BigAutoField()
    client_id = pw.CharField(max_length=40)
    event_id = pw.CharField(max_length=64)
    digest = pw.CharField(max_length=64)  # keyed digest of the body (same id, different body → conflict)
    case = pw.ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    seq = pw.BigIntegerField()
    seq_slot = pw.BigIntegerField(null=True)
    status = pw.CharField(max_length=24)
    occurred_at = UTCDateTimeField()
    message = pw.TextField(null=True)
    tracking_no = pw.CharField(max_length=64, null=True)
    promised_days = pw.IntegerField(null=True)
    supplement_due = pw.DateField(null=True)
    state = pw.CharField(max_length=10)  # applied | pending | rejected
    outcome = pw.CharField(max_length=32, null=True)  # why it was rejected
    from_status = pw.CharField(max_length=24, null=True)  # the case's status when it was refused
    received_at = UTCDateTimeField(default=utcnow)
    applied_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "cases_event"
        indexes = ((("client_id", "event_id"), True), (("case", "seq_slot"), True))


class TimelineEntry(BaseModel):
    """What the citizen sees of a case, in order: status changes, the evaluation, its follow-up."""

    id = pw.BigAutoField()
    case = pw.ForeignKeyField(Case, backref="timeline", on_delete="CASCADE")
    kind = pw.CharField(max_length=16)  # status | evaluation | follow_up
    seq = pw.BigIntegerField(null=True)
    status = pw.CharField(max_length=24, null=True)
    message = pw.TextField(null=True)
    tracking_no = pw.CharField(max_length=64, null=True)
    supplement_due = pw.DateField(null=True)
    occurred_at = UTCDateTimeField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_timeline"


class Evaluation(BaseModel):
    """好差评 (GB/T 39734): one per case, by its applicant, after conclusion."""

    id = pw.CharField(primary_key=True, max_length=32)
    case = pw.ForeignKeyField(Case, backref="evaluations", on_delete="CASCADE", unique=True)
    user_id = pw.CharField(max_length=32, index=True)
    rating = pw.SmallIntegerField()
    tags = pw.TextField(default="[]")  # JSON list
    comment_enc = pw.BlobField(null=True)  # free text may hold personal data: encrypted
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_evaluation"


class FollowUp(BaseModel):
    """The department's follow-up of a 差评 (整改回访): answered within N working days."""

    id = pw.CharField(primary_key=True, max_length=32)
    case = pw.ForeignKeyField(Case, backref="follow_ups", on_delete="CASCADE")
    evaluation = pw.ForeignKeyField(Evaluation, on_delete="CASCADE", unique=True)
    client_id = pw.CharField(max_length=40)
    rating = pw.SmallIntegerField()
    status = pw.CharField(max_length=10, default="open")  # open | answered
    due_date = pw.DateField()
    answer = pw.TextField(null=True)
    answered_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_follow_up"
        indexes = ((("client_id", "status", "created_at", "id"), False),)


# --- Queries -------------------------------------------------------------------------------------
# Every statement cases runs is here. The event path (cases/events.py) uses the kernel's prebuilt
# statements (app.db select_where / insert_row / update_where): one statement shape, SQL built once.

_CASE_FIELDS = Case._meta.sorted_fields
_CASE_COLUMNS = ", ".join(f'"{f.column_name}"' for f in _CASE_FIELDS)
# What an event may change on its case (written back in one UPDATE by `save_case`).
_MUTABLE = ("user_id", "status", "last_seq", "pending_count", "submitted_at", "status_at", "promised_days",
            "clock_started_at", "paused_since", "paused_seconds", "paused_working_days", "due_date", "tracking_no",
            "concluded_at", "reminder_due_at", "supplement_due", "updated_at")
_EVENT_FIELDS = tuple(name for name in CaseEvent._meta.fields if name != "id")


def find_case(case_id: str) -> Case | None:
    return select_where(Case, id=case_id)


def find_case_by_number(client_id: str, case_no: str) -> Case | None:
    return select_where(Case, client_id=client_id, case_no=case_no)


def find_own_case(case_id: str, user_id: str) -> Case | None:
    return select_where(Case, id=case_id, user_id=user_id)


def lock_case_by_number(client_id: str, case_no: str) -> Case | None:
    """The case row, locked for the transaction on PostgreSQL (FOR UPDATE; SQLite's BEGIN IMMEDIATE
    already serialises writers)."""
    sql = f'SELECT {_CASE_COLUMNS} FROM "cases_case" WHERE "client_id" = ? AND "case_no" = ?'
    if isinstance(db.obj, pw.PostgresqlDatabase):
        sql += " FOR UPDATE"
    found = execute(sql, [client_id, case_no]).fetchone()
    if found is None:
        return None
    case = Case.__new__(Case)  # the row as read: no defaults, nothing dirty (as peewee's own reads)
    case.__data__ = {f.name: f.python_value(v) for f, v in zip(_CASE_FIELDS, found)}
    case._dirty, case.__rel__ = set(), {}
    return case


def _row(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    """A model instance of a row written here (its defaults, then `values`), nothing dirty."""
    row = model.__new__(model)
    row.__data__ = {**model._meta.get_default_dict(), **values}
    row._dirty, row.__rel__ = set(), {}
    return row


def insert_case(**values: Any) -> Case | None:
    """A new case; None when the (client, case number) exists already (opened meanwhile)."""
    case = _row(Case, values)
    data = case.__data__
    key = tuple(data)
    sql = _INSERT_CASE.get(key)
    if sql is None:
        sql = _INSERT_CASE[key] = _insert_sql(Case, key)[0] + " ON CONFLICT DO NOTHING"
    params = [Case._meta.fields[name].db_value(value) for name, value in data.items()]
    return case if execute(sql, params).rowcount == 1 else None


_INSERT_CASE: dict[tuple[str, ...], str] = {}


def save_case(case: Case) -> None:
    """Write back what an event changed (`updated_at` set now)."""
    case.updated_at = utcnow()
    update_where(Case, {"id": case.id}, **{name: getattr(case, name) for name in _MUTABLE})


def citizen_cases_page(*, user_id: str, status: str | None, limit: int,
                       cursor: str | None) -> tuple[list[Case], str | None]:
    """The citizen's opened cases (optionally of one status), newest first: (page, next cursor)."""
    query = Case.select().where((Case.user_id == user_id) & Case.status.is_null(False))
    if status:
        query = query.where(Case.status == status)
    return newest_first(query, Case.created_at, Case.id, limit=limit, cursor=cursor,
                        at_of=lambda c: c.created_at, id_of=lambda c: c.id)


# The home screen's cases (bff, every app launch): the citizen's latest opened cases with only the
# columns its card and `clock.overdue` read, in the case list's order; raw SQL written once (peewee
# would build the statement on every call), values converted by the caller for the rows it keeps.
_RECENT = ('SELECT "id", "case_no", "item_name", "department_name", "status", "status_at", "rated_at" IS NOT NULL, '
           '"due_date", "paused_since" FROM "cases_case" WHERE "user_id" = ? AND "status" IS NOT NULL '
           'ORDER BY "created_at" DESC, "id" DESC LIMIT ?')


def citizen_recent_cases(user_id: str, limit: int) -> list[tuple]:
    """The citizen's newest `limit` opened cases, newest first, as rows of (id, case_no, item_name,
    department_name, status, status_at, rated, due_date, paused_since) as the driver returns them:
    `Case.<field>.python_value` converts a value."""
    return execute(_RECENT, [user_id, limit]).fetchall()


def parked_case_ids(applicant_bidx: str) -> list[str]:
    return [c.id for c in Case.select(Case.id).where((Case.applicant_bidx == applicant_bidx)
                                                     & Case.user_id.is_null())]


def attach_case(case_id: str, *, user_id: str, now: datetime) -> bool:
    """Give a parked case its applicant; False when it was attached meanwhile (conditional)."""
    return bool(Case.update(user_id=user_id, updated_at=now).where(
        (Case.id == case_id) & Case.user_id.is_null()).execute())


def case_by_id(case_id: str) -> Case:
    return Case.get_by_id(case_id)


def set_reminder_due(case_id: str, at: datetime | None) -> None:
    Case.update(reminder_due_at=at).where(Case.id == case_id).execute()


def mark_rated(case_id: str, now: datetime) -> bool:
    """Set `rated_at` once: False when the case was rated before (the rating and the reminder
    command meet on this row: whoever sets it first wins)."""
    return bool(Case.update(rated_at=now, updated_at=now).where(
        (Case.id == case_id) & Case.rated_at.is_null()).execute())


def due_reminder_ids(now: datetime, batch: int) -> list[str]:
    """Attached, unrated cases whose 好差评 reminder is due and not yet sent, oldest due first."""
    return [c.id for c in Case.select(Case.id).where(
        (Case.reminder_due_at <= now) & Case.reminded_at.is_null() & Case.rated_at.is_null()
        & Case.user_id.is_null(False)).order_by(Case.reminder_due_at).limit(batch)]


def mark_reminded(case_id: str, now: datetime) -> bool:
    """Claim the reminder of a still unrated case; False when rated or reminded meanwhile."""
    return bool(Case.update(reminded_at=now).where(
        (Case.id == case_id) & Case.reminded_at.is_null() & Case.rated_at.is_null()).execute())


def sla_due_case_ids(first: date, last: date, *, after: str, batch: int) -> list[str]:
    """Attached cases whose SLA clock runs (not paused, not decided) and is due between `first`
    and `last`, by id after `after`."""
    return [c.id for c in Case.select(Case.id).where(
        Case.user_id.is_null(False) & Case.paused_since.is_null() & Case.status.in_(SLA_RUNNING)
        & (Case.due_date >= first) & (Case.due_date <= last) & (Case.id > after)).order_by(Case.id).limit(batch)]


# Events

def find_event(client_id: str, event_id: str) -> CaseEvent | None:
    return select_where(CaseEvent, client_id=client_id, event_id=event_id)


def new_event(**values: Any) -> CaseEvent:
    """An event row not yet written (`insert_event` writes it)."""
    return _row(CaseEvent, values)


def event_in_slot(case_id: str, seq: int) -> CaseEvent | None:
    """The applied or pending event holding `seq` of the case."""
    return select_where(CaseEvent, case=case_id, seq_slot=seq)


def _insert_sql(model: type[BaseModel], names: tuple[str, ...]) -> tuple[str, tuple]:
    """An INSERT of these fields written once, and each field's db_value (in that order)."""
    fields = [model._meta.fields[name] for name in names]
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model._meta.table_name, ", ".join(f'"{f.column_name}"' for f in fields), ", ".join("?" * len(fields)))
    return sql, tuple(f.db_value for f in fields)


# The event path's two inserts: no model instance is built for rows nobody reads back.
_INSERT_EVENT, _EVENT_DB = _insert_sql(CaseEvent, _EVENT_FIELDS)
_STATUS_ENTRY = ("case", "kind", "seq", "status", "message", "tracking_no", "supplement_due", "occurred_at",
                 "created_at")
_INSERT_STATUS_ENTRY, _STATUS_ENTRY_DB = _insert_sql(TimelineEntry, _STATUS_ENTRY)


def insert_event(row: CaseEvent) -> None:
    data = row.__data__  # `case`: the raw id
    execute(_INSERT_EVENT, [to_db(data.get(name)) for name, to_db in zip(_EVENT_FIELDS, _EVENT_DB)])


def update_event(event_row_id: int, **values: Any) -> None:
    update_where(CaseEvent, {"id": event_row_id}, **values)


def pending_seqs(case_id: str) -> list[int]:
    return [e.seq for e in CaseEvent.select(CaseEvent.seq)
            .where((CaseEvent.case == case_id) & (CaseEvent.state == "pending")).order_by(CaseEvent.seq)]


# The timeline, evaluations and follow-ups

def insert_timeline_entry(**values: Any) -> None:
    insert_row(TimelineEntry, **values)


def insert_status_entry(*, case: str, seq: int, status: str, message: str | None, tracking_no: str | None,
                        supplement_due: date | None, occurred_at: datetime, created_at: datetime) -> None:
    """The timeline entry of an applied event (kind "status")."""
    values = (case, "status", seq, status, message, tracking_no, supplement_due, occurred_at, created_at)
    execute(_INSERT_STATUS_ENTRY, [to_db(v) for v, to_db in zip(values, _STATUS_ENTRY_DB)])


def timeline_of(case_id: str) -> list[TimelineEntry]:
    return list(TimelineEntry.select().where(TimelineEntry.case == case_id).order_by(TimelineEntry.id))


def evaluation_of(case_id: str) -> Evaluation | None:
    return Evaluation.get_or_none(Evaluation.case == case_id)


def insert_evaluation(**values: Any) -> Evaluation:
    return insert_row(Evaluation, **values)


def follow_up_of(evaluation_id: str) -> FollowUp | None:
    return FollowUp.get_or_none(FollowUp.evaluation == evaluation_id)


def insert_follow_up(**values: Any) -> None:
    insert_row(FollowUp, **values)


def _follow_ups_with_case() -> pw.ModelSelect:
    return FollowUp.select(FollowUp, Case, Evaluation).join(Case).switch(FollowUp).join(Evaluation)


def department_follow_ups(*, client_id: str, status: str | None, after: tuple[datetime, str] | None,
                          limit: int) -> list[FollowUp]:
    """A department's follow-ups (with their case and evaluation), oldest first, after the
    (created_at, id) of `after`; at most `limit` rows."""
    query = _follow_ups_with_case().where(FollowUp.client_id == client_id).order_by(FollowUp.created_at, FollowUp.id)
    if status:
        query = query.where(FollowUp.status == status)
    if after:
        created, row_id = after
        query = query.where((FollowUp.created_at > created) | ((FollowUp.created_at == created) & (FollowUp.id > row_id)))
    return list(query.limit(limit))


def find_follow_up(client_id: str, follow_up_id: str) -> FollowUp | None:
    """One of the department's follow-ups, with its case and evaluation."""
    return _follow_ups_with_case().where((FollowUp.id == follow_up_id) & (FollowUp.client_id == client_id)).first()


def mark_answered(follow_up_id: str, *, answer: str, now: datetime) -> bool:
    """Answer an open follow-up once; False when it was answered before."""
    return bool(FollowUp.update(status="answered", answer=answer, answered_at=now).where(
        (FollowUp.id == follow_up_id) & (FollowUp.status == "open")).execute())
