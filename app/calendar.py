"""The public-holiday calendar (节假日与调休), in China time (app.clock).

A day is a working day when it is Monday–Friday and not a statutory holiday, or when it is a
make-up working day (调休上班, usually a weekend day). The arrangement comes each November from
the State Council's notice (国务院办公厅关于部分节假日安排的通知). Where a day's answer comes
from, the first that has it:

1. rows in `map_calendar_day` (admin: `flask --app wsgi calendar set`);
2. the override file app/calendar_overrides.toml: a year's notice before the package has it
   (`[notice.YYYY]`) and the province's own days (`[local]`), read once per process;
3. the maintained `chinesecalendar` package (import name `chinese_calendar`);
4. for a year with no official data, the fixed-date statutory holidays (元旦 1 Jan, 劳动节 1–2 May,
   国庆节 1–3 Oct); the lunar ones cannot be computed here.

"Official data for a year" (`official_source`): the package has it when it answers for that year —
it answers from its first to its last year of notices and raises NotImplementedError outside
(chinesecalendar 1.11: 2004–2026; each release adds the year just published, so upgrading it in
November/December is the normal way to get next year) — or the file has the year's `[notice.YYYY]`,
or there are `calendar set` rows dated in that year. `flask doctor` warns while next year has none
(`check_years`, registered by `init_app`), and `make run` prints that warning (`flask calendar check`).
"""
from __future__ import annotations

import time
import tomllib
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import peewee as pw
from flask import Flask

from app import clock, doctor
from app.config import ConfigError
from app.db import BaseModel, unit_of_work
from app.i18n import N_

CHINA = clock.CHINA_TZ  # re-exported: features name it calendar.CHINA
HOLIDAY, WORKDAY = "holiday", "workday"
OVERRIDES_FILE = Path(__file__).with_name("calendar_overrides.toml")
PACKAGE = f"chinesecalendar {chinese_calendar.__version__}"


class CalendarDay(BaseModel):
    day = pw.DateField(primary_key=True)
    kind = pw.CharField(max_length=8)  # holiday | workday
    name = pw.CharField(max_length=32)

    class Meta:
        table_name = "map_calendar_day"


# The holidays' names, translated in answers (the catalogue, app/i18n.py; names set with
# `calendar set` or in the override file that are not here stay as written).
HOLIDAY_NAMES = (N_("元旦"), N_("春节"), N_("清明节"), N_("劳动节"), N_("端午节"), N_("中秋节"), N_("国庆节"))
_FIXED = {(1, 1): "元旦", (5, 1): "劳动节", (5, 2): "劳动节", (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节"}
# The package names its holidays in English (its Holiday enum); our names are those of the notices.
_PACKAGE_NAMES = {"new_years_day": "元旦", "spring_festival": "春节", "tomb_sweeping_day": "清明节",
                  "labour_day": "劳动节", "dragon_boat_festival": "端午节", "mid_autumn_festival": "中秋节",
                  "national_day": "国庆节"}


def _package_name(value: str) -> str:
    holiday = chinese_calendar.Holiday(value)
    return _PACKAGE_NAMES.get(holiday.name, holiday.chinese)


def _package_table() -> dict[date, tuple[str, str]]:
    table = {day: (HOLIDAY, _package_name(value)) for day, value in chinese_calendar.holidays.items()}
    table.update({day: (WORKDAY, f"{_package_name(value)}调休上班")
                  for day, value in chinese_calendar.workdays.items()})
    return table


PACKAGE_DAYS = _package_table()


@cache
def package_has(year: int) -> bool:
    """The package's own answer: it raises NotImplementedError for a year it has no notice for."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# The override file ------------------------------------------------------------------------------

_file: dict[str, object] = {}


def _entry_days(entry: object, where: str, year: int | None) -> dict[date, tuple[str, str]]:
    if not isinstance(entry, dict) or set(entry) - {"from", "to", "kind", "name"}:
        raise ValueError(f"{where}: an entry is a table {{from, to?, kind, name}}")
    try:
        first = date.fromisoformat(str(entry["from"]))
        last = date.fromisoformat(str(entry.get("to", entry["from"])))
        kind, name = entry["kind"], str(entry["name"]).strip()
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{where}: {entry}: {type(exc).__name__} {exc}") from None
    if kind not in (HOLIDAY, WORKDAY) or not 0 < len(name) <= 32 or not 0 <= (last - first).days < 31:
        raise ValueError(f"{where}: {entry}: kind holiday|workday, a name of 1–32 characters, "
                         "from ≤ to within 31 days")
    if year is not None and not first.year == last.year == year:
        raise ValueError(f"{where}: {entry}: a day outside {year}")
    return {first + timedelta(days=i): (kind, name) for i in range((last - first).days + 1)}


def parse_overrides(text: str) -> tuple[dict[date, tuple[str, str]], frozenset[int]]:
    """The file's days and the years it holds a notice for; ValueError names what is wrong."""
    data = tomllib.loads(text)
    if set(data) - {"notice", "local"}:
        raise ValueError(f"unknown section(s): {', '.join(sorted(set(data) - {'notice', 'local'}))}")
    sections = [(f"notice.{key}", int(key) if key.isdigit() else -1, table)
                for key, table in data.get("notice", {}).items()]
    sections.append(("local", None, data.get("local", {"days": []})))
    days: dict[date, tuple[str, str]] = {}
    for where, year, table in sections:
        if year == -1 or not isinstance(table, dict) or set(table) - {"source", "days"} \
                or not isinstance(table.get("days"), list):
            raise ValueError(f"{where}: a [notice.YYYY] or [local] table with a `days` list")
        for entry in table["days"]:
            found = _entry_days(entry, where, year)
            twice = sorted(set(found) & set(days))
            if twice:
                raise ValueError(f"{where}: {twice[0].isoformat()} is listed twice")
            days.update(found)
    return days, frozenset(int(key) for key in data.get("notice", {}))


def load_overrides(path: Path | str | None = None) -> None:
    """Read the override file (at start, by init_app; tests point it elsewhere). A missing file is
    an empty one; a malformed one is a ConfigError naming the file and the entry."""
    path = Path(path or OVERRIDES_FILE)
    try:
        days, years = parse_overrides(path.read_text(encoding="utf-8")) if path.exists() else ({}, frozenset())
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}", headline="calendar override file") from None
    _file.update(path=path, days=days, years=years)


def _file_days() -> dict[date, tuple[str, str]]:
    if not _file:
        load_overrides()
    return _file["days"]  # type: ignore[return-value]


def _file_years() -> frozenset[int]:
    _file_days()
    return _file["years"]  # type: ignore[return-value]


# The database rows ------------------------------------------------------------------------------

_REFRESH_SECONDS = 60
_cache: dict[str, object] = {"loaded": 0.0, "rows": {}, "years": frozenset()}


def _rows() -> dict[date, tuple[str, str]]:
    """The database rows, re-read at most once a minute per process (the table is tiny)."""
    now = time.monotonic()
    if now - float(_cache["loaded"]) > _REFRESH_SECONDS:
        rows = {r.day: (r.kind, r.name) for r in CalendarDay.select()}
        _cache.update(rows=rows, years=frozenset(d.year for d in rows), loaded=now)
    return _cache["rows"]  # type: ignore[return-value]


def _row_years() -> frozenset[int]:
    _rows()
    return _cache["years"]  # type: ignore[return-value]


def forget() -> None:
    """Drop this process's copy of the table (after a change, and between tests)."""
    _cache["loaded"] = 0.0


# The answers ------------------------------------------------------------------------------------

def official_source(year: int) -> str | None:
    """Where `year`'s official arrangement comes from (the first of the order above), or None."""
    if year in _row_years():
        return "map_calendar_day (calendar set)"
    if year in _file_years():
        return str(_file["path"].name)  # type: ignore[union-attr]
    if package_has(year):
        return PACKAGE
    return None


def special(day: date) -> tuple[str, str] | None:
    """(kind, name) when `day` is a holiday or a make-up working day, else None."""
    found = _rows().get(day) or _file_days().get(day) or PACKAGE_DAYS.get(day)
    if found is not None:
        return found
    if official_source(day.year) is None:
        name = _FIXED.get((day.month, day.day))
        if name:
            return HOLIDAY, name
    return None


def is_working_day(day: date) -> bool:
    found = special(day)
    if found is not None:
        return found[0] == WORKDAY
    return day.weekday() < 5


def working_days_after(day: date, count: int) -> list[date]:
    """The next `count` working days after `day` (the booking window)."""
    days, current = [], day
    while len(days) < count:
        current += timedelta(days=1)
        if is_working_day(current):
            days.append(current)
    return days


def set_day(day: date, kind: str, name: str) -> None:
    """Mark `day` a holiday or a make-up working day (a row overriding the file and the package)."""
    with unit_of_work() as uow:
        CalendarDay.insert(day=day, kind=kind, name=name).on_conflict(
            conflict_target=[CalendarDay.day], update={CalendarDay.kind: kind, CalendarDay.name: name}).execute()
        uow.after_commit(forget)


def unset_day(day: date) -> int:
    """Remove the override of `day` (the file or the package applies again); the rows removed."""
    with unit_of_work() as uow:
        removed = CalendarDay.delete().where(CalendarDay.day == day).execute()
        uow.after_commit(forget)
    return removed


def overrides() -> dict[date, tuple[str, str]]:
    """The database rows (`flask --app wsgi calendar set`): day → (kind, name)."""
    return dict(_rows())


def published(year: int) -> dict[date, tuple[str, str, str]]:
    """`year`'s special days as answered: day → (kind, name, source: database|file|package)."""
    merged = {d: (k, n, "package") for d, (k, n) in PACKAGE_DAYS.items() if d.year == year}
    merged.update({d: (k, n, "file") for d, (k, n) in _file_days().items() if d.year == year})
    merged.update({d: (k, n, "override") for d, (k, n) in _rows().items() if d.year == year})
    return merged


def china_now(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) as a Beijing-time aware datetime (app.clock.china_now)."""
    return clock.china_now(now)


def check_years(today: date | None = None) -> doctor.Check:
    """`flask doctor`'s calendar check: warn while this year or next has no official data."""
    today = today or china_now().date()
    years = (today.year, today.year + 1)
    sources = {year: official_source(year) for year in years}
    missing = [year for year in years if sources[year] is None]
    if not missing:
        return doctor.Check("calendar", "ok", "; ".join(f"{y}: {s}" for y, s in sources.items()))
    listed = ", ".join(map(str, missing))
    return doctor.Check("calendar", "warn", f"no official holiday data for {listed} yet", details=(
        f"{PACKAGE} has none, nor {OVERRIDES_FILE.name} ([notice.YYYY]), nor `flask calendar set` rows",
        "until then only 元旦 1 Jan, 劳动节 1–2 May and 国庆节 1–3 Oct are assumed for it",
        "when the State Council's notice is out: upgrade chinesecalendar, or add it to the file or with "
        "`flask calendar set`",
    ))


def init_app(app: Flask) -> None:
    """Read the override file (a malformed one stops the start) and add the doctor's check."""
    load_overrides()
    doctor.add_check(app, check_years)
