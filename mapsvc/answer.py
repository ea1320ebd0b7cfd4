"""A nearby answer's halls, as dicts (service.nearby: the home screen, tests) or as the JSON the
endpoint sends (service.nearby_json, UTF-8 bytes), the two equal: `json.dumps(nearby(...),
ensure_ascii=False, separators=(",", ":")).encode() == nearby_json(...)` (tests/mapsvc/test_answer.py).

The text is put together from pieces rendered once: a hall's fixed fields (id … location, and its
accessibility) are kept on its card per language and answer coordinate system (the card, and these
with it, is dropped when the index version changes, directory.py), a day's open-now, hours and
closed reason per language; only the distance and the queue are written per answer. Encoding twenty
nested halls with the json module cost more than the whole search.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flask import current_app

from app import i18n
from mapsvc import coords, hours
from mapsvc.directory import Day, HallCard

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
Interval = tuple[int, int]


# One hall of the answer: (exact distance, hall id, card, day, live queue "length|unix time" or None).
# A plain tuple: the ranking sorts them as they are (by distance, then id; ids are unique).
Found = tuple[float, str, HallCard, Day, str | None]


_HHMM: dict[tuple[Interval, ...], list[str]] = {}
# (intervals, reason, open now, language) → the JSON text of a day's fields (_render_day)
_TODAY: dict[tuple[tuple[Interval, ...], str | None, bool, str], bytes] = {}


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
    for distance, _, card, day, live in found:
        hall = _fixed(card, system)
        hall.update(distance_m=round(distance, 1), open_now=day.open_now,
                    today={"hours": list(_hhmm(day.intervals)), "closed_reason": hours.closed_reason_label(day.reason)},
                    queue=queue(live, now), accessibility=list(card.accessibility))
        out.append(hall)
    return out


def items_json(found: list[Found], system: str, now: float) -> bytes:
    """`{"items": [...]}` as UTF-8 JSON: what json.dumps of `{"items": items(...)}` writes (compact,
    characters unescaped), encoded."""
    lang = i18n.language()
    key = (lang, system)
    days: dict[int, bytes] = {}  # id(day) → its open-now and today fields: halls share days
    parts = []
    for distance, _, card, day, live in found:
        head, tail = card.rendered.get(key) or _render(card, lang, system)
        middle = days.get(id(day))
        if middle is None:
            middle = days[id(day)] = _TODAY.get((day.intervals, day.reason, day.open_now, lang)) or _render_day(day, lang)
        # b"%.1f" % d is repr(round(d, 1)) for 0 <= d < 1e12 (both round the exact value half-even
        # to one decimal; the shortest repr of that double is those digits), without a second dtoa
        parts.append(b"%s%.1f%s%s%s" % (head, distance, middle, _encode(queue(live, now)).encode() if live else b"null",
                                        tail))
    return b'{"items":[' + b",".join(parts) + b"]}"


def _render(card: HallCard, lang: str, system: str) -> tuple[bytes, bytes]:
    """A card's fixed fields as JSON: the text before the distance and the text after the queue."""
    fixed = _encode(_fixed(card, system))
    pieces = card.rendered[(lang, system)] = (
        (fixed[:-1] + ',"distance_m":').encode(), (',"accessibility":' + _encode(list(card.accessibility)) + "}").encode())
    return pieces


def _render_day(day: Day, lang: str) -> bytes:
    """The text between the distance and the queue: open-now and today's hours and closed reason."""
    if len(_TODAY) > 10_000:  # closures carry free-text reasons: keep the table bounded
        _TODAY.clear()
    today = _encode({"hours": _hhmm(day.intervals), "closed_reason": hours.closed_reason_label(day.reason)})
    text = _TODAY[(day.intervals, day.reason, day.open_now, lang)] = (
        f',"open_now":{"true" if day.open_now else "false"},"today":{today},"queue":').encode()
    return text
