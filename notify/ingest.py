"""Outbox → inbox (站内消息) + deliveries + live event: the first half of the worker's job.

A leased batch is handled in one transaction: inbox entries (INSERT … ON CONFLICT DO NOTHING on
`outbox_id`, so a row processed twice — a lease that expired under a slow worker, a worker killed
after its commit — still yields one entry), one delivery per device the user has not switched
off (none when the notice's category is muted: notify/categories.py), and the outbox rows marked done. After the commit (`after_commit`) the entries are published
on Redis (`notify:user:<id>`); a publish that fails loses nothing, since streams resume from the inbox.

An enterprise's notice (issue 19) has its one inbox entry under the enterprise id and its deliveries
on the devices of its recipients (notify/recipients.py: its LR and the agents whose grant covers it),
each delivery under its recipient's user id.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import redis

from app.db import new_id, unit_of_work
from app.redis import publish_many
from notify import inbox_queries, models
from notify.categories import muted as category_muted
from notify.inbox import bilingual_item
from notify.models import ACCOUNT_PHONE, to_db
from notify.outbox import SECURITY_KINDS
from notify.recipients import push_recipients

log = logging.getLogger(__name__)

CHANNEL = "notify:user:{}"


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
    with unit_of_work():
        claimed = models.claim("notify_outbox", owner=owner, now=now, lease_seconds=settings.lease_seconds,
                               limit=settings.batch)
    if not claimed:
        return 0
    rows = models.leased_outbox(owner)
    try:
        _ingest(rows, owner=owner, now=now, redis_client=redis_client)
    except Exception as exc:  # a poison row: isolate it, fail it alone, keep the others flowing
        log.warning("outbox batch failed, retrying row by row", extra={"error": type(exc).__name__})
        for row in rows:
            try:
                _ingest([row], owner=owner, now=now, redis_client=redis_client)
            except Exception as row_exc:  # recorded on the row; dead-lettered after max_attempts
                _fail_row(row, owner=owner, now=now, error=f"{type(row_exc).__name__}: {row_exc}"[:256],
                          settings=settings, backoff=backoff)
    return len(rows)


def _ingest(rows: list[tuple], *, owner: str, now: datetime, redis_client: redis.Redis | None) -> None:
    """One transaction for `rows`; their live events are published once it has committed."""
    ids = [r[0] for r in rows]
    with unit_of_work() as uow:
        # the pushes' recipients: the owner, or an enterprise's LR and agents (notify/recipients.py)
        recipients = {(r[1], r[2]): push_recipients(r[1], r[2]) for r in rows}
        users = sorted({u for found in recipients.values() for u in found})
        devices = models.devices_of(users) if users else {}
        switched_off = models.switched_off_of(users) if users else {}  # user → (channels off, categories muted)
        inbox_values, delivery_values = [], []
        for (oid, owner_id, kind, title, body, data, urgent, _collapse, created_at, _attempts) in rows:
            fields = json.loads(data)  # malformed data is a poison row, not a broken stream
            inbox_values.append((oid, owner_id, kind, title, body, data, bool(urgent), to_db(now)))
            # a new device is announced on the account's other channels, not to itself
            skip = fields.get("device_id") if kind == "new_device" else None
            security = kind in SECURITY_KINDS
            for user_id in recipients[(owner_id, kind)]:
                channels_off, muted = switched_off.get(user_id, (set(), set()))
                off = () if security else channels_off  # security notices cannot be muted
                # a muted category gets no push (the inbox and the live stream still have the notice)
                silenced = category_muted(kind, muted)
                targets = [] if silenced else [(d, p) for d, p in devices.get(user_id, ()) if p not in off and d != skip]
                if security and not any(p == "sms" for _d, p in devices.get(user_id, ())):
                    targets.append((ACCOUNT_PHONE, "sms"))
                for device_id, platform in targets:
                    delivery_values.append((oid, device_id, user_id, platform, "pending", 0, to_db(now),
                                            to_db(now), to_db(now)))
        inbox_queries.insert_inbox_entries(inbox_values)
        models.insert_deliveries(delivery_values)
        models.mark_outbox_done(owner, ids)
        # both languages: each stream words the event for its own reader (notify/sse.py)
        entries = [(r[2], bilingual_item(r)) for r in inbox_queries.inbox_of_outbox(ids)]
        uow.after_commit(publish, redis_client, entries)  # the committed entries' live events


def _fail_row(row: tuple, *, owner: str, now: datetime, error: str, settings: IngestSettings, backoff) -> None:
    attempts = row[9] + 1
    dead = attempts >= settings.max_attempts
    with unit_of_work():
        models.fail_outbox_row(row[0], owner=owner, status="dead" if dead else "pending", attempts=attempts,
                               available_at=now + timedelta(seconds=backoff(attempts)), error=error)
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
