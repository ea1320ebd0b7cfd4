"""Deliveries → pushes: the second half of the worker's job.

Each leased delivery is checked (device still the user's, channel and category still on, the citizen's
quiet hours), worded in the device's language (its `locale`: a notice's English from its data), sent
through its channel (a thread pool: providers answer in tens of milliseconds), and its outcome
written in one transaction with one `PushAttempt` row per attempt: sent; dropped (dead token —
the device is deleted — or a device/channel gone); retried after exponential backoff with jitter;
dead after `max_attempts` (re-queued by `flask notify replay`). At least once: a worker killed
between a send and its commit sends again after the lease expires, with the same idempotency key.

Vendor limits: a daily quota used up (`QuotaReached`, notify/push/china.py) makes the delivery wait
for the next China day; Huawei's night hold (0–6 h) is decided here, like quiet hours, without a
send and without spending an attempt. A critical notice (`CRITICAL_KINDS`) does not wait: it is
queued once by SMS to the account's bound phone (the ACCOUNT_PHONE delivery, unique per notice) and
the waiting push is dropped. Every outcome is counted (notify/metrics.py).
"""
from __future__ import annotations

import functools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from app.db import new_id, unit_of_work
from app.security.pii import PiiCipher
from identity import service as identity
from app.i18n import EN
from notify import metrics, models
from notify.categories import muted as category_muted
from notify.models import ACCOUNT_PHONE
from notify.outbox import CRITICAL_KINDS, SECURITY_KINDS
from notify.push.base import PushChannel, PushMessage, PushRejected, PushRetryable, TokenDead, token_hint
from notify.push.china import QuotaReached
from notify.push.huawei import seconds_to_morning
from notify.quiet import held_until

log = logging.getLogger(__name__)

TOKEN_COLUMN = "notify_device.token"
# Positions in a leased row (models.DELIVERY_COLUMNS, then the bound phone `_with_bound_phones` adds)
_QUIET_START, _QUIET_END, _MUTED, _LOCALE, _PHONE = 17, 18, 19, 20, 21


@dataclass
class DeliverySettings:
    batch: int = 200
    lease_seconds: float = 30.0
    max_attempts: int = 8
    push_ttl: int = 3 * 86400  # how long a provider may store an undelivered push


@dataclass
class Outcome:
    delivery_id: int
    status: str  # sent | retry | quota_wait | token_dead | rejected | held | skipped
    error: str | None = None
    duration_ms: int = 0
    retry_after: float | None = None
    held_until: datetime | None = None
    device_id: str = ""
    platform: str = ""
    attempts: int = 0
    kind: str = ""
    user_id: str = ""
    outbox_id: int = 0


def process_delivery_batch(*, channels: dict[str, PushChannel], cipher: PiiCipher, now: datetime,
                           settings: DeliverySettings, backoff: Callable[[int], float],
                           pool: ThreadPoolExecutor | None = None) -> int:
    """Lease due deliveries, push them and record the outcomes; how many deliveries."""
    owner = new_id("lease")
    with unit_of_work():
        claimed = models.claim("notify_delivery", owner=owner, now=now, lease_seconds=settings.lease_seconds,
                               limit=settings.batch)
    if not claimed:
        return 0
    rows = _with_bound_phones(models.leased_deliveries(owner))
    outcomes, sends = [], []
    for row in rows:
        decided = _decide(row, now)
        if decided is not None:
            outcomes.append(decided)
        else:
            sends.append(row)
    send = lambda row: _send(row, channels=channels, cipher=cipher, ttl=settings.push_ttl)  # noqa: E731
    if pool is not None and len(sends) > 1:
        outcomes += list(pool.map(send, sends))
    else:
        outcomes += [send(row) for row in sends]
    _record(outcomes, owner=owner, now=now, settings=settings, backoff=backoff)
    return len(rows)


def _with_bound_phones(rows: list[tuple]) -> list[tuple]:
    """Rows in models.DELIVERY_COLUMNS order, plus the account's bound phone (identity asked) for the
    ACCOUNT_PHONE deliveries (security notices by SMS), None for the others."""
    wanted = {row[3] for row in rows if row[2] == ACCOUNT_PHONE}
    phones = identity.bound_phones(wanted) if wanted else {}
    return [(*row, phones.get(row[3]) if row[2] == ACCOUNT_PHONE else None) for row in rows]


def _decide(row: tuple, now: datetime) -> Outcome | None:
    """Outcomes that need no send: device gone or moved, channel off, quiet hours."""
    delivery_id, outbox_id, device_id, user_id, platform, attempts = row[:6]
    urgent, device_owner, disabled, quiet = row[10], row[13], row[15], row[16]
    base = dict(delivery_id=delivery_id, device_id=device_id, platform=platform, attempts=attempts, kind=row[6],
                user_id=user_id, outbox_id=outbox_id)
    if device_id == ACCOUNT_PHONE:  # a security notice to the bound phone: no device row, never muted
        return None if row[_PHONE] is not None else Outcome(status="skipped", error="no_bound_phone", **base)
    if device_owner != user_id:  # deleted, or the token moved to another account since
        return Outcome(status="skipped", error="device_removed", **base)
    if row[6] not in SECURITY_KINDS and platform in json.loads(disabled or "[]"):
        return Outcome(status="skipped", error="channel_disabled", **base)
    if category_muted(row[6], set(json.loads(row[_MUTED] or "[]"))):  # muted since the notice was queued
        return Outcome(status="skipped", error="category_muted", **base)
    if not urgent and (quiet is None or quiet):
        until = held_until(now, row[_QUIET_START], row[_QUIET_END])
        if until is not None:
            return Outcome(status="held", held_until=until, error="quiet_hours", **base)
    night = None if urgent or platform != "hms" else seconds_to_morning(now.timestamp())
    if night is not None:  # Huawei phones hold notifications from 0 to 6 h: wait without a send
        return Outcome(status="held", held_until=now + timedelta(seconds=night), error="hms_night_hold", **base)
    return None


def _send(row: tuple, *, channels: dict[str, PushChannel], cipher: PiiCipher, ttl: int) -> Outcome:
    delivery_id, outbox_id, device_id, user_id, platform, attempts = row[:6]
    kind, title, body, data, urgent, collapse, created = row[6:13]
    base = dict(delivery_id=delivery_id, device_id=device_id, platform=platform, attempts=attempts, kind=kind,
                user_id=user_id, outbox_id=outbox_id)
    channel = channels.get(platform)
    if channel is None:
        return Outcome(status="rejected", error="channel_not_configured", **base)
    created = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
    created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
    fields = json.loads(data or "{}")
    # the notice's English (its producer gave it in data) for a device registered with locale "en"
    title_en, body_en = fields.pop("title_en", None), fields.pop("body_en", None)
    if row[_LOCALE] == EN and device_id != ACCOUNT_PHONE:
        title, body = title_en or title, body_en or body
    message = PushMessage(title=title, body=body, kind=kind, idempotency_key=f"yw-{outbox_id}-{device_id}",
                          data={k: str(v) for k, v in fields.items()}, collapse_key=collapse,
                          urgent=bool(urgent), created_at=created, expires_at=created + timedelta(seconds=ttl))
    started = time.perf_counter()
    token = ""
    try:
        token = row[_PHONE] if device_id == ACCOUNT_PHONE else cipher.decrypt(row[14], TOKEN_COLUMN)
        channel.send(token, message)
        status, error, retry_after = "sent", None, None
    except TokenDead as exc:
        status, error, retry_after = "token_dead", exc.reason, None
    except PushRejected as exc:
        status, error, retry_after = "rejected", exc.reason, None
    except QuotaReached as exc:
        status, error, retry_after = "quota_wait", exc.reason, exc.retry_after
    except PushRetryable as exc:
        status, error, retry_after = "retry", exc.reason, exc.retry_after
    except Exception as exc:  # an adapter bug must not stop the worker; retried, then dead-lettered
        log.exception("push channel failed unexpectedly", extra={"channel": platform})
        status, error, retry_after = "retry", f"{type(exc).__name__}", None
    elapsed = int((time.perf_counter() - started) * 1000)
    if status != "sent":
        log.info("push not delivered", extra={"channel": platform, "device_id": device_id, "status": status,
                                              "reason": error, "token": token_hint(token)})
    return Outcome(status=status, error=error, duration_ms=elapsed, retry_after=retry_after, **base)


def _record(outcomes: list[Outcome], *, owner: str, now: datetime, settings: DeliverySettings,
            backoff: Callable[[int], float]) -> None:
    stamp = models.to_db(now)
    fallback = _fallbacks(outcomes)
    with unit_of_work():
        models.insert_push_attempts([(o.delivery_id, o.device_id, o.platform, o.status, o.error, o.duration_ms, stamp)
                                     for o in outcomes if o.status in ("sent", "retry", "quota_wait", "token_dead",
                                                                       "rejected")])
        models.mark_sent(owner, [o.delivery_id for o in outcomes if o.status == "sent"], now)
        # once per notice: a delivery is unique per (outbox id, device id), the insert skips a second one
        models.insert_deliveries([(o.outbox_id, ACCOUNT_PHONE, o.user_id, "sms", "pending", 0, stamp, stamp, stamp)
                                  for o in outcomes if fallback.get(o.delivery_id) == ACCOUNT_PHONE])
        results = [(o, "sent" if o.status == "sent" else
                    _apply(o, owner=owner, now=now, settings=settings, backoff=backoff,
                           fallback=o.delivery_id in fallback)) for o in outcomes]
    for o, result in results:  # counted once the outcomes are committed
        if result is not None:
            metrics.count(o.platform, result, quota=o.status == "quota_wait")


def _fallbacks(outcomes: list[Outcome]) -> dict[int, str]:
    """The critical pushes that would wait (a quota, Huawei's night) and go by SMS instead: delivery
    id → ACCOUNT_PHONE (an SMS to the bound phone is queued) or "sms" (the account registered an SMS
    device, which notify/ingest.py already gave a delivery of the notice). An account with neither
    has no SMS route: its push waits."""
    waiting = [o for o in outcomes if o.kind in CRITICAL_KINDS and o.platform != "sms" and
               (o.status == "quota_wait" or (o.status == "held" and o.error == "hms_night_hold"))]
    if not waiting:
        return {}
    users = sorted({o.user_id for o in waiting})
    with_sms = {u for u, devices in models.devices_of(users).items() if any(p == "sms" for _d, p in devices)}
    phones = identity.bound_phones(set(users) - with_sms)
    return {o.delivery_id: "sms" if o.user_id in with_sms else ACCOUNT_PHONE
            for o in waiting if o.user_id in with_sms or o.user_id in phones}


def _apply(o: Outcome, *, owner: str, now: datetime, settings: DeliverySettings, backoff,
           fallback: bool) -> str | None:
    """Record an outcome other than sent; its result for the metrics (None: not counted)."""
    record = functools.partial(models.set_delivery, o.delivery_id, owner=owner, now=now)
    spent = o.attempts + (o.status != "held")  # a hold sends nothing and spends no attempt
    if fallback:  # a critical notice goes by SMS instead of waiting
        record(status="dropped", attempts=spent, available_at=now, error=f"fallback_sms: {o.error}"[:256])
        log.info("critical push sent by SMS instead", extra={"channel": o.platform, "delivery_id": o.delivery_id,
                                                             "reason": o.error})
        return "fallback_sms"
    if o.status == "held":
        record(status="pending", attempts=o.attempts, available_at=o.held_until, error=o.error)
        return "held"
    if o.status in ("skipped", "token_dead"):
        record(status="dropped", attempts=o.attempts + (o.status == "token_dead"), available_at=now, error=o.error)
        if o.status == "token_dead":
            models.delete_device(o.device_id)
            log.info("dead push token dropped", extra={"channel": o.platform, "device_id": o.device_id,
                                                       "reason": o.error})
        return o.status if o.status == "token_dead" else None
    if o.status == "rejected" or o.attempts + 1 >= settings.max_attempts:
        record(status="dead", attempts=o.attempts + 1, available_at=now, error=o.error)
        log.warning("push dead-lettered", extra={"channel": o.platform, "delivery_id": o.delivery_id,
                                                 "reason": o.error})
        return "rejected" if o.status == "rejected" else "dead"
    delay = max(backoff(o.attempts + 1), o.retry_after or 0)
    record(status="pending", attempts=o.attempts + 1, available_at=now + timedelta(seconds=delay), error=o.error)
    return o.status  # retry | quota_wait
