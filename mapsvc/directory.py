"""This process's copy of what a nearby answer shows about each hall (its card).

A nearby query gets hall ids from Redis; the name, type, address, position, hours, items and
accessibility of each come from here, not from the database. Cards are loaded on first sight
(one query for all the ids a request misses) and dropped as a whole when the index version in
Redis (`map:{geo}:version`, bumped by every import and rebuild) differs from the one they were loaded
under. Schedules are shared between halls with the same hours, and a schedule's day (its plan for
the day, open or not) is worked out once per minute and process, so open-now costs a dict lookup
per candidate. A card
also keeps its latitude in radians with its cosine (the hall's half of the haversine) and, once
rendered, the JSON text of its fixed fields (answer.py): both go with the card when it is dropped.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Iterable, Mapping, NamedTuple

from mapsvc import hours
from mapsvc.models import ACCESSIBILITY, HALL_TYPES, active_card_rows, item_codes_of

MAX_CARDS = 200_000  # per process; when full the oldest half goes


@dataclass(frozen=True, slots=True)
class HallCard:
    id: str
    code: str
    name: str
    type: str
    address: str
    region_code: str
    lat: float
    lng: float
    schedule: hours.Schedule
    accessibility: tuple[str, ...]
    items: frozenset[str]
    rad_lat: float = 0.0  # math.radians(lat)
    cos_lat: float = 1.0  # math.cos(rad_lat)
    # (language, answer coordinate system) → the JSON text of the fixed fields (answer.py)
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def type_name(self) -> str:
        return HALL_TYPES.get(self.type, self.type)


_state: dict = {"version": None, "cards": {}}
_schedules: dict[tuple[str, str, str], hours.Schedule] = {}
_accessibility: dict[str, tuple[str, ...]] = {}
# schedule id → (schedule, its Day) at one (day, minute); a new table for another minute, and at
# least every 60 s (so that a change of the holiday calendar shows within a minute). The entry holds
# the schedule, so its id cannot be reused by another while the entry lives.
_days: dict = {"at": None, "since": 0.0, "table": {}}


class Day(NamedTuple):
    """A schedule's plan for a day (open intervals, why closed) and whether it is open at a minute."""

    intervals: tuple[tuple[int, int], ...]
    reason: str | None
    open_now: bool


def schedule_of(hours_json: str, holiday_rule: str, closures_json: str | None) -> hours.Schedule:
    """The (shared) schedule for these stored columns."""
    key = (hours_json, holiday_rule, closures_json or "[]")
    found = _schedules.get(key)
    if found is None:
        if len(_schedules) > 50_000:
            _schedules.clear()
        found = _schedules[key] = hours.schedule_from_json(hours_json, holiday_rule, closures_json)
    return found


def _accessibility_of(text: str | None) -> tuple[str, ...]:
    found = _accessibility.get(text or "[]")
    if found is None:
        found = _accessibility[text or "[]"] = tuple(k for k in json.loads(text or "[]") if k in ACCESSIBILITY)
    return found


def days_at(day: date, minute: int) -> dict[int, tuple[hours.Schedule, Day]]:
    """The table of schedules' days at `day` and `minute` (Beijing time): look a schedule up by
    its id, fill a miss with `day_of`."""
    now = time.monotonic()
    if _days["at"] != (day, minute) or now - _days["since"] > 60:
        _days.update(at=(day, minute), since=now, table={})
    return _days["table"]


def day_of(table: dict[int, tuple[hours.Schedule, Day]], schedule: hours.Schedule, day: date, minute: int) -> Day:
    """The schedule's Day from `table` (days_at(day, minute)), worked out on a miss."""
    entry = table.get(id(schedule))
    if entry is None or entry[0] is not schedule:
        intervals, reason = hours.day_plan(schedule, day)
        entry = table[id(schedule)] = (schedule, Day(intervals, reason, any(s <= minute < e for s, e in intervals)))
    return entry[1]


def _load(ids: list[str]) -> dict[str, HallCard]:
    """The cards of the active halls among `ids` (models.CARD_COLUMNS, 500 ids a query)."""
    cards: dict[str, HallCard] = {}
    for start in range(0, len(ids), 500):
        found = {row[0]: row for row in active_card_rows(ids[start:start + 500])}
        items: dict[str, set[str]] = {}
        if found:
            for hall_id, code in item_codes_of(list(found)):
                items.setdefault(hall_id, set()).add(code)
        for hall_id, row in found.items():
            rad_lat = math.radians(row[6])
            cards[hall_id] = HallCard(
                id=row[0], code=row[1], name=row[2], type=row[3], address=row[4], region_code=row[5],
                lat=row[6], lng=row[7], schedule=schedule_of(row[8], row[9], row[10]),
                accessibility=_accessibility_of(row[11]), items=frozenset(items.get(hall_id, ())),
                rad_lat=rad_lat, cos_lat=math.cos(rad_lat))
    return cards


def cards(ids: Iterable[str], version: str) -> Mapping[str, HallCard]:
    """A mapping that holds the card of each of `ids` that names an active hall (ids the database
    lacks are not in it; it may hold other halls' cards too: look `ids` up, do not iterate it)."""
    if _state["version"] != version:
        _state["cards"] = {}
        _state["version"] = version
    known: dict[str, HallCard] = _state["cards"]
    missing = [i for i in ids if i not in known]
    if missing:
        loaded = _load(missing)
        if len(known) + len(loaded) > MAX_CARDS:  # a new dict: a request holding the old one keeps its cards
            known = _state["cards"] = dict(islice(known.items(), len(known) // 2, None))
        known.update(loaded)
    return known


def forget() -> None:
    """Drop this process's cards (tests; the version check does it in service)."""
    _state["version"] = None
    _state["cards"] = {}
    _days.update(at=None, table={})
