"""One hall as an import file gives it: validation with Chinese reasons, and the file formats.

CSV (UTF-8, header row) and GeoJSON (a FeatureCollection of Points, the same names as
properties) carry these fields:

    code, name, type, region_code, address, lat, lng (not in GeoJSON: the geometry),
    phone, hours, holiday_rule, closures, items, accessibility, active

`type` is a key of HALL_TYPES or its Chinese name; `hours` and `closures` are the JSON written
forms of hours.py; `items` is "CODE:名称;CODE:名称" in CSV (a list of codes or {code, name} in
GeoJSON); `accessibility` is "barrier_free;assisted" (keys or Chinese names); `active` 1/0.
Positions are in the coordinate system the operator names (`--coord`) and stored as GCJ-02.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from mapsvc import coords, hours, regions
from mapsvc.models import ACCESSIBILITY, HALL_TYPES

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_ITEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_PHONE = re.compile(r"[0-9+\-() ]{3,32}")
_TYPE_BY_NAME = {name: key for key, name in HALL_TYPES.items()}
_ACCESS_BY_NAME = {name: key for key, name in ACCESSIBILITY.items()}
FIELDS = ("code", "name", "type", "region_code", "address", "lat", "lng", "phone", "hours", "holiday_rule",
          "closures", "items", "accessibility", "active")


@dataclass(frozen=True)
class HallRow:
    """A validated hall, ready to store (position in GCJ-02, hours in canonical JSON)."""

    code: str
    name: str
    type: str
    region_code: str
    address: str
    lat: float
    lng: float
    phone: str | None
    hours: str
    holiday_rule: str
    closures: str
    accessibility: str
    items: tuple[tuple[str, str | None], ...]
    active: bool


class RowError(ValueError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("；".join(reasons))
        self.reasons = reasons


_parsed_hours: dict[str, str] = {}  # written form → canonical JSON (import files repeat a few forms)
_parsed_closures: dict[str, str] = {}


def _text(raw: dict, key: str, reasons: list[str], label: str, max_len: int, required: bool = True) -> str | None:
    value = raw.get(key)
    value = "" if value is None else str(value).strip()
    if not value:
        if required:
            reasons.append(f"缺少{label}（{key}）。")
        return None
    if len(value) > max_len:
        reasons.append(f"{label}过长（最多{max_len}字）。")
    return value


def _json_field(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _hours(raw: dict, reasons: list[str]) -> str | None:
    value = raw.get("hours")
    if value in (None, ""):
        reasons.append("缺少办公时间（hours）。")
        return None
    key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    found = _parsed_hours.get(key)
    if found is None:
        try:
            weekly = hours.parse_weekly(_json_field(value))
        except json.JSONDecodeError:
            reasons.append("办公时间不是有效的 JSON。")
            return None
        except hours.HoursError as exc:
            reasons.append(f"办公时间有误：{exc}")
            return None
        found = _parsed_hours[key] = json.dumps(hours.weekly_text(weekly), ensure_ascii=False, separators=(",", ":"))
    return found


def _closures(raw: dict, reasons: list[str]) -> str:
    value = raw.get("closures")
    if value in (None, ""):
        return "[]"
    key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    found = _parsed_closures.get(key)
    if found is None:
        try:
            parsed = hours.parse_closures(_json_field(value))
        except json.JSONDecodeError:
            reasons.append("临时闭馆不是有效的 JSON。")
            return "[]"
        except hours.HoursError as exc:
            reasons.append(f"临时闭馆有误：{exc}")
            return "[]"
        found = _parsed_closures[key] = json.dumps(
            [{"from": c.first.isoformat(), "to": c.last.isoformat(), "reason": c.reason} for c in parsed],
            ensure_ascii=False, separators=(",", ":"))
    return found


def _position(raw: dict, system: str, reasons: list[str]) -> tuple[float, float] | None:
    try:
        lat, lng = float(raw.get("lat")), float(raw.get("lng"))
    except (TypeError, ValueError):
        reasons.append("经纬度（lat、lng）应为数字。")
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        reasons.append("经纬度超出范围（纬度 -90～90，经度 -180～180）。")
        return None
    if coords.outside_china(lat, lng):
        reasons.append("坐标不在中国境内，请检查经纬度是否写反或坐标系是否正确。")
        return None
    return coords.to_gcj02(lat, lng, system)


def _items(raw: dict, reasons: list[str]) -> tuple[tuple[str, str | None], ...]:
    value = raw.get("items")
    if value in (None, ""):
        return ()
    entries: list[tuple[str, str | None]] = []
    if isinstance(value, str):
        for part in value.split(";"):
            code, _, name = part.strip().partition(":")
            if code.strip():
                entries.append((code.strip(), name.strip() or None))
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, dict):
                entries.append((str(part.get("code") or "").strip(), (str(part.get("name") or "").strip() or None)))
            else:
                entries.append((str(part).strip(), None))
    else:
        reasons.append("事项（items）格式有误。")
        return ()
    seen: dict[str, str | None] = {}
    for code, name in entries:
        if not _ITEM.fullmatch(code):
            reasons.append(f"事项编码“{code[:20]}”格式有误（字母、数字、-_.，最多64位）。")
        elif name is not None and len(name) > 128:
            reasons.append(f"事项“{code}”的名称过长。")
        else:
            seen[code] = name if name is not None else seen.get(code)
    return tuple(seen.items())


def _accessibility(raw: dict, reasons: list[str]) -> str:
    value = raw.get("accessibility")
    if value in (None, ""):
        return "[]"
    parts = value.split(";") if isinstance(value, str) else value if isinstance(value, list) else None
    if parts is None:
        reasons.append("无障碍与便民服务（accessibility）格式有误。")
        return "[]"
    keys = []
    for part in (str(p).strip() for p in parts):
        key = part if part in ACCESSIBILITY else _ACCESS_BY_NAME.get(part)
        if key is None:
            reasons.append(f"未知的便民服务“{part[:20]}”。")
        elif key not in keys:
            keys.append(key)
    return json.dumps(keys)


def _active(raw: dict, reasons: list[str]) -> bool:
    value = str(raw.get("active", "1") if raw.get("active") is not None else "1").strip().lower()
    if value in ("", "1", "true", "yes", "是"):
        return True
    if value in ("0", "false", "no", "否"):
        return False
    reasons.append("active 应为 1 或 0。")
    return True


def validate(raw: dict, system: str) -> HallRow:
    """The hall in `raw` (strings or JSON values), or RowError listing every reason (Chinese)."""
    reasons: list[str] = []
    code = _text(raw, "code", reasons, "网点编码", 64)
    if code and not _CODE.fullmatch(code):
        reasons.append("网点编码只能含字母、数字和 -_.，最多64位。")
    name = _text(raw, "name", reasons, "网点名称", 128)
    type_text = _text(raw, "type", reasons, "网点类型", 32)
    hall_type = None
    if type_text:
        hall_type = type_text if type_text in HALL_TYPES else _TYPE_BY_NAME.get(type_text)
        if hall_type is None:
            reasons.append(f"未知的网点类型“{type_text}”（可用：{'、'.join(HALL_TYPES)}）。")
    region = _text(raw, "region_code", reasons, "行政区划代码", 6 + 10)
    if region:
        problem = regions.region_error(region)
        if problem:
            reasons.append(problem)
    address = _text(raw, "address", reasons, "地址", 256)
    position = _position(raw, system, reasons)
    phone = _text(raw, "phone", reasons, "电话", 32, required=False)
    if phone and not _PHONE.fullmatch(phone):
        reasons.append("电话格式有误。")
    weekly = _hours(raw, reasons)
    rule = str(raw.get("holiday_rule") or "closed").strip()
    if rule not in hours.HOLIDAY_RULES:
        reasons.append("节假日规则（holiday_rule）应为 closed 或 open。")
    closures = _closures(raw, reasons)
    items = _items(raw, reasons)
    accessibility = _accessibility(raw, reasons)
    active = _active(raw, reasons)
    if reasons:
        raise RowError(reasons)
    return HallRow(code=code, name=name, type=hall_type, region_code=region, address=address, lat=position[0],
                   lng=position[1], phone=phone, hours=weekly, holiday_rule=rule, closures=closures,
                   accessibility=accessibility, items=items, active=active)


# --- File formats: (line number, raw fields) per record --------------------------------------------

def csv_records(text: str) -> Iterator[tuple[int, dict]]:
    """Each CSV record with the line it starts on (the header is line 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    start = 2
    for record in reader:
        yield start, {k.strip(): v for k, v in record.items() if isinstance(k, str)}
        start = reader.line_num + 1


_FEATURES = re.compile(r'"features"\s*:\s*\[')


def geojson_records(text: str) -> Iterator[tuple[int, dict]]:
    """Each feature of a FeatureCollection with the line it starts on; geometry → lat, lng."""
    document = json.loads(text)  # JSONDecodeError: the caller reports the whole file
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise ValueError("GeoJSON 文件应为 FeatureCollection。")
    lines = _feature_lines(text, len(document["features"]))
    for index, feature in enumerate(document["features"]):
        raw: dict = {}
        if isinstance(feature, dict):
            raw = dict(feature.get("properties") or {})
            geometry = feature.get("geometry") or {}
            point = geometry.get("coordinates") if geometry.get("type") == "Point" else None
            if isinstance(point, list) and len(point) >= 2:
                raw["lng"], raw["lat"] = point[0], point[1]
            else:
                raw["lat"] = raw["lng"] = None
        yield lines[index], raw


def _feature_lines(text: str, count: int) -> list[int]:
    """The line each feature starts on (decoding the array element by element)."""
    match = _FEATURES.search(text)
    decoder = json.JSONDecoder()
    lines, pos = [], match.end() if match else len(text)
    line, counted = 1, 0
    while match and len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        pos = end
    return lines + [0] * (count - len(lines))
