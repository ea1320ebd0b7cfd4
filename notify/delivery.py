"""Deliveries → pushes: the second half of the worker's job.

Each leased delivery is checked (device still the user's, channel still on, quiet hours), sent
through its channel (a thread pool: providers answer in tens of milliseconds), and its outcome
written in one transaction with one `PushAttempt` row per attempt: sent; dropped (dead token —
the device is deleted — or a device/channel gone); retried after exponential backoff with jitter;
dead after `max_attempts` (re-queued by `flask notify replay`). At least once: a worker killed
between a send and its commit sends again after the lease expires, with the same idempotency key.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from app.db import db, execute, new_id
from app.security.pii import PiiCipher
from notify.lease import claim, placeholders, to_db
from notify.push.base import PushChannel, PushMessage, PushRejected, PushRetryable, TokenDead, token_hint
from notify.ingest import ACCOUNT_PHONE
from notify.outbox import SECURITY_KINDS
from notify.quiet import held_until

log = logging.getLogger(__name__)

TOKEN_COLUMN = "notify_device.token"
_COLUMNS = ("d.id, d.outbox_id, d.device_id, d.user_id, d.platform, d.attempts, o.kind, o.title, o.body, o.data, "
            "o.urgent, o.collapse_key, o.created_at, v.user_id, v.token_enc, p.disabled_channels, p.quiet_hours, "
            "u.phone_enc")
ACCOUNT_PHONE_COLUMN = "user.phone"  # the identity feature's column label for the bound phone


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
    if not claim("notify_delivery", owner=owner, now=now, lease_seconds=settings.lease_seconds, limit=settings.batch):
        return 0
    rows = execute(f'SELECT {_COLUMNS} FROM "notify_delivery" d JOIN "notify_outbox" o ON o.id = d.outbox_id '
                   f'LEFT JOIN "notify_device" v ON v.id = d.device_id '
                   f'LEFT JOIN "notify_preference" p ON p.user_id = d.user_id '
                   # the bound phone, read only for ACCOUNT_PHONE deliveries (security notices by SMS)
                   f'LEFT JOIN "user" u ON u.id = d.user_id AND d.device_id = \'{ACCOUNT_PHONE}\' '
                   f'WHERE d.lease_owner = ? AND d.status = \'pending\' ORDER BY d.id', (owner,)).fetchall()
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
        token = (cipher.decrypt(row[17], ACCOUNT_PHONE_COLUMN) if device_id == ACCOUNT_PHONE
                 else cipher.decrypt(row[14], TOKEN_COLUMN))
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
    stamp = to_db(now)
    with db.atomic():
        attempts = [(o.delivery_id, o.device_id, o.platform, o.status, o.error, o.duration_ms, stamp)
                    for o in outcomes if o.status in ("sent", "retry", "token_dead", "rejected")]
        for start in range(0, len(attempts), 400):
            chunk = attempts[start:start + 400]
            execute('INSERT INTO "notify_push_attempt" (delivery_id, device_id, channel, status, error, duration_ms, '
                    'created_at) VALUES ' + ", ".join(f"({placeholders(7)})" for _ in chunk),
                    [v for a in chunk for v in a])
        sent = [o.delivery_id for o in outcomes if o.status == "sent"]
        for start in range(0, len(sent), 400):
            chunk = sent[start:start + 400]
            execute(f'UPDATE "notify_delivery" SET status = \'sent\', attempts = attempts + 1, locked_until = NULL, '
                    f'last_error = NULL, updated_at = ? WHERE lease_owner = ? AND id IN ({placeholders(len(chunk))})',
                    (stamp, owner, *chunk))
        for o in outcomes:
            if o.status != "sent":
                _apply(o, owner=owner, now=now, settings=settings, backoff=backoff)


def _apply(o: Outcome, *, owner: str, now: datetime, settings: DeliverySettings, backoff) -> None:
    stamp = to_db(now)
    set_sql = 'UPDATE "notify_delivery" SET status = ?, attempts = ?, available_at = ?, last_error = ?, ' \
              'locked_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?'
    if o.status == "held":
        execute(set_sql, ("pending", o.attempts, to_db(o.held_until), "quiet_hours", stamp, o.delivery_id, owner))
    elif o.status in ("skipped", "token_dead"):
        execute(set_sql, ("dropped", o.attempts + (o.status == "token_dead"), stamp, o.error, stamp,
                          o.delivery_id, owner))
        if o.status == "token_dead":
            execute('DELETE FROM "notify_device" WHERE id = ?', (o.device_id,))
            log.info("dead push token dropped", extra={"channel": o.platform, "device_id": o.device_id,
                                                       "reason": o.error})
    elif o.status == "rejected" or o.attempts + 1 >= settings.max_attempts:
        execute(set_sql, ("dead", o.attempts + 1, stamp, o.error, stamp, o.delivery_id, owner))
        log.warning("push dead-lettered", extra={"channel": o.platform, "delivery_id": o.delivery_id,
                                                 "reason": o.error})
    else:
        delay = max(backoff(o.attempts + 1), o.retry_after or 0)
        execute(set_sql, ("pending", o.attempts + 1, to_db(now + timedelta(seconds=delay)), o.error, stamp,
                          o.delivery_id, owner))
