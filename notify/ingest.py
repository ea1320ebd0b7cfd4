"""Outbox → inbox (站内消息) + deliveries + live event: the first half of the worker's job.

A leased batch is handled in one transaction: inbox entries (INSERT … ON CONFLICT DO NOTHING on
`outbox_id`, so a row processed twice — a lease that expired under a slow worker, a worker killed
after its commit — still yields one entry), one delivery per device the user has not switched
off, and the outbox rows marked done. After the commit the entries are published on Redis
(`notify:user:<id>`); a publish that fails loses nothing, since streams resume from the inbox.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import redis

from app.db import db, execute, new_id
from app.redis import publish_many
from notify.lease import claim, placeholders, to_db
from notify.inbox import inbox_item
from notify.outbox import SECURITY_KINDS

# The device id of a delivery to the account's bound phone by SMS (no notify_device row): made for
# security notices when the account has no SMS device of its own (notify/delivery.py reads the phone).
ACCOUNT_PHONE = "account-phone"

log = logging.getLogger(__name__)

CHANNEL = "notify:user:{}"
_OUTBOX_COLUMNS = "id, user_id, kind, title, body, data, urgent, collapse_key, created_at, attempts"


@dataclass
class IngestSettings:
    batch: int = 200
    lease_seconds: float = 30.0
    max_attempts: int = 8
    backoff_base: float = 5.0
    backoff_max: float = 3600.0


def process_outbox_batch(*, redis_client: redis.Redis | None, now: datetime, settings: IngestSettings,
                         backoff: Callable[[int], float]) -> int:
    """Lease due outbox rows and turn them into inbox entries and deliveries; how many rows."""
    owner = new_id("lease")
    if not claim("notify_outbox", owner=owner, now=now, lease_seconds=settings.lease_seconds, limit=settings.batch):
        return 0
    rows = execute(f'SELECT {_OUTBOX_COLUMNS} FROM "notify_outbox" WHERE lease_owner = ? AND status = \'pending\' '
                   f'ORDER BY id', (owner,)).fetchall()
    try:
        entries = _ingest(rows, owner=owner, now=now)
    except Exception as exc:  # a poison row: isolate it, fail it alone, keep the others flowing
        log.warning("outbox batch failed, retrying row by row", extra={"error": type(exc).__name__})
        entries = []
        for row in rows:
            try:
                entries += _ingest([row], owner=owner, now=now)
            except Exception as row_exc:  # recorded on the row; dead-lettered after max_attempts
                _fail_row(row, owner=owner, now=now, error=f"{type(row_exc).__name__}: {row_exc}"[:256],
                          settings=settings, backoff=backoff)
    publish(redis_client, entries)
    return len(rows)


def _ingest(rows: list[tuple], *, owner: str, now: datetime) -> list[tuple[str, dict]]:
    ids = [r[0] for r in rows]
    with db.atomic():
        users = sorted({r[1] for r in rows})
        devices = _devices(users)
        disabled = _disabled_channels(users)
        inbox_values, delivery_values = [], []
        for (oid, user_id, kind, title, body, data, urgent, _collapse, created_at, _attempts) in rows:
            fields = json.loads(data)  # malformed data is a poison row, not a broken stream
            inbox_values.append((oid, user_id, kind, title, body, data, bool(urgent), to_db(now)))
            # a new device is announced on the account's other channels, not to itself
            skip = fields.get("device_id") if kind == "new_device" else None
            security = kind in SECURITY_KINDS
            off = () if security else disabled.get(user_id, ())  # security notices cannot be muted
            targets = [(d, p) for d, p in devices.get(user_id, ()) if p not in off and d != skip]
            if security and not any(p == "sms" for _d, p in devices.get(user_id, ())):
                targets.append((ACCOUNT_PHONE, "sms"))
            for device_id, platform in targets:
                delivery_values.append((oid, device_id, user_id, platform, "pending", 0, to_db(now),
                                        to_db(now), to_db(now)))
        _insert_many("notify_inbox", "outbox_id, user_id, kind, title, body, data, urgent, created_at", inbox_values)
        _insert_many("notify_delivery", "outbox_id, device_id, user_id, platform, status, attempts, available_at, "
                     "created_at, updated_at", delivery_values)
        execute(f'UPDATE "notify_outbox" SET status = \'done\', locked_until = NULL, attempts = attempts + 1 '
                f'WHERE lease_owner = ? AND id IN ({placeholders(len(ids))})', (owner, *ids))
        found = execute(f'SELECT id, outbox_id, user_id, kind, title, body, data, urgent, created_at, read_at '
                        f'FROM "notify_inbox" WHERE outbox_id IN ({placeholders(len(ids))})', ids).fetchall()
    return [(r[2], inbox_item(r)) for r in found]


def _insert_many(table: str, columns: str, values: list[tuple]) -> None:
    if not values:
        return
    width = len(values[0])
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        rows_sql = ", ".join(f"({placeholders(width)})" for _ in chunk)
        execute(f'INSERT INTO "{table}" ({columns}) VALUES {rows_sql} ON CONFLICT DO NOTHING',
                [v for row in chunk for v in row])


def _devices(users: list[str]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    rows = execute(f'SELECT id, user_id, platform FROM "notify_device" WHERE user_id IN ({placeholders(len(users))}) '
                   f'ORDER BY id', users).fetchall()
    for device_id, user_id, platform in rows:
        found.setdefault(user_id, []).append((device_id, platform))
    return found


def _disabled_channels(users: list[str]) -> dict[str, set[str]]:
    rows = execute(f'SELECT user_id, disabled_channels FROM "notify_preference" '
                   f'WHERE user_id IN ({placeholders(len(users))})', users).fetchall()
    return {user_id: set(json.loads(disabled or "[]")) for user_id, disabled in rows}


def _fail_row(row: tuple, *, owner: str, now: datetime, error: str, settings: IngestSettings, backoff) -> None:
    attempts = row[9] + 1
    dead = attempts >= settings.max_attempts
    with db.atomic():
        execute('UPDATE "notify_outbox" SET status = ?, attempts = ?, available_at = ?, locked_until = NULL, '
                'last_error = ? WHERE id = ? AND lease_owner = ?',
                ("dead" if dead else "pending", attempts, to_db(now + timedelta(seconds=backoff(attempts))),
                 error, row[0], owner))
    log.warning("outbox row failed", extra={"outbox_id": row[0], "attempts": attempts, "dead": dead,
                                            "error": error[:120]})


def publish(redis_client: redis.Redis | None, entries: list[tuple[str, dict]]) -> bool:
    """Publish live events (after the commit); False when Redis is unreachable (streams resume
    from the inbox when they reconnect)."""
    if not entries or redis_client is None:
        return True
    try:
        publish_many(redis_client, [(CHANNEL.format(user_id), json.dumps(item, ensure_ascii=False, separators=(",", ":")))
                                    for user_id, item in entries])
        return True
    except redis.RedisError as exc:
        log.warning("live events not published", extra={"error": type(exc).__name__, "count": len(entries)})
        return False
