"""Keyset (cursor) pagination, newest first: `?limit=&cursor=` → `{items, next_cursor}`.

A cursor is the opaque base64url of `[time, id]` of the last row of the previous page; the next
page holds the rows strictly before it in (time DESC, id DESC) order, so inserts between two
calls never shift or repeat rows the way OFFSET does.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Callable

import peewee as pw

from app.errors import ValidationFailed
from app.i18n import N_


class CursorInvalid(ValidationFailed):
    code, detail = "cursor_invalid", N_("分页游标无效。")


def encode_cursor(at: datetime, row_id: str) -> str:
    raw = json.dumps([at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, str(row_id)
    except (ValueError, TypeError):
        raise CursorInvalid(errors={"cursor": [N_("分页游标无效。")]}) from None


def newest_first(query: pw.ModelSelect, at_field: pw.Field, id_field: pw.Field, *, limit: int,
                 cursor: str | None, at_of: Callable[[Any], datetime], id_of: Callable[[Any], str]
                 ) -> tuple[list[Any], str | None]:
    """One page of `query` in (at DESC, id DESC) order after `cursor`: (rows, next cursor or None)."""
    query = query.order_by(at_field.desc(), id_field.desc())
    if cursor:
        at, row_id = decode_cursor(cursor)
        query = query.where((at_field < at) | ((at_field == at) & (id_field < row_id)))
    rows = list(query.limit(limit + 1))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(at_of(rows[limit - 1]), id_of(rows[limit - 1]))
    return rows, None
