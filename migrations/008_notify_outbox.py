"""The notification outbox (written by features in their own transactions, read by the notify worker)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class OutboxEntry(pw.Model):
        id = pw.BigAutoField()
        dedupe_key = pw.CharField(max_length=160, unique=True)
        user_id = pw.CharField(max_length=32, index=True)
        kind = pw.CharField(max_length=32)
        title = pw.CharField(max_length=64)
        body = pw.TextField()
        data = pw.TextField(default="{}")
        urgent = pw.BooleanField(default=False)
        collapse_key = pw.CharField(max_length=64, null=True)
        created_at = pw.DateTimeField()
        available_at = pw.DateTimeField(index=True)
        status = pw.CharField(max_length=8, default="pending", index=True)
        attempts = pw.IntegerField(default=0)
        locked_until = pw.DateTimeField(null=True)
        last_error = pw.CharField(max_length=256, null=True)

        class Meta:
            table_name = "notify_outbox"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("notify_outbox")
