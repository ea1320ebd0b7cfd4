"""Service map tables: halls (办事大厅/服务网点) and the service items (事项) each handles.

Coordinates are GCJ-02 (see coords.py). `hours`, `closures` and `accessibility` are JSON in the
written forms of hours.py; `items` live in their own table so the database can answer "which
halls handle item X" and the Redis GEO index can be rebuilt from it.

Every statement the map runs is below the tables: the hall lookups of the service (and of
appointments, through mapsvc.service), the card loads of directory.py (hand-written SQL on the
nearby hot path) and the bulk statements of an import and of an index rebuild (importer.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import peewee as pw
from psycopg2.extras import execute_values

from app import i18n
from app.db import BaseModel, UTCDateTimeField, db, execute, select_where, update_where, utcnow
from app.i18n import N_

HALL_TYPES = {
    "gov_center": N_("政务服务中心"),
    "community_center": N_("便民服务中心"),
    "community_station": N_("便民服务站"),
    "self_service_24h": N_("24小时自助服务区"),
    "bank_partner": N_("政银合作网点"),
    "police_station": N_("警务服务站"),
    "tax_office": N_("办税服务厅"),
    "social_security": N_("社保服务网点"),
}
ACCESSIBILITY = {
    "barrier_free": N_("无障碍设施"),
    "elderly_friendly": N_("适老化服务"),
    "assisted": N_("帮办代办"),
    "sign_language": N_("手语服务"),
}
i18n.register_labels("hall_type", HALL_TYPES)
i18n.register_labels("accessibility", ACCESSIBILITY)


class Hall(BaseModel):
    id = pw.CharField(primary_key=True, max_length=32)
    code = pw.CharField(max_length=64, unique=True)  # the hall's own code: the import key
    name = pw.CharField(max_length=128)
    type = pw.CharField(max_length=32, index=True)  # a key of HALL_TYPES
    region_code = pw.CharField(max_length=6, index=True)  # GB/T 2260
    address = pw.CharField(max_length=256)
    lat = pw.DoubleField()  # GCJ-02
    lng = pw.DoubleField()
    phone = pw.CharField(max_length=32, null=True)  # the hall's public service line
    hours = pw.TextField()  # JSON, hours.py written form
    holiday_rule = pw.CharField(max_length=8, default="closed")  # closed | open
    closures = pw.TextField(default="[]")  # JSON list of {from, to, reason}
    accessibility = pw.TextField(default="[]")  # JSON list of ACCESSIBILITY keys
    slot_minutes = pw.IntegerField(default=60)  # appointment slot length
    slot_capacity = pw.IntegerField(default=10)  # appointments per slot
    queue_length = pw.IntegerField(null=True)  # pushed by the hall's queue system
    queue_updated_at = UTCDateTimeField(null=True)
    active = pw.BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "map_hall"


class HallItem(BaseModel):
    hall = pw.ForeignKeyField(Hall, backref="items", on_delete="CASCADE")
    item_code = pw.CharField(max_length=64, index=True)  # 事项编码
    item_name = pw.CharField(max_length=128, null=True)

    class Meta:
        table_name = "map_hall_item"
        primary_key = pw.CompositeKey("hall", "item_code")


# --- Halls and their items ------------------------------------------------------------------------

def hall_by_id(hall_id: str) -> Hall | None:
    return select_where(Hall, id=hall_id)


def hall_by_code(code: str) -> Hall | None:
    return select_where(Hall, code=code)


def hall_names_by_code(codes: Iterable[str | None]) -> dict[str, str]:
    """code → name for the halls among `codes` (one query)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    # raw SQL: the counter verification's notice names the hall (no per-call statement building)
    return dict(execute(f'SELECT "code", "name" FROM "map_hall" WHERE "code" IN ({", ".join("?" * len(wanted))})',
                        wanted).fetchall())


def halls_by_id(ids: Iterable[str]) -> dict[str, Hall]:
    """id → hall for the halls among `ids` (one query)."""
    wanted = set(ids)
    return {h.id: h for h in Hall.select().where(Hall.id.in_(wanted))} if wanted else {}


def hall_item(hall_id: str, item_code: str) -> HallItem | None:
    return select_where(HallItem, hall=hall_id, item_code=item_code)


def hall_items(hall_id: str) -> list[HallItem]:
    """The hall's service items, by code."""
    return list(HallItem.select().where(HallItem.hall == hall_id).order_by(HallItem.item_code))


def item_names(hall_ids: Iterable[str]) -> dict[tuple[str, str], str | None]:
    """(hall id, item code) → item name for every item of these halls (one query)."""
    wanted = list(hall_ids)
    if not wanted:
        return {}
    return {(i.hall_id, i.item_code): i.item_name for i in HallItem.select().where(HallItem.hall.in_(wanted))}


def set_queue(hall_id: str, length: int, at: datetime) -> None:
    update_where(Hall, {"id": hall_id}, queue_length=length, queue_updated_at=at)


def live_queues() -> Iterable[tuple[str, int, datetime | None]]:
    """(id, queue length, reported at) of the active halls that have reported one."""
    return ((h.id, h.queue_length, h.queue_updated_at) for h in
            Hall.select(Hall.id, Hall.queue_length, Hall.queue_updated_at)
            .where(Hall.queue_length.is_null(False), Hall.active == True))  # noqa: E712


# --- Cards (directory.py): hand-written SQL, the nearby hot path ------------------------------------

CARD_COLUMNS = "id, code, name, type, address, region_code, lat, lng, hours, holiday_rule, closures, accessibility"


def _marks(values: list) -> str:
    return ", ".join("?" * len(values))


def active_card_rows(ids: list[str]) -> list[tuple]:
    """The CARD_COLUMNS of the active halls among `ids`."""
    return execute(f"SELECT {CARD_COLUMNS} FROM map_hall WHERE active = ? AND id IN ({_marks(ids)})",
                   [True, *ids]).fetchall()


def item_codes_of(ids: list[str]) -> list[tuple[str, str]]:
    """(hall id, item code) of every item of the halls `ids`."""
    return execute(f"SELECT hall_id, item_code FROM map_hall_item WHERE hall_id IN ({_marks(ids)})", ids).fetchall()


# --- Import and index rebuild (importer.py) ---------------------------------------------------------

HALL_COLUMNS = ("id", "code", "name", "type", "region_code", "address", "lat", "lng", "phone", "hours",
                "holiday_rule", "closures", "accessibility", "active", "slot_minutes", "slot_capacity", "created_at",
                "updated_at")
# A re-import keeps the id, creation time, appointment slot settings and the live queue length.
_UPDATED = [c for c in HALL_COLUMNS if c not in ("id", "code", "slot_minutes", "slot_capacity", "created_at")]
_UPSERT = ' ON CONFLICT ("code") DO UPDATE SET ' + ", ".join(f'"{c}" = excluded."{c}"' for c in _UPDATED)


def halls_by_code(codes: list[str]) -> list[tuple[str, str, str, bool]]:
    """(id, code, type, active) of the stored halls among `codes`."""
    return execute(f"SELECT id, code, type, active FROM map_hall WHERE code IN ({_marks(codes)})", codes).fetchall()


def upsert_halls(rows: list[tuple]) -> None:
    """Insert the halls (tuples in HALL_COLUMNS order), or update the stored ones of the same code."""
    _bulk("map_hall", HALL_COLUMNS, rows, _UPSERT)


def replace_items(old_ids: list[str], rows: list[tuple[str, str, str | None]]) -> None:
    """Drop the items of the halls `old_ids`, then insert `rows` (hall id, item code, item name)."""
    if old_ids:
        execute(f"DELETE FROM map_hall_item WHERE hall_id IN ({_marks(old_ids)})", old_ids)
    if rows:
        _bulk("map_hall_item", ("hall_id", "item_code", "item_name"), rows, "")


def _bulk(table: str, columns: tuple[str, ...], rows: list[tuple], suffix: str) -> None:
    """INSERT many rows in one statement per page (execute_values on PostgreSQL, executemany on SQLite)."""
    names = ", ".join(f'"{c}"' for c in columns)
    if isinstance(db.obj, pw.PostgresqlDatabase):
        with db.cursor() as cursor:
            execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s{suffix}', rows, page_size=1000)
        return
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))}){suffix}'
    db.connection().executemany(sql, rows)


def placement_rows(after: str, limit: int) -> list[tuple[str, float, float, str, bool]]:
    """(id, lat, lng, type, active) of the next `limit` halls by id after `after`."""
    return execute("SELECT id, lat, lng, type, active FROM map_hall WHERE id > ? ORDER BY id LIMIT ?",
                   [after, limit]).fetchall()


def item_codes_between(first: str, last: str) -> list[tuple[str, str]]:
    """(hall id, item code) of the items of the halls whose ids lie in [first, last]."""
    return execute("SELECT hall_id, item_code FROM map_hall_item WHERE hall_id >= ? AND hall_id <= ?",
                   [first, last]).fetchall()
