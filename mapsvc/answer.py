"""A nearby answer's halls, as dicts (service.nearby: the home screen, tests) or as the JSON text the
endpoint sends (service.nearby_json), the two equal: `json.dumps(nearby(...), ensure_ascii=False,
separators=(",", ":")) == nearby_json(...)` (tests/mapsvc/test_answer.py).

The text is put together from pieces rendered once: a hall's fixed fields (id … location, and its
accessibility) are kept on its card per language and answer coordinate system (the card, and these
with it, is dropped when the index version changes, directory.py), a day's hours and closed reason
per language; only the distance, open-now and the queue are written per answer. Encoding twenty
nested halls with the json module cost more than the whole search.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NamedTuple

from flask import current_app

from app import i18n
from mapsvc import coords, hours
from mapsvc.directory import HallCard

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
Interval = tuple[int, int]


class Day(NamedTuple):
    """A schedule's plan for the day asked, and whether it is open at the minute asked."""

    intervals: tuple[Interval, ...]
    reason: str | None
    open_now: bool


class Found(NamedTuple):
    """One hall of the answer: its exact distance, card, day and live queue ("length|unix time")."""

    distance: float
    card: HallCard
    day: Day
    queue: str | None


_HHMM: dict[tuple[Interval, ...], list[str]] = {}
_TODAY: dict[tuple[tuple[Interval, ...], str | None, str], str] = {}  # (intervals, reason, language) → JSON


def _hhmm(intervals: tuple[Interval, ...]) -> list[str]:
    found = _HHMM.get(intervals)
    if found is None:
        if len(_HHMM) > 10_000:
            _HHMM.clear()
        found = _HHMM[intervals] = [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in intervals]
    return found


def location(lat: float, lng: float, system: str) -> dict[str, Any]:
    """A stored GCJ-02 point as answers show it, in `system` (gcj02 | bd09)."""
    lat, lng = coords.from_gcj02(lat, lng, system)
    return {"lat": round(lat, 7), "lng": round(lng, 7), "coord": system}


def queue(value: str | None, now: float) -> dict[str, Any] | None:
    """The live queue length as answers show it, from its Redis form "length|unix time"."""
    if not value:
        return None
    length, _, at = value.partition("|")
    age = max(0, int(now - int(at)))
    return {"length": int(length), "updated_at": datetime.fromtimestamp(int(at), timezone.utc).isoformat(),
            "age_seconds": age, "stale": age > current_app.config["MAP_QUEUE_STALE_SECONDS"]}


def _fixed(card: HallCard, system: str) -> dict[str, Any]:
    """The fields that change only with the card (and the answer's language and coordinates)."""
    return {"id": card.id, "code": card.code, "name": card.name, "type": card.type,
            "type_name": i18n.label("hall_type", card.type), "address": card.address,
            "region_code": card.region_code, "location": location(card.lat, card.lng, system)}


def items(found: list[Found], system: str, now: float) -> list[dict[str, Any]]:
    """The answer's halls as dicts (every dict and list a new one)."""
    out = []
    for distance, card, day, live in found:
        hall = _fixed(card, system)
        hall.update(distance_m=round(distance, 1), open_now=day.open_now,
                    today={"hours": _hhmm(day.intervals), "closed_reason": hours.closed_reason_label(day.reason)},
                    queue=queue(live, now), accessibility=list(card.accessibility))
        out.append(hall)
    return out


def items_json(found: list[Found], system: str, now: float) -> str:
    """`{"items": [...]}` as JSON text (what json.dumps of `{"items": items(...)}` writes)."""
    lang = i18n.language()
    parts = []
    for distance, card, day, live in found:
        head, tail = card.rendered.get((lang, system)) or _render(card, lang, system)
        today = _TODAY.get((day.intervals, day.reason, lang)) or _render_today(day, lang)
        parts.append(f'{head}{round(distance, 1)!r},"open_now":{"true" if day.open_now else "false"},'
                     f'"today":{today},"queue":{_encode(queue(live, now)) if live else "null"}{tail}')
    return '{"items":[' + ",".join(parts) + "]}"


def _render(card: HallCard, lang: str, system: str) -> tuple[str, str]:
    """A card's fixed fields as JSON: the text before the distance and the text after the queue."""
    fixed = _encode(_fixed(card, system))
    pieces = card.rendered[(lang, system)] = (
        fixed[:-1] + ',"distance_m":', ',"accessibility":' + _encode(list(card.accessibility)) + "}")
    return pieces


def _render_today(day: Day, lang: str) -> str:
    if len(_TODAY) > 10_000:  # closures carry free-text reasons: keep the table bounded
        _TODAY.clear()
    text = _TODAY[(day.intervals, day.reason, lang)] = _encode(
        {"hours": _hhmm(day.intervals), "closed_reason": hours.closed_reason_label(day.reason)})
    return text
