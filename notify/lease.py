"""Leases: a worker claims due rows by writing its lease id and an expiry into them.

PostgreSQL: `FOR UPDATE SKIP LOCKED` in the claiming UPDATE, so concurrent workers take disjoint
rows without waiting for each other. SQLite: every write transaction holds the database's one
write lock (BEGIN IMMEDIATE), so the conditional UPDATE is already atomic. Either way a lease that
expires (its worker died) makes the rows due again; everything done with them is idempotent.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import peewee as pw

from app.db import db, execute



def to_db(moment: datetime) -> datetime:
    """An aware datetime as stored by `UTCDateTimeField` (naive UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def placeholders(count: int) -> str:
    return ", ".join(["?"] * count)


def claim(table: str, *, owner: str, now: datetime, lease_seconds: float, limit: int) -> int:
    """Lease up to `limit` due pending rows of `table` (by id order) to `owner`; how many."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if isinstance(db.obj, pw.PostgresqlDatabase) else ""
    now_db = to_db(now)
    until = now_db + timedelta(seconds=lease_seconds)
    sql = (f'UPDATE "{table}" SET lease_owner = ?, locked_until = ? WHERE id IN ('
           f'SELECT id FROM "{table}" WHERE status = \'pending\' AND available_at <= ? '
           f'AND (locked_until IS NULL OR locked_until < ?) ORDER BY id LIMIT ?{skip_locked})')
    with db.atomic():
        return execute(sql, (owner, until, now_db, now_db, limit)).rowcount
