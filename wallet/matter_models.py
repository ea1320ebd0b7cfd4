"""The catalogue of matters as stored (用证事项, issue 17): the table and the queries wallet/matters.py
runs on it. The counter's hot path reads one matter by its code with a prebuilt statement."""
from __future__ import annotations

from collections.abc import Iterable

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, select_one, utcnow


class MatterRecord(BaseModel):
    """A matter of the catalogue as stored (wallet/matters.py reads it into a `Matter`): its names and
    legal basis in both languages, per accepted licence type the fields it discloses and how (JSON),
    active or not. Never deleted: checks and usage records name it."""

    code = pw.CharField(primary_key=True, max_length=32)
    name_zh = pw.CharField(max_length=64)
    name_en = pw.CharField(max_length=128)
    legal_basis_zh = pw.CharField(max_length=500)
    legal_basis_en = pw.CharField(max_length=500)
    disclosures = pw.TextField()  # JSON: [[licence type, [[field, how], ...]], ...] in order
    active = pw.BooleanField(default=True)
    version = pw.IntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "wallet_matter"


def matter_by_code(code: str) -> MatterRecord | None:
    """One matter by its code (the counter's hot path: one prebuilt statement)."""
    return select_one(MatterRecord, MatterRecord.code, code)


def matters(*, active_only: bool) -> list[MatterRecord]:
    """The catalogue's matters in code order (the active ones only, or all)."""
    query = MatterRecord.select()
    if active_only:
        query = query.where(MatterRecord.active == True)  # noqa: E712 (a peewee expression)
    return list(query.order_by(MatterRecord.code))


def matters_by_codes(codes: Iterable[str]) -> dict[str, MatterRecord]:
    """The matters with these codes, active or not (usage records name old ones too)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return {m.code: m for m in MatterRecord.select().where(MatterRecord.code.in_(wanted))}


def insert_matter(**values) -> MatterRecord | None:
    """A new matter; None when the code is taken."""
    return insert_row(MatterRecord, ignore_conflict=True, **values)


def update_matter(code: str, *, version: int, **values) -> int:
    """Change a matter if it is still at `version` (its version goes up by one): 1 changed, 0 not."""
    return (MatterRecord.update(version=MatterRecord.version + 1, **values)
            .where((MatterRecord.code == code) & (MatterRecord.version == version)).execute())
