"""Reading the inbox (站内消息): one entry as the API, the stream and the live event show it.

A notice is stored in Chinese with its English in its data (`title_en`/`body_en`, given by its
producer: `app.i18n.in_english`). The inbox answers in the request's language (`inbox_item`). The live
stream is worded for its connection, not for the worker that publishes: the worker publishes both
texts (`bilingual_item`: the item in Chinese plus an `en` member) and each stream puts it in its own
language (`for_reader`, called by notify/sse.py), so the `en` member never reaches a client."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from app import i18n
from app.clock import to_china
from notify import inbox_queries


def _aware(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _rfc3339(value) -> str | None:
    moment = _aware(value)
    return to_china(moment).isoformat(timespec="milliseconds") if moment else None  # API.md: +08:00


def bilingual_item(row: tuple) -> dict:
    """A row in `inbox_queries.INBOX_COLUMNS` order → the public item in Chinese, plus `en` ({title, body}, the
    English its producer gave) when there is one: what the worker publishes and a stream resumes with."""
    entry_id, _outbox_id, _user_id, kind, title, body, data, urgent, created_at, read_at = row
    data = json.loads(data or "{}")
    title_en, body_en = data.pop("title_en", None), data.pop("body_en", None)
    item = {"id": str(entry_id), "kind": kind, "title": title, "body": body, "data": data,
            "urgent": bool(urgent), "created_at": _rfc3339(created_at), "read": read_at is not None,
            "read_at": _rfc3339(read_at)}
    if title_en or body_en:
        item["en"] = {"title": title_en or None, "body": body_en or None}
    return item


def for_reader(item: dict, lang: str) -> dict:
    """A `bilingual_item` in `lang` (zh-CN | en): the public item, without the `en` member."""
    item = dict(item)
    english = item.pop("en", None) or {}
    if lang == i18n.EN:
        item["title"] = english.get("title") or item["title"]
        item["body"] = english.get("body") or item["body"]
    return item


def inbox_item(row: tuple) -> dict:
    """A row in `inbox_queries.INBOX_COLUMNS` order → the public item (no user id, no outbox id), in the
    answer's language (a notice's English shown on `Accept-Language: en` when its producer gave one)."""
    return for_reader(bilingual_item(row), i18n.language())


# Live events are not published in id order: two workers commit and publish independently, and a
# batch whose publish failed (Redis down) is older than what the other worker published next. So a
# resume also replays the last two minutes (the client de-duplicates by id).
RESUME_OVERLAP = timedelta(seconds=120)


def entries_after(user_id: str, after_id: int, limit: int = 500) -> list[dict]:
    """The user's entries with an id above `after_id` or created in the last RESUME_OVERLAP, oldest
    first (a stream resuming), as `bilingual_item`s: the stream words them for its reader."""
    rows = inbox_queries.inbox_after(user_id, after_id=after_id, since=datetime.now(timezone.utc) - RESUME_OVERLAP,
                              limit=limit)
    return [bilingual_item(r) for r in rows]


def latest_id(user_id: str) -> int:
    return inbox_queries.latest_inbox_id(user_id)
