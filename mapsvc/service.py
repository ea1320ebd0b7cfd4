"""Service map use cases: nearby halls (就近办), a hall's details, live queue lengths (排队人数).

A nearby query is one Redis round trip (a Lua script: the per-IP limit, GEOSEARCH in growing
circles on the set for the item or type asked, the index version and the queue lengths of the
halls found) plus, in this process, the halls' cards (directory.py) and exact distances. It asks Redis for a few more
halls than wanted and ranks them by the exact haversine distance from the stored GCJ-02 point
(Redis ranks by its 52-bit geohash cell, up to ~0.6 m off); when open-now or a second filter
drops halls it asks again for more.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import current_app

from app import audit, calendar, i18n
from app.db import unit_of_work, utcnow
from app.i18n import N_
from app.ratelimit import Limit, consume, limit_keys_and_args, raise_if_limited, script_with_limits
from app.redis import get_redis
from identity.service import client_serves_hall
from mapsvc import answer, coords, directory, hours, index, models
from mapsvc.demo import ANHUI_BOX, ANHUI_CITIES  # the demo halls' province (bench/map.py draws its points so)
from mapsvc.demo import _jitter as jitter_point
from mapsvc.errors import HallNotBound, HallNotFound
from mapsvc.importer import import_records, rebuild_index
from mapsvc.models import (  # hall_by_code: the demo seed finds its halls by code
    ACCESSIBILITY, Hall, HallItem, hall_by_code, hall_by_id, hall_item, hall_names_by_code, halls_by_id, item_names,
)
from mapsvc.schemas import MAX_LIMIT, MAX_RADIUS_M, check_searchable, latitude

# The map's public API: the use cases below, and what other features use of the map — hall rows and
# their items (appointments), a hall's plan for a day, and the request pieces the BFF reuses.
__all__ = [
    "NearbyQuery", "nearby", "nearby_json", "hall_detail", "push_queue", "ip_limit", "MAX_LIMIT", "MAX_RADIUS_M",
    "Hall", "HallItem", "HallNotFound", "active_hall", "hall_by_code", "hall_by_id", "hall_item", "halls_by_id", "item_names",
    "day_plan", "closed_reason_label", "coords", "check_searchable", "latitude",
    # hall set-up outside the HTTP API (bench/): the importer, the demo halls' province
    "import_records", "ANHUI_BOX", "ANHUI_CITIES", "jitter_point",
]
_EXTRA = 5  # halls asked beyond the limit, so that exact re-ranking settles near-ties at the cut
_MAX_FETCH = 2000
# GEOSEARCH costs O(halls in the circle), whatever COUNT says. The script searches 500 m first and
# doubles the radius up to the one asked until it has enough halls: when a smaller circle already
# holds `count` halls, they are the nearest ones, and a dense city costs a few dozen halls, not
# thousands. In a sparse area the extra small searches are cheap (few halls in them).
_FIRST_RADIUS_M = 500

_SEARCH = """
local n = #KEYS - 3
if n > 0 then
  local i, ttl = check_limits(n)
  if i ~= 0 then return {i, ttl} end
end
local a = 2 * n
local radius, count = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
local r = math.min(radius, tonumber(ARGV[a + 5]))
local ids
while true do
  ids = redis.call('GEOSEARCH', KEYS[n + 1], 'FROMLONLAT', ARGV[a + 1], ARGV[a + 2], 'BYRADIUS', r, 'm',
                   'ASC', 'COUNT', count)
  if #ids >= count or r >= radius then break end
  r = math.min(r * 2, radius)
end
local queues = {}
if #ids > 0 then queues = redis.call('HMGET', KEYS[n + 3], unpack(ids)) end
return {0, redis.call('GET', KEYS[n + 2]) or '0', ids, queues}
"""


@dataclass(frozen=True)
class NearbyQuery:
    lat: float  # GCJ-02
    lng: float
    radius_m: int = 5000
    limit: int = 20
    item: str | None = None
    hall_type: str | None = None
    open_now: bool = False
    answer_coord: str = "gcj02"


def ip_limit(ip: str) -> Limit:
    return _ip_limit(ip, current_app.config["MAP_PER_IP_MINUTE"])


@lru_cache(maxsize=4096)  # a Limit is immutable: the same one for an address's next queries
def _ip_limit(ip: str, per_minute: int) -> Limit:
    return Limit(f"{index.TAG}:ip:{ip}", per_minute, 60, "map_rate_limited", N_("查询过于频繁，请稍后再试。"))


def _search(query: NearbyQuery, count: int, limits: list[Limit]) -> tuple[str, list[str], list]:
    keys, args = limit_keys_and_args(limits)
    keys += [index.search_key(item=query.item, hall_type=query.hall_type), index.VERSION, index.QUEUE]
    args += [repr(query.lng), repr(query.lat), query.radius_m, count, _FIRST_RADIUS_M]
    answer = script_with_limits(_SEARCH)(keys=keys, args=args)
    if answer[0] != 0:
        raise_if_limited(limits, answer[0], answer[1])
    return answer[1], answer[2], answer[3]


def nearby(query: NearbyQuery, *, ip: str, now: datetime | None = None) -> dict[str, Any]:
    """Halls within `radius_m` of the point, nearest first, at most `limit`, that handle `item`,
    are of `hall_type` and (with `open_now`) are open at `now` in Beijing time."""
    found, at = _nearby(query, ip, now)
    return {"items": answer.items(found, query.answer_coord, at)}


def nearby_json(query: NearbyQuery, *, ip: str, now: datetime | None = None) -> bytes:
    """`nearby` as the JSON the endpoint sends (compact, characters unescaped, UTF-8)."""
    found, at = _nearby(query, ip, now)
    return answer.items_json(found, query.answer_coord, at)


def _nearby(query: NearbyQuery, ip: str, now: datetime | None) -> tuple[list[answer.Found], float]:
    local = calendar.china_now(now)
    today, minute = local.date(), local.hour * 60 + local.minute
    limits = [ip_limit(ip)]
    count = query.limit + _EXTRA + (query.limit * 2 if query.open_now or (query.item and query.hall_type) else 0)
    while True:
        version, ids, queues = _search(query, min(count, _MAX_FETCH), limits)
        limits = []  # a retry is the same request: counted once
        if version == "0" and _recover_index():
            continue
        found = _rank(query, ids, queues, version, today, minute)
        if len(found) >= query.limit or len(ids) < count or count >= _MAX_FETCH:
            return found, local.timestamp()
        count *= 4


def _recover_index() -> bool:
    """The index has never been built in this Redis (a fresh or restarted server without
    persistence, e.g. the embedded one after `demo seed` ran in another process): one process
    rebuilds it from the database while the others wait for it. True when it was rebuilt."""
    client = get_redis()
    if client.set(index.REBUILD_LOCK, "1", nx=True, ex=600):
        try:
            rebuild_index()
        finally:
            client.delete(index.REBUILD_LOCK)
        return True
    for _ in range(600):  # another worker is rebuilding: wait for it rather than answer nothing
        if not client.exists(index.REBUILD_LOCK):
            return True
        time.sleep(0.1)
    return False


def _rank(query: NearbyQuery, ids: list[str], queues: list, version: str, today: date,
          minute: int) -> list[answer.Found]:
    """The halls among `ids` that pass the filters, nearest first (ties by id), at most `limit`."""
    cards = directory.cards(ids, version)
    days = directory.days_at(today, minute)  # halls share schedules: each one's day is worked out once
    item, hall_type, radius, open_only = query.item, query.hall_type, query.radius_m, query.open_now
    p1, lng1 = math.radians(query.lat), query.lng
    cos_p1 = math.cos(p1)
    ranked = []
    for hall_id, queue in zip(ids, queues):
        card = cards.get(hall_id)
        if card is None or (hall_type and card.type != hall_type) or (item and item not in card.items):
            continue  # not in the database any more, or the index is behind it
        distance = coords.haversine_from(p1, cos_p1, lng1, card.rad_lat, card.cos_lat, card.lng)
        if distance > radius:
            continue
        day = directory.day_of(days, card.schedule, today, minute)
        if open_only and not day.open_now:
            continue
        ranked.append((distance, hall_id, card, day, queue))
    ranked.sort()  # by distance, then id (unique: the cards are never compared)
    del ranked[query.limit:]
    return ranked


def hall_detail(*, hall_id: str, ip: str, answer_coord: str = "gcj02", now: datetime | None = None) -> dict[str, Any]:
    """Everything about one active hall: weekly hours, closures, items, today's state, queue."""
    consume([ip_limit(ip)])
    hall = models.hall_by_id(hall_id)
    if hall is None or not hall.active:
        raise HallNotFound()
    schedule = hours.schedule_from_json(hall.hours, hall.holiday_rule, hall.closures)
    today = hours.today_state(schedule, now)
    items = [{"code": i.item_code, "name": i.item_name} for i in models.hall_items(hall.id)]
    queue = get_redis().hget(index.QUEUE, hall.id)
    current = calendar.china_now(now)
    return {
        "id": hall.id, "code": hall.code, "name": hall.name, "type": hall.type,
        "type_name": i18n.label("hall_type", hall.type), "address": hall.address, "region_code": hall.region_code,
        "location": answer.location(hall.lat, hall.lng, answer_coord), "phone": hall.phone,
        "hours": hours.weekly_text(schedule.weekly), "holiday_rule": hall.holiday_rule,
        "closures": [{"from": c.first, "to": c.last, "reason": c.reason} for c in schedule.closures
                     if c.last >= current.date()],
        "items": items, "today": today, "open_now": today["open_now"],
        "queue": answer.queue(queue, current.timestamp()),
        "accessibility": [{"code": k, "name": i18n.label("accessibility", k)} for k in json.loads(hall.accessibility or "[]")
                          if k in ACCESSIBILITY],
    }


def push_queue(*, client_id: str, hall_code: str, length: int) -> dict[str, Any]:
    """A hall's queue system reports how many people wait now (`halls:write`, and bound to the
    hall: `clients create --halls`). The database row and an audit row commit together; then the
    live value goes to Redis for nearby answers (after the commit)."""
    per_minute = current_app.config["MAP_QUEUE_PUSH_PER_MINUTE"]
    consume([Limit(f"map:queue:{client_id}:{hall_code}", per_minute, 60, "queue_push_rate_limited",
                   N_("排队人数上报过于频繁，请稍后再试。"))])
    at = utcnow().replace(microsecond=0)
    live = f"{length}|{int(at.timestamp())}"
    with unit_of_work() as uow:
        hall = models.hall_by_code(hall_code)
        if hall is None or not hall.active:
            raise HallNotFound()
        bound = client_serves_hall(client_id, hall_code)
        if not bound:  # another hall's queue system: refused, and the attempt is on the record
            audit.record("map.queue_push", outcome="refused", actor_kind="client", actor_id=client_id,
                         target=hall.id, details={"code": hall_code, "reason": "hall_not_bound"})
        else:
            models.set_queue(hall.id, length, at)
            audit.record("map.queue_push", actor_kind="client", actor_id=client_id, target=hall.id,
                         details={"code": hall_code, "length": length})
            uow.after_commit(_publish_queue, hall.id, live)
    if not bound:
        raise HallNotBound()
    return {"hall_id": hall.id, "code": hall.code, "queue": answer.queue(live, at.timestamp())}


def _publish_queue(hall_id: str, live: str) -> None:
    get_redis().hset(index.QUEUE, hall_id, live)


# --- For other features ----------------------------------------------------------------------------

def active_hall(hall_id: str) -> Hall:
    """An active hall, or 404 hall_not_found."""
    hall = hall_by_id(hall_id) if isinstance(hall_id, str) and len(hall_id) <= 32 else None
    if hall is None or not hall.active:
        raise HallNotFound()
    return hall


def day_plan(hall: Hall, day: date) -> tuple[tuple[tuple[int, int], ...], str | None]:
    """The hall's open intervals on `day` (minutes after midnight, Beijing time) and why it is closed
    that day (or None): its weekly hours, holiday rule and closures, with the holiday calendar."""
    return hours.day_plan(hours.schedule_from_json(hall.hours, hall.holiday_rule, hall.closures), day)


closed_reason_label = hours.closed_reason_label
