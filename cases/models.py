"""Case tables (办件): cases, the department events that move them, the citizen's timeline,
evaluations (好差评) and the follow-ups a poor rating opens.

The applicant's name and ID number are stored SM4-GCM encrypted; the applicant is found by the
keyed blind index of the ID number. `user_id` is null while the case is parked (停放): the
applicant has no verified account yet.
"""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow


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
