"""BFF tables: the citizen's display preferences (大字版 and the like), one row per account."""
from __future__ import annotations

from datetime import datetime

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, select_where, utcnow


class DisplayPreference(BaseModel):
    """DisplayPreference — 显示偏好. `elderly_mode` (大字版/长辈模式) makes the home screen a simplified
    payload with bigger-text hints; no row means the defaults (standard layout)."""

    user_id = pw.CharField(primary_key=True, max_length=32)
    elderly_mode = pw.BooleanField(default=False)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "bff_display_preference"


def find_preference(user_id: str) -> DisplayPreference | None:
    return select_where(DisplayPreference, user_id=user_id)


def save_preference(*, user_id: str, elderly_mode: bool, now: datetime) -> None:
    """Insert or replace the account's row (an upsert: one statement, no read first)."""
    (DisplayPreference.insert(user_id=user_id, elderly_mode=elderly_mode, updated_at=now)
     .on_conflict(conflict_target=[DisplayPreference.user_id],
                  update={DisplayPreference.elderly_mode: elderly_mode, DisplayPreference.updated_at: now})
     .execute())
