"""The Redis GEO index of active halls (就近办的空间索引).

Redis GEO cannot filter by attributes, so besides one set of every hall there is one set per
service item and one per hall type; an item or type filter is then an exact GEOSEARCH on the
smaller set. Members are hall ids; positions are the stored GCJ-02 points.

    map:{geo}:all            every active hall
    map:{geo}:item:<code>    halls handling service item <code>
    map:{geo}:type:<type>    halls of <type>
    map:{geo}:keys           the names of all the sets above (so a rebuild can drop stale ones)
    map:{geo}:queue          hall id → "length|unix time" (live queue lengths, see service.push_queue)
    map:{geo}:version        bumped whenever hall attributes change (workers drop their cached cards);
                             missing means the index was never built in this Redis (service rebuilds it)

Every key carries the hash tag `{geo}`, as does the nearby search's per-IP counter
(`rl:map:{geo}:ip:<ip>`): under Redis Cluster the whole index is one slot, because a batch moves a
hall between sets in one MULTI, a rebuild swaps every set in one MULTI (RENAME), and the search
script reads a set, the version and the queue lengths and counts the IP in one call.

The database is the source of truth and is always written first; the index follows. Each
batch of index changes runs in MULTI/EXEC, so a failure leaves whole halls unindexed or
indexed as before, never half-moved; `rebuild` recreates everything from the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import redis as redis_lib

from app.redis import get_redis

TAG = "map:{geo}"  # the hash tag of every key below: one Redis Cluster slot
KEY_ALL = f"{TAG}:all"
KEYS = f"{TAG}:keys"
QUEUE = f"{TAG}:queue"
VERSION = f"{TAG}:version"
REBUILD_LOCK = f"{TAG}:rebuild-lock"
_BATCH = 2000  # halls per MULTI/EXEC


def item_key(code: str) -> str:
    return f"{TAG}:item:{code}"


def type_key(hall_type: str) -> str:
    return f"{TAG}:type:{hall_type}"


@dataclass(frozen=True)
class Placement:
    """Where one hall belongs in the index (or nowhere, when inactive)."""

    id: str
    lat: float
    lng: float
    type: str
    items: tuple[str, ...]
    active: bool = True

    def keys(self) -> set[str]:
        if not self.active:
            return set()
        return {KEY_ALL, type_key(self.type), *(item_key(c) for c in self.items)}


def search_key(*, item: str | None, hall_type: str | None) -> str:
    """The set a search walks: the item's (usually the smallest), else the type's, else all."""
    if item:
        return item_key(item)
    if hall_type:
        return type_key(hall_type)
    return KEY_ALL


def _batches(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _write(pipe, moves: list[tuple[set[str], Placement]], suffix: str = "") -> None:
    """Queue the commands moving each hall from its old sets to its new ones (GEOADD per set)."""
    adds: dict[str, list] = {}
    removals: dict[str, list[str]] = {}
    for old_keys, place in moves:
        new_keys = place.keys()
        for key in old_keys - new_keys:
            removals.setdefault(key + suffix, []).append(place.id)
        for key in new_keys:
            adds.setdefault(key + suffix, []).extend((place.lng, place.lat, place.id))
    for key, ids in removals.items():
        pipe.zrem(key, *ids)
    for key, values in adds.items():
        pipe.execute_command("GEOADD", key, *values)
    if adds and not suffix:
        pipe.sadd(KEYS, *adds)


def apply(moves: list[tuple[set[str], Placement]], client: redis_lib.Redis | None = None) -> None:
    """Bring the index in step with halls just committed to the database: `moves` pairs the sets a
    hall was in before (empty for a new hall) with where it belongs now. Bumps the version."""
    client = client or get_redis()
    for batch in _batches(moves, _BATCH):
        pipe = client.pipeline(transaction=True)
        _write(pipe, batch)
        pipe.execute()
    client.incr(VERSION)


def rebuild(placements: Iterable[Placement], queues: dict[str, str],
            client: redis_lib.Redis | None = None) -> int:
    """Recreate every set from `placements` (the database) under temporary names, then swap them
    in at once (RENAME in one MULTI/EXEC) and drop sets no hall belongs to any more."""
    client = client or get_redis()
    suffix = ":rebuild"
    count, built = 0, set()
    batch: list[tuple[set[str], Placement]] = []

    def flush() -> None:
        pipe = client.pipeline(transaction=False)
        _write(pipe, batch, suffix)
        pipe.execute()
        for _, place in batch:
            built.update(place.keys())
        batch.clear()

    for place in placements:
        if place.active:
            batch.append((set(), place))
            count += 1
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    old = set(client.smembers(KEYS)) | {KEY_ALL}
    pipe = client.pipeline(transaction=True)
    for key in built:  # (a cluster pipeline refuses its rename() helper, not the command)
        pipe.execute_command("RENAME", key + suffix, key)
    for key in old - built:
        pipe.delete(key)
    pipe.delete(KEYS, QUEUE)
    if built:
        pipe.sadd(KEYS, *built)
    pipe.incr(VERSION)
    pipe.execute()
    items = list(queues.items())
    for chunk in _batches(items, 10_000):
        client.hset(QUEUE, mapping=dict(chunk))
    return count


def keys_of_all() -> set[str]:
    return set(get_redis().smembers(KEYS))
