"""BFF tables: the citizen's display preferences (大字版 and the like), one row per account."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow


class DisplayPreference(BaseModel):
    """DisplayPreference — 显示偏好. `elderly_mode` (大字版/长辈模式) makes the home screen a simplified
    payload with bigger-text hints; no row means the defaults (standard layout)."""

    user_id = pw.CharField(primary_key=True, max_length=32)
    elderly_mode = pw.BooleanField(default=False)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "bff_display_preference"
