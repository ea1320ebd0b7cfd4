"""Deliveries → pushes: the second half of the worker's job.

Each leased delivery is checked (device still the user's, channel still on, quiet hours), sent
through its channel (a thread pool: providers answer in tens of milliseconds), and its outcome
written in one transaction with one `PushAttempt` row per attempt: sent; dropped (dead token —
the device is deleted — or a device/channel gone); retried after exponential backoff with jitter;
dead after `max_attempts` (re-queued by `flask notify replay`). At least once: a worker killed
between a send and its commit sends again after the lease expires, with the same idempotency key.
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
from notify import models
from notify.models import ACCOUNT_PHONE
from notify.outbox import SECURITY_KINDS
from notify.push.base import PushChannel, PushMessage, PushRejected, PushRetryable, TokenDead, token_hint
from notify.quiet import held_until

log = logging.getLogger(__name__)

TOKEN_COLUMN = "notify_device.token"


@dataclass
class DeliverySettings:
    batch: int = 200
    lease_seconds: float = 30.0
    max_attempts: int = 8
    push_ttl: int = 3 * 86400  # how long a provider may store an undelivered push


@dataclass
class Outcome:
    delivery_id: int
    status: str  # sent | retry | token_dead | rejected | held | skipped
    error: str | None = None
    duration_ms: int = 0
    retry_after: float | None = None
    held_until: datetime | None = None
    device_id: str = ""
    platform: str = ""
    attempts: int = 0


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
    delivery_id, _oid, device_id, user_id, platform, attempts = row[:6]
    urgent, device_owner, disabled, quiet = row[10], row[13], row[15], row[16]
    base = dict(delivery_id=delivery_id, device_id=device_id, platform=platform, attempts=attempts)
    if device_id == ACCOUNT_PHONE:  # a security notice to the bound phone: no device row, never muted
        return None if row[17] is not None else Outcome(status="skipped", error="no_bound_phone", **base)
    if device_owner != user_id:  # deleted, or the token moved to another account since
        return Outcome(status="skipped", error="device_removed", **base)
    if row[6] not in SECURITY_KINDS and platform in json.loads(disabled or "[]"):
        return Outcome(status="skipped", error="channel_disabled", **base)
    if not urgent and (quiet is None or quiet):
        until = held_until(now)
        if until is not None:
            return Outcome(status="held", held_until=until, **base)
    return None


def _send(row: tuple, *, channels: dict[str, PushChannel], cipher: PiiCipher, ttl: int) -> Outcome:
    delivery_id, outbox_id, device_id, _user, platform, attempts, kind, title, body, data, urgent, collapse, created = row[:13]
    base = dict(delivery_id=delivery_id, device_id=device_id, platform=platform, attempts=attempts)
    channel = channels.get(platform)
    if channel is None:
        return Outcome(status="rejected", error="channel_not_configured", **base)
    created = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
    created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
    message = PushMessage(title=title, body=body, kind=kind, idempotency_key=f"yw-{outbox_id}-{device_id}",
                          data={k: str(v) for k, v in json.loads(data or "{}").items()}, collapse_key=collapse,
                          urgent=bool(urgent), created_at=created, expires_at=created + timedelta(seconds=ttl))
    started = time.perf_counter()
    token = ""
    try:
        token = row[17] if device_id == ACCOUNT_PHONE else cipher.decrypt(row[14], TOKEN_COLUMN)
        channel.send(token, message)
        status, error, retry_after = "sent", None, None
    except TokenDead as exc:
        status, error, retry_after = "token_dead", exc.reason, None
    except PushRejected as exc:
        status, error, retry_after = "rejected", exc.reason, None
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
    with unit_of_work():
        models.insert_push_attempts([(o.delivery_id, o.device_id, o.platform, o.status, o.error, o.duration_ms, stamp)
                                     for o in outcomes if o.status in ("sent", "retry", "token_dead", "rejected")])
        models.mark_sent(owner, [o.delivery_id for o in outcomes if o.status == "sent"], now)
        for o in outcomes:
            if o.status != "sent":
                _apply(o, owner=owner, now=now, settings=settings, backoff=backoff)


def _apply(o: Outcome, *, owner: str, now: datetime, settings: DeliverySettings, backoff) -> None:
    record = functools.partial(models.set_delivery, o.delivery_id, owner=owner, now=now)
    if o.status == "held":
        record(status="pending", attempts=o.attempts, available_at=o.held_until, error="quiet_hours")
    elif o.status in ("skipped", "token_dead"):
        record(status="dropped", attempts=o.attempts + (o.status == "token_dead"), available_at=now, error=o.error)
        if o.status == "token_dead":
            models.delete_device(o.device_id)
            log.info("dead push token dropped", extra={"channel": o.platform, "device_id": o.device_id,
                                                       "reason": o.error})
    elif o.status == "rejected" or o.attempts + 1 >= settings.max_attempts:
        record(status="dead", attempts=o.attempts + 1, available_at=now, error=o.error)
        log.warning("push dead-lettered", extra={"channel": o.platform, "delivery_id": o.delivery_id,
                                                 "reason": o.error})
    else:
        delay = max(backoff(o.attempts + 1), o.retry_after or 0)
        record(status="pending", attempts=o.attempts + 1, available_at=now + timedelta(seconds=delay), error=o.error)
