"""Notification tables: devices, the inbox, push deliveries and their attempts, preferences.

The outbox (`notify/outbox.py`) is the way in; the worker turns each outbox row into one inbox
entry (unique on `outbox_id`) and one delivery per device (unique on `outbox_id, device_id`).
"""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow

PLATFORMS = ("apns", "fcm", "hms", "jpush", "wechat", "sms")


class Device(BaseModel):
    """A push target (推送设备): an APNs/FCM/HMS/JPush token, a WeChat openid or the account's phone.

    Tokens are credentials: stored encrypted (`token_enc`), found by a keyed hash (`token_bidx`),
    shown and logged only as `token_hint` (the last 4 characters)."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    # The login session that registered it (migration 016): ending that session drops the device.
    # NULL for devices registered before, which stay until removed or their token dies.
    session_id = pw.CharField(max_length=32, null=True, index=True)
    platform = pw.CharField(max_length=8)
    token_bidx = pw.CharField(max_length=64, unique=True)  # keyed hash of platform + token
    token_enc = pw.BlobField()
    token_hint = pw.CharField(max_length=8)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_device"


class InboxEntry(BaseModel):
    """An in-app notice (站内消息); its id is the SSE event id."""

    id = pw.BigAutoField()
    outbox_id = pw.BigIntegerField(unique=True)  # exactly once per outbox row
    user_id = pw.CharField(max_length=32)
    kind = pw.CharField(max_length=32)
    title = pw.CharField(max_length=64)
    body = pw.TextField()
    data = pw.TextField(default="{}")
    urgent = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    read_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "notify_inbox"
        indexes = ((("user_id", "id"), False), (("user_id", "read_at"), False))


class Delivery(BaseModel):
    """One push of one notice to one device: pending → sent | dropped | dead (retried with backoff)."""

    id = pw.BigAutoField()
    outbox_id = pw.BigIntegerField()
    device_id = pw.CharField(max_length=32)
    user_id = pw.CharField(max_length=32)
    platform = pw.CharField(max_length=8)
    status = pw.CharField(max_length=8, default="pending")  # pending | sent | dropped | dead
    attempts = pw.IntegerField(default=0)
    available_at = UTCDateTimeField(default=utcnow)  # not before (backoff, quiet hours)
    locked_until = UTCDateTimeField(null=True)
    lease_owner = pw.CharField(max_length=32, null=True)
    last_error = pw.CharField(max_length=256, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_delivery"
        indexes = ((("outbox_id", "device_id"), True), (("status", "available_at"), False))


class PushAttempt(BaseModel):
    """Every push attempt (推送记录): channel, device, outcome, provider error, time."""

    id = pw.BigAutoField()
    delivery_id = pw.BigIntegerField(index=True)
    device_id = pw.CharField(max_length=32)
    channel = pw.CharField(max_length=8)
    status = pw.CharField(max_length=12)  # sent | retry | token_dead | rejected
    error = pw.CharField(max_length=256, null=True)
    duration_ms = pw.IntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_push_attempt"


class Preference(BaseModel):
    """A citizen's notification preferences: channels switched off, quiet hours on/off."""

    user_id = pw.CharField(primary_key=True, max_length=32)
    disabled_channels = pw.TextField(default="[]")  # JSON list of platforms
    quiet_hours = pw.BooleanField(default=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_preference"
