"""The inbox's queries (split out of notify/models.py): rows in INBOX_COLUMNS order
(notify.inbox.inbox_item makes the public item)."""
from __future__ import annotations

from datetime import datetime

from app.db import execute
from notify.models import _insert_many, placeholders, to_db

INBOX_COLUMNS = "id, outbox_id, user_id, kind, title, body, data, urgent, created_at, read_at"


def _kinds_sql(kinds: tuple[str, ...] | None) -> tuple[str, tuple]:
    """The condition limiting entries to `kinds` (None: every kind; an enterprise's agent reads only
    the kinds its scopes cover, issue 19) and its parameters."""
    if kinds is None:
        return "", ()
    if not kinds:
        return " AND 1 = 0", ()
    return f" AND kind IN ({placeholders(len(kinds))})", tuple(kinds)


def inbox_page(user_id: str, *, before: int, limit: int, unread_only: bool,
               kinds: tuple[str, ...] | None = None) -> list[tuple]:
    """Up to `limit` of the user's entries below id `before`, newest first."""
    only, params = _kinds_sql(kinds)
    sql = f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE user_id = ? AND id < ?' + only
    sql += " AND read_at IS NULL" if unread_only else ""
    return execute(sql + " ORDER BY id DESC LIMIT ?", (user_id, before, *params, limit)).fetchall()


def unread_count(user_id: str, kinds: tuple[str, ...] | None = None) -> int:
    only, params = _kinds_sql(kinds)
    return int(execute('SELECT COUNT(*) FROM "notify_inbox" WHERE user_id = ? AND read_at IS NULL' + only,
                       (user_id, *params)).fetchone()[0])


def mark_entry_read(user_id: str, entry_id: int, now: datetime, kinds: tuple[str, ...] | None = None) -> tuple | None:
    """Mark one entry read (keeping the first time); the entry's row, or None when it is not the user's."""
    only, params = _kinds_sql(kinds)
    execute('UPDATE "notify_inbox" SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL' + only,
            (to_db(now), entry_id, user_id, *params))
    return execute(f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE id = ? AND user_id = ?' + only,
                   (entry_id, user_id, *params)).fetchone()


def mark_all_read(user_id: str, now: datetime, kinds: tuple[str, ...] | None = None) -> int:
    only, params = _kinds_sql(kinds)
    return execute('UPDATE "notify_inbox" SET read_at = ? WHERE user_id = ? AND read_at IS NULL' + only,
                   (to_db(now), user_id, *params)).rowcount


def inbox_after(user_id: str, *, after_id: int, since: datetime, limit: int) -> list[tuple]:
    """The user's entries with an id above `after_id` or created since `since`, oldest first."""
    return execute(f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE user_id = ? AND (id > ? OR created_at >= ?) '
                   f'ORDER BY id LIMIT ?', (user_id, after_id, to_db(since), limit)).fetchall()


def latest_inbox_id(user_id: str) -> int:
    row = execute('SELECT MAX(id) FROM "notify_inbox" WHERE user_id = ?', (user_id,)).fetchone()
    return int(row[0] or 0)


def insert_inbox_entries(values: list[tuple]) -> None:
    """(outbox_id, user_id, kind, title, body, data, urgent, created_at) rows; one entry per outbox row."""
    _insert_many("notify_inbox", "outbox_id, user_id, kind, title, body, data, urgent, created_at", values,
                 on_conflict=" ON CONFLICT DO NOTHING")


def inbox_of_outbox(ids: list[int]) -> list[tuple]:
    return execute(f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE outbox_id IN ({placeholders(len(ids))})',
                   ids).fetchall()
