"""Importing halls (`flask --app wsgi halls import FILE`) and rebuilding the index from the database.

Every record is validated on its own: bad ones are reported with their line number and Chinese
reasons, good ones are stored. A hall's `code` is the key: importing the same file again updates
the same halls (same ids), so an import is idempotent. Records are written in chunks: each chunk
is one database transaction (bulk statements), and only after its commit does the Redis index
follow (index.apply), so the index never claims a hall the database lacks. When the index write
fails the report says so and `halls reindex` recreates the index from the database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import peewee as pw
import redis as redis_lib

from app.db import db, execute, new_id, utcnow
from mapsvc import index
from mapsvc.models import Hall
from mapsvc.rows import HallRow, RowError, csv_records, geojson_records, validate

CHUNK = 5000

_HALL_COLUMNS = ("id", "code", "name", "type", "region_code", "address", "lat", "lng", "phone", "hours",
                 "holiday_rule", "closures", "accessibility", "active", "slot_minutes", "slot_capacity", "created_at",
                 "updated_at")
# A re-import keeps the id, creation time, appointment slot settings and the live queue length.
_UPDATED = [c for c in _HALL_COLUMNS if c not in ("id", "code", "slot_minutes", "slot_capacity", "created_at")]


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
    moves = _write_chunk(chunk, report)
    if report.index_error:
        return  # the index is already behind; `halls reindex` will catch up with everything
    try:
        index.apply(moves)
    except redis_lib.RedisError as exc:
        report.index_error = type(exc).__name__


def _in_marks(values: list) -> str:
    return ", ".join("?" * len(values))


def _existing(codes: list[str]) -> dict[str, tuple[str, set[str]]]:
    """code → (id, the index sets the hall is in now) for the halls already stored."""
    rows = execute(f"SELECT id, code, type, active FROM map_hall WHERE code IN ({_in_marks(codes)})", codes).fetchall()
    if not rows:
        return {}
    items: dict[str, list[str]] = {}
    ids = [r[0] for r in rows]
    for hall_id, item in execute(f"SELECT hall_id, item_code FROM map_hall_item WHERE hall_id IN ({_in_marks(ids)})",
                                 ids).fetchall():
        items.setdefault(hall_id, []).append(item)
    return {code: (hall_id, index.Placement(hall_id, 0, 0, hall_type, tuple(items.get(hall_id, ())),
                                            bool(active)).keys())
            for hall_id, code, hall_type, active in rows}


def _write_chunk(chunk: list[HallRow], report: ImportReport) -> list[tuple[set[str], index.Placement]]:
    now = Hall.updated_at.db_value(utcnow())
    moves, hall_rows, item_rows = [], [], []
    with db.atomic():
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
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in _UPDATED)
        _bulk("map_hall", _HALL_COLUMNS, hall_rows, f' ON CONFLICT ("code") DO UPDATE SET {updates}')
        old_ids = [hall_id for hall_id, _ in existing.values()]
        if old_ids:
            execute(f"DELETE FROM map_hall_item WHERE hall_id IN ({_in_marks(old_ids)})", old_ids)
        if item_rows:
            _bulk("map_hall_item", ("hall_id", "item_code", "item_name"), item_rows, "")
    return moves


def _bulk(table: str, columns: tuple[str, ...], rows: list[tuple], suffix: str) -> None:
    """INSERT many rows in one statement per page (execute_values on PostgreSQL, executemany on SQLite)."""
    names = ", ".join(f'"{c}"' for c in columns)
    if isinstance(db.obj, pw.PostgresqlDatabase):
        from psycopg2.extras import execute_values

        with db.cursor() as cursor:
            execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s{suffix}', rows, page_size=1000)
        return
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))}){suffix}'
    db.connection().executemany(sql, rows)


# --- Rebuilding the index ----------------------------------------------------------------------

def _placements(batch: int = 20_000) -> Iterator[index.Placement]:
    last = ""
    while True:
        rows = execute("SELECT id, lat, lng, type, active FROM map_hall WHERE id > ? ORDER BY id LIMIT ?",
                       [last, batch]).fetchall()
        if not rows:
            return
        ids = [r[0] for r in rows]
        items: dict[str, list[str]] = {}
        for hall_id, item in execute("SELECT hall_id, item_code FROM map_hall_item WHERE hall_id >= ? AND hall_id <= ?",
                                     [ids[0], ids[-1]]).fetchall():
            items.setdefault(hall_id, []).append(item)
        for hall_id, lat, lng, hall_type, active in rows:
            yield index.Placement(hall_id, lat, lng, hall_type, tuple(items.get(hall_id, ())), bool(active))
        last = ids[-1]


def rebuild_index() -> int:
    """Recreate the Redis index (and the live queue lengths) from the database; halls indexed."""
    queues = {hall_id: f"{length}|{int(at.timestamp())}" for hall_id, length, at in
              ((h.id, h.queue_length, h.queue_updated_at) for h in
               Hall.select(Hall.id, Hall.queue_length, Hall.queue_updated_at)
               .where(Hall.queue_length.is_null(False), Hall.active == True))  # noqa: E712
              if at is not None}
    return index.rebuild(_placements(), queues)


def error_lines(report: ImportReport) -> list[str]:
    """The report's bad records, one line each (for the CLI)."""
    return [f"第 {line} 行{f'（{code}）' if code else ''}：{'；'.join(reasons)}" for line, code, reasons in report.errors]


def summary(report: ImportReport) -> str:
    return json.dumps({"records": report.records, "created": report.created, "updated": report.updated,
                       "rejected": len(report.errors), "index": "out of step" if report.index_error else "in step"})
