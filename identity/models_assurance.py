"""The assurance events table and its queries (split out of identity/models.py, which re-exports them):
identity/assurance.py reads freshness from these rows."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, new_id
from identity.rows import _prepared_insert


class AssuranceEvent(BaseModel):
    """One time an account proved a level (identity/assurance.py): freshness ("L3 within 600 s") is
    read from these rows on the server, not from the token. `ref_hash`: SHA-256 of the proof's own
    reference (a liveness session, an NCID bizSeq, a counter code), never the reference itself."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    level = pw.SmallIntegerField()
    method = pw.CharField(max_length=16)
    at = UTCDateTimeField()
    ref_hash = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "identity_assurance_event"
        indexes = ((("user_id", "at"), False),)


_insert_assurance_event = _prepared_insert(AssuranceEvent, ("id", "user_id", "level", "method", "at", "ref_hash"))


def insert_assurance_event(*, user_id: str, level: int, method: str, at, ref_hash: str | None) -> None:
    _insert_assurance_event(new_id("ae"), user_id, level, method, at, ref_hash)


def fresh_assurance_level(user_id: str, since) -> int:
    """The highest level an event of the account reached at or after `since` (0: none)."""
    found = (AssuranceEvent.select(pw.fn.MAX(AssuranceEvent.level))
             .where((AssuranceEvent.user_id == user_id) & (AssuranceEvent.at >= since)).scalar())
    return int(found or 0)


def level_reached_at(user_id: str, level: int):
    """When the account last proved `level` or above (None: no event says so)."""
    row = (AssuranceEvent.select(AssuranceEvent.at)
           .where((AssuranceEvent.user_id == user_id) & (AssuranceEvent.level >= level))
           .order_by(AssuranceEvent.at.desc()).first())
    return row.at if row is not None else None


def assurance_events(user_id: str, limit: int = 20) -> list[AssuranceEvent]:
    return list(AssuranceEvent.select().where(AssuranceEvent.user_id == user_id)
                .order_by(AssuranceEvent.at.desc(), AssuranceEvent.id.desc()).limit(limit))
