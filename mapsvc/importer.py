"""Importing halls (`flask --app wsgi halls import FILE`) and rebuilding the index from the database.

Every record is validated on its own: bad ones are reported with their line number and Chinese
reasons, good ones are stored. A hall's `code` is the key: importing the same file again updates
the same halls (same ids), so an import is idempotent. Records are written in chunks: each chunk
is one unit of work (bulk statements, models.py), and only after its commit does the Redis index
follow (index.apply, an after-commit callback), so the index never claims a hall the database lacks. When the index write
fails the report says so and `halls reindex` recreates the index from the database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import redis as redis_lib

from app.db import new_id, unit_of_work, utcnow
from mapsvc import index
from mapsvc.models import (
    Hall, halls_by_code, item_codes_between, item_codes_of, live_queues, placement_rows, replace_items, upsert_halls,
)
from mapsvc.rows import HallRow, RowError, csv_records, geojson_records, validate

CHUNK = 5000


@dataclass
class ImportReport:
    records: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line, code, reasons)
    index_error: str | None = None

    @property
    def imported(self) -> int:
        return self.created + self.updated


def read_file(path: str, fmt: str | None = None) -> Iterator[tuple[int, dict]]:
    """The records of a CSV or GeoJSON file (by `fmt` or the file name's ending)."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    fmt = fmt or ("geojson" if path.lower().endswith((".geojson", ".json")) else "csv")
    return geojson_records(text) if fmt == "geojson" else csv_records(text)


def import_records(records: Iterable[tuple[int, dict]], system: str = "gcj02") -> ImportReport:
    """Validate and store every record; see the module docstring."""
    report = ImportReport()
    seen: dict[str, int] = {}
    chunk: list[HallRow] = []
    for line, raw in records:
        report.records += 1
        try:
            row = validate(raw, system)
        except RowError as exc:
            report.errors.append((line, str(raw.get("code") or "")[:64], exc.reasons))
            continue
        if row.code in seen:
            report.errors.append((line, row.code, [f"网点编码与第 {seen[row.code]} 行重复。"]))
            continue
        seen[row.code] = line
        chunk.append(row)
        if len(chunk) >= CHUNK:
            _store(chunk, report)
            chunk = []
    if chunk:
        _store(chunk, report)
    return report


def _store(chunk: list[HallRow], report: ImportReport) -> None:
    """One chunk in one unit of work; the index follows once the rows are committed."""
    with unit_of_work() as uow:
        moves = _write_chunk(chunk, report)
        uow.after_commit(_follow_in_index, moves, report)


def _follow_in_index(moves: list[tuple[set[str], index.Placement]], report: ImportReport) -> None:
    if report.index_error:
        return  # the index is already behind; `halls reindex` will catch up with everything
    try:
        index.apply(moves)
    except redis_lib.RedisError as exc:
        report.index_error = type(exc).__name__


def _existing(codes: list[str]) -> dict[str, tuple[str, set[str]]]:
    """code → (id, the index sets the hall is in now) for the halls already stored."""
    rows = halls_by_code(codes)
    if not rows:
        return {}
    items: dict[str, list[str]] = {}
    for hall_id, item in item_codes_of([r[0] for r in rows]):
        items.setdefault(hall_id, []).append(item)
    return {code: (hall_id, index.Placement(hall_id, 0, 0, hall_type, tuple(items.get(hall_id, ())),
                                            bool(active)).keys())
            for hall_id, code, hall_type, active in rows}


def _write_chunk(chunk: list[HallRow], report: ImportReport) -> list[tuple[set[str], index.Placement]]:
    """Store the chunk (in the caller's unit of work); the index moves it needs."""
    now = Hall.updated_at.db_value(utcnow())
    moves, hall_rows, item_rows = [], [], []  # hall rows in models.HALL_COLUMNS order
    existing = _existing([r.code for r in chunk])
    for row in chunk:
        hall_id, old_keys = existing.get(row.code, (None, set()))
        if hall_id is None:
            hall_id = new_id("hall")
            report.created += 1
        else:
            report.updated += 1
        hall_rows.append((hall_id, row.code, row.name, row.type, row.region_code, row.address, row.lat, row.lng,
                          row.phone, row.hours, row.holiday_rule, row.closures, row.accessibility, row.active,
                          Hall.slot_minutes.default, Hall.slot_capacity.default, now, now))
        item_rows += [(hall_id, code, name) for code, name in row.items]
        moves.append((old_keys, index.Placement(hall_id, row.lat, row.lng, row.type,
                                                tuple(c for c, _ in row.items), row.active)))
    upsert_halls(hall_rows)
    replace_items([hall_id for hall_id, _ in existing.values()], item_rows)
    return moves


# --- Rebuilding the index ----------------------------------------------------------------------

def _placements(batch: int = 20_000) -> Iterator[index.Placement]:
    last = ""
    while True:
        rows = placement_rows(last, batch)
        if not rows:
            return
        ids = [r[0] for r in rows]
        items: dict[str, list[str]] = {}
        for hall_id, item in item_codes_between(ids[0], ids[-1]):
            items.setdefault(hall_id, []).append(item)
        for hall_id, lat, lng, hall_type, active in rows:
            yield index.Placement(hall_id, lat, lng, hall_type, tuple(items.get(hall_id, ())), bool(active))
        last = ids[-1]


def rebuild_index() -> int:
    """Recreate the Redis index (and the live queue lengths) from the database; halls indexed."""
    queues = {hall_id: f"{length}|{int(at.timestamp())}" for hall_id, length, at in live_queues() if at is not None}
    return index.rebuild(_placements(), queues)


def error_lines(report: ImportReport) -> list[str]:
    """The report's bad records, one line each (for the CLI)."""
    return [f"第 {line} 行{f'（{code}）' if code else ''}：{'；'.join(reasons)}" for line, code, reasons in report.errors]


def summary(report: ImportReport) -> str:
    return json.dumps({"records": report.records, "created": report.created, "updated": report.updated,
                       "rejected": len(report.errors), "index": "out of step" if report.index_error else "in step"})
