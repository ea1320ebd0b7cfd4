"""Notifications: the outbox lease owner, devices, inbox, push deliveries and attempts, preferences."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("notify_outbox", lease_owner=pw.CharField(max_length=32, null=True))

    @migrator.create_model
    class Device(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        user_id = pw.CharField(max_length=32, index=True)
        platform = pw.CharField(max_length=8)
        token_bidx = pw.CharField(max_length=64, unique=True)
        token_enc = pw.BlobField()
        token_hint = pw.CharField(max_length=8)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "notify_device"

    @migrator.create_model
    class InboxEntry(pw.Model):
        id = pw.BigAutoField()
        outbox_id = pw.BigIntegerField(unique=True)
        user_id = pw.CharField(max_length=32)
        kind = pw.CharField(max_length=32)
        title = pw.CharField(max_length=64)
        body = pw.TextField()
        data = pw.TextField(default="{}")
        urgent = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()
        read_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "notify_inbox"
            indexes = ((("user_id", "id"), False), (("user_id", "read_at"), False))

    @migrator.create_model
    class Delivery(pw.Model):
        id = pw.BigAutoField()
        outbox_id = pw.BigIntegerField()
        device_id = pw.CharField(max_length=32)
        user_id = pw.CharField(max_length=32)
        platform = pw.CharField(max_length=8)
        status = pw.CharField(max_length=8, default="pending")
        attempts = pw.IntegerField(default=0)
        available_at = pw.DateTimeField()
        locked_until = pw.DateTimeField(null=True)
        lease_owner = pw.CharField(max_length=32, null=True)
        last_error = pw.CharField(max_length=256, null=True)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "notify_delivery"
            indexes = ((("outbox_id", "device_id"), True), (("status", "available_at"), False))

    @migrator.create_model
    class PushAttempt(pw.Model):
        id = pw.BigAutoField()
        delivery_id = pw.BigIntegerField(index=True)
        device_id = pw.CharField(max_length=32)
        channel = pw.CharField(max_length=8)
        status = pw.CharField(max_length=12)
        error = pw.CharField(max_length=256, null=True)
        duration_ms = pw.IntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "notify_push_attempt"

    @migrator.create_model
    class Preference(pw.Model):
        user_id = pw.CharField(primary_key=True, max_length=32)
        disabled_channels = pw.TextField(default="[]")
        quiet_hours = pw.BooleanField(default=True)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "notify_preference"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("notify_preference", "notify_push_attempt", "notify_delivery", "notify_inbox", "notify_device"):
        migrator.remove_model(table)
    migrator.remove_fields("notify_outbox", "lease_owner")
