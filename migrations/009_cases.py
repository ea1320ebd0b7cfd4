"""Cases (办件): cases, department events, the citizen's timeline, evaluations (好差评), follow-ups."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Case(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        client_id = pw.CharField(max_length=40)
        case_no = pw.CharField(max_length=64)
        department_name = pw.CharField(max_length=128)
        item_code = pw.CharField(max_length=64)
        item_name = pw.CharField(max_length=128)
        channel = pw.CharField(max_length=16)
        applicant_bidx = pw.CharField(max_length=64, index=True)
        applicant_name_enc = pw.BlobField()
        applicant_id_enc = pw.BlobField()
        user_id = pw.CharField(max_length=32, null=True)
        status = pw.CharField(max_length=24, null=True)
        last_seq = pw.BigIntegerField(default=0)
        pending_count = pw.IntegerField(default=0)
        submitted_at = pw.DateTimeField(null=True)
        status_at = pw.DateTimeField(null=True)
        promised_days = pw.IntegerField(null=True)
        clock_started_at = pw.DateTimeField(null=True)
        paused_since = pw.DateTimeField(null=True)
        paused_seconds = pw.BigIntegerField(default=0)
        paused_working_days = pw.IntegerField(default=0)
        due_date = pw.DateField(null=True)
        tracking_no = pw.CharField(max_length=64, null=True)
        concluded_at = pw.DateTimeField(null=True)
        rated_at = pw.DateTimeField(null=True)
        reminder_due_at = pw.DateTimeField(null=True)
        reminded_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "cases_case"
            indexes = [(("client_id", "case_no"), True), (("user_id", "created_at", "id"), False),
                       (("reminder_due_at",), False)]

    @migrator.create_model
    class CaseEvent(pw.Model):
        id = pw.BigAutoField()
        client_id = pw.CharField(max_length=40)
        event_id = pw.CharField(max_length=64)
        digest = pw.CharField(max_length=64)
        case = pw.ForeignKeyField(column_name="case_id", field="id", model=migrator.orm["cases_case"], on_delete="CASCADE")
        seq = pw.BigIntegerField()
        seq_slot = pw.BigIntegerField(null=True)
        status = pw.CharField(max_length=24)
        occurred_at = pw.DateTimeField()
        message = pw.TextField(null=True)
        tracking_no = pw.CharField(max_length=64, null=True)
        promised_days = pw.IntegerField(null=True)
        state = pw.CharField(max_length=10)
        outcome = pw.CharField(max_length=32, null=True)
        from_status = pw.CharField(max_length=24, null=True)
        received_at = pw.DateTimeField()
        applied_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "cases_event"
            indexes = [(("client_id", "event_id"), True), (("case", "seq_slot"), True)]

    @migrator.create_model
    class TimelineEntry(pw.Model):
        id = pw.BigAutoField()
        case = pw.ForeignKeyField(column_name="case_id", field="id", model=migrator.orm["cases_case"], on_delete="CASCADE")
        kind = pw.CharField(max_length=16)
        seq = pw.BigIntegerField(null=True)
        status = pw.CharField(max_length=24, null=True)
        message = pw.TextField(null=True)
        tracking_no = pw.CharField(max_length=64, null=True)
        occurred_at = pw.DateTimeField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "cases_timeline"

    @migrator.create_model
    class Evaluation(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        case = pw.ForeignKeyField(column_name="case_id", field="id", model=migrator.orm["cases_case"], on_delete="CASCADE",
                                   unique=True)
        user_id = pw.CharField(max_length=32, index=True)
        rating = pw.SmallIntegerField()
        tags = pw.TextField(default="[]")
        comment_enc = pw.BlobField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "cases_evaluation"

    @migrator.create_model
    class FollowUp(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        case = pw.ForeignKeyField(column_name="case_id", field="id", model=migrator.orm["cases_case"], on_delete="CASCADE")
        evaluation = pw.ForeignKeyField(column_name="evaluation_id", field="id", model=migrator.orm["cases_evaluation"],
                                         on_delete="CASCADE", unique=True)
        client_id = pw.CharField(max_length=40)
        rating = pw.SmallIntegerField()
        status = pw.CharField(max_length=10, default="open")
        due_date = pw.DateField()
        answer = pw.TextField(null=True)
        answered_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "cases_follow_up"
            indexes = [(("client_id", "status", "created_at", "id"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("cases_follow_up")
    migrator.remove_model("cases_evaluation")
    migrator.remove_model("cases_timeline")
    migrator.remove_model("cases_event")
    migrator.remove_model("cases_case")
