"""Reading the inbox (站内消息): one entry as the API, the stream and the live event show it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from app import i18n
from app.clock import to_china
from notify import models


def _aware(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _rfc3339(value) -> str | None:
    moment = _aware(value)
    return to_china(moment).isoformat(timespec="milliseconds") if moment else None  # API.md: +08:00


def inbox_item(row: tuple) -> dict:
    """A row in `models.INBOX_COLUMNS` order → the public item (no user id, no outbox id)."""
    entry_id, _outbox_id, _user_id, kind, title, body, data, urgent, created_at, read_at = row
    data = json.loads(data or "{}")
    # A producer may give the notice in English too (data title_en/body_en): shown on `Accept-Language: en`.
    title, body = i18n.pick(title, data.pop("title_en", None)), i18n.pick(body, data.pop("body_en", None))
    return {"id": str(entry_id), "kind": kind, "title": title, "body": body, "data": data,
            "urgent": bool(urgent), "created_at": _rfc3339(created_at), "read": read_at is not None,
            "read_at": _rfc3339(read_at)}


# Live events are not published in id order: two workers commit and publish independently, and a
# batch whose publish failed (Redis down) is older than what the other worker published next. So a
# resume also replays the last two minutes (the client de-duplicates by id).
RESUME_OVERLAP = timedelta(seconds=120)


def entries_after(user_id: str, after_id: int, limit: int = 500) -> list[dict]:
    """The user's entries with an id above `after_id` or created in the last RESUME_OVERLAP, oldest
    first (a stream resuming)."""
    rows = models.inbox_after(user_id, after_id=after_id, since=datetime.now(timezone.utc) - RESUME_OVERLAP,
                              limit=limit)
    return [inbox_item(r) for r in rows]


def latest_id(user_id: str) -> int:
    return models.latest_inbox_id(user_id)
