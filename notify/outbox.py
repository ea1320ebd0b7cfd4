"""The transactional outbox (发件箱): features enqueue a notice in the same transaction as the
change it reports; the notify worker delivers it (inbox entry exactly once, live event, pushes).

`enqueue` (exported by `notify.service`) is the only way in. It must be called inside the caller's
`unit_of_work()`, so the notice commits or rolls back with the change. `dedupe_key` makes it
idempotent: enqueuing the same key twice (an event delivered twice by a department, a retried
request) is a no-op. The table is `notify.models.OutboxEntry`.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.db import utcnow
from notify import models
from notify.models import OutboxEntry

__all__ = ["CRITICAL_KINDS", "KINDS", "SECURITY_KINDS", "OutboxEntry", "enqueue"]  # OutboxEntry: the table, re-exported

KINDS = ("case_status", "evaluation_invite", "evaluation_reminder", "appointment_reminder",
         "licence_used", "signing_locked", "signing_security", "system", "new_device", "account_security",
         "licence_issued", "licence_suspended", "licence_restored", "licence_revoked", "licence_expiring",
         "signing_request", "signing_signed", "signing_refused", "signing_cert_expiring",
         "case_sla_due", "follow_up_answered", "appointment_booked", "appointment_cancelled", "appointment_missed",
         "appointment_banned",
         "proxy_invited", "proxy_declined", "proxy_used", "proxy_revoked",
         "consent_request", "consent_disclosed",
         "enterprise_agent_invited", "enterprise_agent_revoked")
# Security notices (a signing key enrolled or revoked, a wrong PIN, a new device, a proxy granted from the
# account): what a thief with a stolen token would rather the citizen never saw (issue 14 items 1, 2, 5).
# They reach every channel: switched-off channels are ignored, and an SMS goes to the account's bound
# phone even when the app registered no SMS device (notify/ingest.py, ACCOUNT_PHONE).
SECURITY_KINDS = frozenset({"signing_locked", "signing_security", "new_device", "account_security"})
# Critical notices: when a vendor channel has to wait (its daily quota used up, Huawei's night hold),
# they go by SMS to the account's bound phone instead (notify/delivery.py); the others wait, the inbox
# has them already. A licence suspended or revoked stops the citizen at the next counter.
CRITICAL_KINDS = SECURITY_KINDS | frozenset({"licence_suspended", "licence_revoked"})


def enqueue(*, user_id: str, kind: str, title: str, body: str, dedupe_key: str, data: dict[str, Any] | None = None,
            urgent: bool = False, collapse_key: str | None = None, available_at: datetime | None = None) -> bool:
    """Queue a notice for `user_id` (inside the caller's transaction); False when `dedupe_key` was
    queued before."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    now = utcnow()
    return models.insert_outbox(
        dedupe_key=dedupe_key[:160], user_id=user_id, kind=kind, title=title[:64], body=body,
        data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True), urgent=urgent,
        collapse_key=(collapse_key or None) and collapse_key[:64], created_at=now, available_at=available_at or now,
        status="pending", attempts=0)
