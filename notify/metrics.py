"""The push metrics (Prometheus, in the kernel's style: app/health.py). prometheus_client's registry
is global, so /metrics shows them; under gunicorn the multi-process mode adds every worker's samples.

- `yiwang_push_attempts_total{channel, result}`: what became of each delivery the worker handled —
  sent, retry (backed off), quota_wait (a vendor's daily quota is used up: waits for the next China
  day), held (quiet hours or Huawei's night: waits, no attempt spent), token_dead (device dropped),
  rejected (dead-lettered at once), dead (dead-lettered after the last retry), fallback_sms (a
  critical notice sent by SMS instead of waiting).
- `yiwang_push_quota_waits_total{channel}`: deliveries stopped by a vendor's daily quota, waiting or
  fallen back to SMS (alert on it).
- `yiwang_push_fallbacks_total{channel}`: critical notices queued by SMS because `channel` had to wait.

The worker's state gauges (app/state_metrics.py refreshes them every 15 s in `notify worker`):
- `yiwang_outbox_pending_messages`: outbox rows not yet delivered (status pending, due or scheduled).
- `yiwang_outbox_oldest_pending_age_seconds`: how long the oldest pending row has been due (its
  `available_at`, so a reminder scheduled for tomorrow is no lag; 0 when none is due).
- `yiwang_certificate_expiry_timestamp_seconds{kind="issuer_key", name=<issuer id>}`: the notAfter of each
  active department's current signing key (issuers.service), beside the kernel's platform certificates.
"""
from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter

from app.business_metrics import gauge
from issuers import service as issuers
from notify.models import OutboxEntry

RESULTS = ("sent", "retry", "quota_wait", "held", "token_dead", "rejected", "dead", "fallback_sms")

PUSH_ATTEMPTS = Counter("yiwang_push_attempts_total", "Push deliveries handled, by channel and result",
                        ["channel", "result"])
QUOTA_WAITS = Counter("yiwang_push_quota_waits_total",
                      "Push deliveries waiting for the next day on a vendor's daily quota", ["channel"])
FALLBACKS = Counter("yiwang_push_fallbacks_total",
                    "Critical notices queued by SMS instead of waiting on a channel's quota or night hold",
                    ["channel"])


def count(channel: str, result: str, *, quota: bool = False) -> None:
    """One delivery's result on `channel` (a name in RESULTS); `quota`: it met a daily quota (waits,
    or fell back to SMS)."""
    PUSH_ATTEMPTS.labels(channel, result).inc()
    if quota:
        QUOTA_WAITS.labels(channel).inc()
    if result == "fallback_sms":
        FALLBACKS.labels(channel).inc()


def outbox_state(now: datetime) -> None:
    """The outbox backlog: pending rows, and the age of the oldest one that is due."""
    pending = OutboxEntry.select().where(OutboxEntry.status == "pending").count()
    oldest = (OutboxEntry.select(OutboxEntry.available_at)
              .where(OutboxEntry.status == "pending", OutboxEntry.available_at <= now)
              .order_by(OutboxEntry.available_at).first())
    gauge("yiwang_outbox_pending_messages").set(pending)
    gauge("yiwang_outbox_oldest_pending_age_seconds").set(
        max(0.0, (now - oldest.available_at).total_seconds()) if oldest is not None else 0.0)


def issuer_key_expiry(now: datetime) -> None:
    """notAfter of each active department's active signing key (a key past it is replaced when the
    department next signs; the alert says one is close and nobody has signed since)."""
    expiry = gauge("yiwang_certificate_expiry_timestamp_seconds")
    for issuer in issuers.list_issuers(active_only=True):
        for key in issuers.issuer_keys(issuer.id):
            if key["status"] == "active":
                expiry.labels("issuer_key", str(issuer.id)).set(key["not_after"].timestamp())


STATE_SOURCES = (outbox_state, issuer_key_expiry)  # the worker's, after the kernel's (app/state_metrics.py)
