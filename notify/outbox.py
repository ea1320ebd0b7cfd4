"""The transactional outbox (发件箱): features enqueue a notice in the same transaction as the
change it reports; the notify worker delivers it (inbox entry exactly once, live event, pushes).

`enqueue` is the only way in. It must be called inside the caller's `db.atomic()` block, so the
notice commits or rolls back with the change. `dedupe_key` makes it idempotent: enqueuing the
same key twice (an event delivered twice by a department, a retried request) is a no-op.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, utcnow

KINDS = ("case_status", "evaluation_invite", "evaluation_reminder", "appointment_reminder",
         "licence_used", "signing_locked", "signing_security", "system", "new_device", "account_security")
# Security notices (a signing key enrolled or revoked, a wrong PIN, a new device, a proxy granted from the
# account): what a thief with a stolen token would rather the citizen never saw (issue 14 items 1, 2, 5).
# They reach every channel: switched-off channels are ignored, and an SMS goes to the account's bound
# phone even when the app registered no SMS device (notify/ingest.py, ACCOUNT_PHONE).
SECURITY_KINDS = frozenset({"signing_locked", "signing_security", "new_device", "account_security"})


class OutboxEntry(BaseModel):
    id = pw.BigAutoField()
    dedupe_key = pw.CharField(max_length=160, unique=True)  # e.g. "case-event:<client>:<event_id>"
    user_id = pw.CharField(max_length=32, index=True)
    kind = pw.CharField(max_length=32)
    title = pw.CharField(max_length=64)  # shown in the inbox and as the push title (no personal data)
    body = pw.TextField()
    data = pw.TextField(default="{}")  # JSON: ids the app needs to open the right screen
    urgent = pw.BooleanField(default=False)  # urgent notices ignore quiet hours
    collapse_key = pw.CharField(max_length=64, null=True)  # e.g. the case number (apns-collapse-id)
    created_at = UTCDateTimeField(default=utcnow)
    available_at = UTCDateTimeField(default=utcnow, index=True)  # not before (reminders, quiet hours)
    status = pw.CharField(max_length=8, default="pending", index=True)  # pending | done | dead
    attempts = pw.IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)  # a worker's lease
    lease_owner = pw.CharField(max_length=32, null=True)  # which lease holds it (migration 010)
    last_error = pw.CharField(max_length=256, null=True)

    class Meta:
        table_name = "notify_outbox"


def enqueue(*, user_id: str, kind: str, title: str, body: str, dedupe_key: str, data: dict[str, Any] | None = None,
            urgent: bool = False, collapse_key: str | None = None, available_at: datetime | None = None) -> bool:
    """Queue a notice for `user_id` (inside the caller's transaction); False when `dedupe_key` was
    queued before."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    now = utcnow()
    row = insert_row(OutboxEntry, ignore_conflict=True, dedupe_key=dedupe_key[:160], user_id=user_id, kind=kind,
                     title=title[:64], body=body, data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True),
                     urgent=urgent, collapse_key=(collapse_key or None) and collapse_key[:64], created_at=now,
                     available_at=available_at or now, status="pending", attempts=0)
    return row is not None
