"""Notification tables — the outbox, devices, the inbox, push deliveries and their attempts,
preferences — and every query of the feature (the inbox's: notify/inbox_queries.py).

The outbox (`notify/outbox.py`, `enqueue`) is the way in; the worker turns each outbox row into one
inbox entry (unique on `outbox_id`) and one delivery per device (unique on `outbox_id, device_id`).
The worker's statements are SQL written once per shape (batches of hundreds of rows a transaction,
the PostgreSQL `SKIP LOCKED` claim: see `claim`); the citizen API's are peewee expressions.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, db, execute, insert_row, select_where, utcnow

# Push platforms (a device's `platform`; notify/push/__init__.py builds a channel for each). Append new
# vendors on their own line.
PLATFORMS = (
    "apns", "fcm", "hms", "jpush", "wechat", "sms",
    "xiaomi",  # MiPush (notify/push/xiaomi.py)
    "oppo",  # OPPO PUSH (notify/push/oppo.py)
    "vivo",  # vivo push (notify/push/vivo.py)
)
# The device id of a delivery to the account's bound phone by SMS (no notify_device row): made for
# security notices when the account has no SMS device of its own (notify/delivery.py reads the phone).
ACCOUNT_PHONE = "account-phone"


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
    locale = pw.CharField(max_length=8, default="zh-CN")  # the language its pushes are worded in (migration 020)
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
    """Channels switched off, quiet hours on/off and window ("HH:MM", migration 020), categories muted."""

    user_id = pw.CharField(primary_key=True, max_length=32)
    disabled_channels = pw.TextField(default="[]")  # JSON list of platforms
    quiet_hours = pw.BooleanField(default=True)
    quiet_start, quiet_end = pw.CharField(max_length=5, default="22:00"), pw.CharField(max_length=5, default="08:00")
    muted_categories = pw.TextField(default="[]")  # JSON list of categories that get no push
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_preference"


# --- Statement helpers ------------------------------------------------------------------------

def to_db(moment: datetime) -> datetime:
    """An aware datetime as stored by `UTCDateTimeField` (naive UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def placeholders(count: int) -> str:
    return ", ".join(["?"] * count)


def _insert_many(table: str, columns: str, values: list[tuple], *, chunk: int = 500, on_conflict: str = "") -> None:
    """INSERT `values` (rows in `columns` order) in chunks of `chunk` rows."""
    if not values:
        return
    width = len(values[0])
    for start in range(0, len(values), chunk):
        part = values[start:start + chunk]
        rows_sql = ", ".join(f"({placeholders(width)})" for _ in part)
        execute(f'INSERT INTO "{table}" ({columns}) VALUES {rows_sql}{on_conflict}', [v for row in part for v in row])


# --- Leases: a worker claims due rows by writing its lease id and an expiry into them ------------
# PostgreSQL: `FOR UPDATE SKIP LOCKED` in the claiming UPDATE, so concurrent workers take disjoint
# rows without waiting for each other. SQLite: every write transaction holds the database's one
# write lock (BEGIN IMMEDIATE), so the conditional UPDATE is already atomic. Either way a lease that
# expires (its worker died) makes the rows due again; everything done with them is idempotent.

def claim(table: str, *, owner: str, now: datetime, lease_seconds: float, limit: int) -> int:
    """Lease up to `limit` due pending rows of `table` (by id order) to `owner`; how many. Raw SQL:
    peewee has no `FOR UPDATE SKIP LOCKED` inside an UPDATE's subquery. Inside the caller's unit."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if isinstance(db.obj, pw.PostgresqlDatabase) else ""
    now_db = to_db(now)
    until = now_db + timedelta(seconds=lease_seconds)
    sql = (f'UPDATE "{table}" SET lease_owner = ?, locked_until = ? WHERE id IN ('
           f'SELECT id FROM "{table}" WHERE status = \'pending\' AND available_at <= ? '
           f'AND (locked_until IS NULL OR locked_until < ?) ORDER BY id LIMIT ?{skip_locked})')
    return execute(sql, (owner, until, now_db, now_db, limit)).rowcount


# --- The outbox ---------------------------------------------------------------------------------

_OUTBOX_COLUMNS = "id, user_id, kind, title, body, data, urgent, collapse_key, created_at, attempts"


# `insert_outbox`'s statements, written once per set of columns (every notice of every feature comes
# this way, inside its transaction): raw SQL builds no model instance for a row nobody reads back.
_INSERT_OUTBOX: dict[tuple[str, ...], tuple[str, tuple]] = {}


def insert_outbox(**values: Any) -> bool:
    """One outbox row; False when its `dedupe_key` was queued before (ON CONFLICT DO NOTHING)."""
    key = tuple(values)
    prepared = _INSERT_OUTBOX.get(key)
    if prepared is None:
        fields = [OutboxEntry._meta.fields[name] for name in key]
        sql = 'INSERT INTO "notify_outbox" ({}) VALUES ({}) ON CONFLICT DO NOTHING'.format(
            ", ".join(f'"{f.column_name}"' for f in fields), ", ".join("?" * len(fields)))
        prepared = _INSERT_OUTBOX[key] = (sql, tuple(f.db_value for f in fields))
    sql, to_db = prepared
    return execute(sql, [convert(value) for convert, value in zip(to_db, values.values())]).rowcount == 1


def leased_outbox(owner: str) -> list[tuple]:
    """The pending outbox rows leased to `owner`, in _OUTBOX_COLUMNS order, by id."""
    return execute(f'SELECT {_OUTBOX_COLUMNS} FROM "notify_outbox" WHERE lease_owner = ? AND status = \'pending\' '
                   f'ORDER BY id', (owner,)).fetchall()


def mark_outbox_done(owner: str, ids: list[int]) -> None:
    execute(f'UPDATE "notify_outbox" SET status = \'done\', locked_until = NULL, attempts = attempts + 1 '
            f'WHERE lease_owner = ? AND id IN ({placeholders(len(ids))})', (owner, *ids))


def fail_outbox_row(outbox_id: int, *, owner: str, status: str, attempts: int, available_at: datetime,
                    error: str) -> None:
    execute('UPDATE "notify_outbox" SET status = ?, attempts = ?, available_at = ?, locked_until = NULL, '
            'last_error = ? WHERE id = ? AND lease_owner = ?',
            (status, attempts, to_db(available_at), error, outbox_id, owner))


def requeue_dead(*, now: datetime, outbox_id: int | None = None) -> tuple[int, int]:
    """Dead letters (all, or those of one outbox row) pending again: (outbox rows, deliveries)."""
    now_db = to_db(now)
    where, params = ("", ()) if outbox_id is None else (" AND id = ?", (outbox_id,))
    dwhere = "" if outbox_id is None else " AND outbox_id = ?"
    rows = execute(f'UPDATE "notify_outbox" SET status = \'pending\', attempts = 0, available_at = ?, '
                   f'locked_until = NULL WHERE status = \'dead\'{where}', (now_db, *params)).rowcount
    deliveries = execute(f'UPDATE "notify_delivery" SET status = \'pending\', attempts = 0, available_at = ?, '
                         f'locked_until = NULL WHERE status = \'dead\'{dwhere}', (now_db, *params)).rowcount
    return rows, deliveries


def pending_outbox() -> int | None:
    """Outbox rows still to deliver; None before the table exists (migrations not applied)."""
    if OutboxEntry._meta.table_name not in db.get_tables():
        return None
    return OutboxEntry.select().where(OutboxEntry.status == "pending").count()


def status_counts() -> dict[str, dict[str, int]]:
    """Counts by status: outbox rows, deliveries, and push attempts per channel."""
    answer: dict[str, dict[str, int]] = {}
    for table, column in (("notify_outbox", "status"), ("notify_delivery", "status"),
                          ("notify_push_attempt", "channel || ':' || status")):
        rows = execute(f'SELECT {column}, COUNT(*) FROM "{table}" GROUP BY 1').fetchall()
        answer[table.removeprefix("notify_")] = {key: count for key, count in rows}
    return answer


# --- Devices ------------------------------------------------------------------------------------

def insert_device(**values: Any) -> Device | None:
    """A new device; None when its token (`token_bidx`) is known already."""
    return insert_row(Device, ignore_conflict=True, **values)


def device_by_token(token_bidx: str) -> Device | None:
    return select_where(Device, token_bidx=token_bidx)


def move_device(token_bidx: str, *, user_id: str, session_id: str | None, now: datetime, locale: str) -> None:
    Device.update(user_id=user_id, session_id=session_id, locale=locale, updated_at=now).where(
        Device.token_bidx == token_bidx).execute()


def delete_session_devices(session_id: str) -> int:
    return Device.delete().where(Device.session_id == session_id).execute()


def delete_user_device(user_id: str, device_id: str) -> int:
    return Device.delete().where((Device.id == device_id) & (Device.user_id == user_id)).execute()


def delete_device(device_id: str) -> None:
    Device.delete().where(Device.id == device_id).execute()


def user_devices(user_id: str) -> list[Device]:
    return list(Device.select().where(Device.user_id == user_id).order_by(Device.created_at))


def devices_of(users: list[str]) -> dict[str, list[tuple[str, str]]]:
    """user id → [(device id, platform)] by device id."""
    found: dict[str, list[tuple[str, str]]] = {}
    rows = execute(f'SELECT id, user_id, platform FROM "notify_device" WHERE user_id IN ({placeholders(len(users))}) '
                   f'ORDER BY id', users).fetchall()
    for device_id, user_id, platform in rows:
        found.setdefault(user_id, []).append((device_id, platform))
    return found


# --- Preferences --------------------------------------------------------------------------------

def preference_of(user_id: str) -> Preference | None:
    return select_where(Preference, user_id=user_id)


def save_preference(user_id: str, **values: Any) -> None:
    """Upsert the preference columns given (disabled_channels, quiet_hours, quiet_start, quiet_end, muted_categories)."""
    Preference.insert(user_id=user_id, updated_at=utcnow(), **values).on_conflict(
        conflict_target=[Preference.user_id],
        update={**{getattr(Preference, k): v for k, v in values.items()}, Preference.updated_at: utcnow()}).execute()


def switched_off_of(users: list[str]) -> dict[str, tuple[set[str], set[str]]]:
    """user id → (channels switched off, categories muted), for the users who saved preferences."""
    rows = execute(f'SELECT user_id, disabled_channels, muted_categories FROM "notify_preference" '
                   f'WHERE user_id IN ({placeholders(len(users))})', users).fetchall()
    return {user_id: (set(json.loads(disabled or "[]")), set(json.loads(muted or "[]")))
            for user_id, disabled, muted in rows}


# --- Deliveries and push attempts ---------------------------------------------------------------

DELIVERY_COLUMNS = ("d.id, d.outbox_id, d.device_id, d.user_id, d.platform, d.attempts, o.kind, o.title, o.body, "
                    "o.data, o.urgent, o.collapse_key, o.created_at, v.user_id, v.token_enc, p.disabled_channels, "
                    "p.quiet_hours, p.quiet_start, p.quiet_end, p.muted_categories, v.locale")


def insert_deliveries(values: list[tuple]) -> None:
    """(outbox_id, device_id, user_id, platform, status, attempts, available_at, created_at, updated_at)."""
    _insert_many("notify_delivery", "outbox_id, device_id, user_id, platform, status, attempts, available_at, "
                 "created_at, updated_at", values, on_conflict=" ON CONFLICT DO NOTHING")


def leased_deliveries(owner: str) -> list[tuple]:
    """The pending deliveries leased to `owner` with their notice, device and preferences, in
    DELIVERY_COLUMNS order, by id."""
    return execute(f'SELECT {DELIVERY_COLUMNS} FROM "notify_delivery" d JOIN "notify_outbox" o ON o.id = d.outbox_id '
                   f'LEFT JOIN "notify_device" v ON v.id = d.device_id '
                   f'LEFT JOIN "notify_preference" p ON p.user_id = d.user_id '
                   f'WHERE d.lease_owner = ? AND d.status = \'pending\' ORDER BY d.id', (owner,)).fetchall()


def insert_push_attempts(values: list[tuple]) -> None:
    """(delivery_id, device_id, channel, status, error, duration_ms, created_at) rows."""
    _insert_many("notify_push_attempt", "delivery_id, device_id, channel, status, error, duration_ms, created_at",
                 values, chunk=400)


def mark_sent(owner: str, delivery_ids: list[int], now: datetime) -> None:
    for start in range(0, len(delivery_ids), 400):
        chunk = delivery_ids[start:start + 400]
        execute(f'UPDATE "notify_delivery" SET status = \'sent\', attempts = attempts + 1, locked_until = NULL, '
                f'last_error = NULL, updated_at = ? WHERE lease_owner = ? AND id IN ({placeholders(len(chunk))})',
                (to_db(now), owner, *chunk))


def set_delivery(delivery_id: int, *, owner: str, status: str, attempts: int, available_at: datetime,
                 error: str | None, now: datetime) -> None:
    execute('UPDATE "notify_delivery" SET status = ?, attempts = ?, available_at = ?, last_error = ?, '
            'locked_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?',
            (status, attempts, to_db(available_at), error, to_db(now), delivery_id, owner))
