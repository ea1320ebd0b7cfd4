"""BFF tables: the citizen's display preferences (大字版 and the like), one row per account."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, select_where, utcnow


class DisplayPreference(BaseModel):
    """DisplayPreference — 显示偏好. `elderly_mode` (大字版/长辈模式) makes the home screen a simplified
    payload with bigger-text hints; `language` is the interface language the citizen chose, so it
    follows them to another device; no row means the defaults (standard layout, the device's language)."""

    user_id = pw.CharField(primary_key=True, max_length=32)
    elderly_mode = pw.BooleanField(default=False)
    language = pw.CharField(max_length=8, null=True)  # "zh-CN" | "en"; null: never chosen (the device's)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "bff_display_preference"


def find_preference(user_id: str) -> DisplayPreference | None:
    return select_where(DisplayPreference, user_id=user_id)


def save_preference(*, user_id: str, changes: dict[str, Any], now: datetime) -> None:
    """Insert the account's row or change the named fields of it (`changes`: elderly_mode, language),
    keeping the others (an upsert: one statement, no read first)."""
    fields = {getattr(DisplayPreference, name): value for name, value in changes.items()}
    (DisplayPreference.insert(user_id=user_id, updated_at=now, **changes)
     .on_conflict(conflict_target=[DisplayPreference.user_id],
                  update={**fields, DisplayPreference.updated_at: now})
     .execute())
