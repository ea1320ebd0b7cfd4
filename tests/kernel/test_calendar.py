"""Issue 16 "Next year's calendar": holidays from the chinesecalendar package, the override file
(app/calendar_overrides.toml), the `calendar set` rows winning over both, the fixed-date fallback for a
year without official data, and `flask doctor` / `flask calendar check` warning while next year has none."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
import time_machine

from app import calendar, create_app
from app.calendar import CHINA, HOLIDAY, WORKDAY
from app.config import ConfigError
from app.db import db


def span(first: str, last: str, name: str) -> dict:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=i): (HOLIDAY, name) for i in range((end - start).days + 1)}


# The table built into app/calendar.py until issue 16: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
NOTICE_2026 = {
    **span("2026-01-01", "2026-01-03", "元旦"), date(2026, 1, 4): (WORKDAY, "元旦调休上班"),
    **span("2026-02-15", "2026-02-23", "春节"), date(2026, 2, 14): (WORKDAY, "春节调休上班"),
    date(2026, 2, 28): (WORKDAY, "春节调休上班"),
    **span("2026-04-04", "2026-04-06", "清明节"),
    **span("2026-05-01", "2026-05-05", "劳动节"), date(2026, 5, 9): (WORKDAY, "劳动节调休上班"),
    **span("2026-06-19", "2026-06-21", "端午节"),
    **span("2026-09-25", "2026-09-27", "中秋节"),
    **span("2026-10-01", "2026-10-07", "国庆节"), date(2026, 9, 20): (WORKDAY, "国庆节调休上班"),
    date(2026, 10, 10): (WORKDAY, "国庆节调休上班"),
}

NOTICE_2027 = """
[notice.2027]
source = "a test notice"
days = [
  { from = "2027-02-06", to = "2027-02-12", kind = "holiday", name = "春节" },
  { from = 2027-02-14, kind = "workday", name = "春节调休上班" },
]
"""


@pytest.fixture
def ctx(app):
    with app.app_context(), db.connection_context():
        calendar.forget()
        yield
        calendar.forget()


@pytest.fixture
def overrides_file(app, tmp_path):
    """Point the calendar at a file of the test's own (after the app read the shipped one); restore."""
    def use(text: str):
        path = tmp_path / "calendar_overrides.toml"
        path.write_text(text, encoding="utf-8")
        calendar.load_overrides(path)
        return path
    yield use
    calendar.load_overrides()


def test_the_package_2026_data_equals_the_notice_that_was_built_in():
    assert {d: v for d, v in calendar.PACKAGE_DAYS.items() if d.year == 2026} == NOTICE_2026


def test_every_2026_day_answers_as_before(ctx):
    day = date(2026, 1, 1)
    while day.year == 2026:
        expected = NOTICE_2026.get(day)
        assert calendar.special(day) == expected, day
        assert calendar.is_working_day(day) is (expected[0] == WORKDAY if expected else day.weekday() < 5)
        day += timedelta(days=1)


def test_official_data_means_the_package_answers_for_the_year():
    # chinesecalendar raises NotImplementedError for a year outside its notices (1.11: 2004–2026)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert calendar.package_has(2004) and calendar.package_has(2026)
    assert not calendar.package_has(2003) and not calendar.package_has(2027)


def test_a_year_without_official_data_keeps_the_fixed_date_holidays(ctx):
    assert calendar.official_source(2027) is None
    assert calendar.special(date(2027, 1, 1)) == (HOLIDAY, "元旦")
    assert calendar.special(date(2027, 10, 3)) == (HOLIDAY, "国庆节")
    assert calendar.is_working_day(date(2027, 10, 4)) and calendar.is_working_day(date(2027, 2, 8))
    assert calendar.official_source(2025) == calendar.PACKAGE  # an older year: the package's, no fallback
    assert calendar.special(date(2025, 10, 8)) == (HOLIDAY, "国庆节")


def test_a_notice_in_the_file_makes_the_year_official(ctx, overrides_file):
    path = overrides_file(NOTICE_2027)
    assert calendar.official_source(2027) == path.name
    assert calendar.special(date(2027, 2, 8)) == (HOLIDAY, "春节")
    assert calendar.is_working_day(date(2027, 2, 14))  # a Sunday, made a working day
    assert calendar.special(date(2027, 1, 1)) is None  # the year is official: no assumed 元旦
    assert calendar.published(2027)[date(2027, 2, 8)] == (HOLIDAY, "春节", "file")


def test_calendar_set_rows_win_over_the_file_and_the_package(ctx, overrides_file, runner):
    overrides_file(NOTICE_2027)
    for day in ("2027-02-08", "2026-10-01"):
        out = runner.invoke(args=["calendar", "set", day, "workday", "测试上班"])
        assert out.exit_code == 0, out.output
        assert calendar.special(date.fromisoformat(day)) == (WORKDAY, "测试上班")
    listed = runner.invoke(args=["calendar", "list", "--year", "2026"]).output
    assert '"date": "2026-10-01", "kind": "workday", "name": "测试上班", "source": "override"' in listed
    assert '"date": "2026-10-02", "kind": "holiday", "name": "国庆节", "source": "package"' in listed
    for day in ("2027-02-08", "2026-10-01"):
        runner.invoke(args=["calendar", "unset", day])
    assert calendar.special(date(2027, 2, 8)) == (HOLIDAY, "春节")
    assert calendar.special(date(2026, 10, 1)) == (HOLIDAY, "国庆节")


def test_local_days_add_to_the_national_calendar_but_make_no_year_official(ctx, overrides_file):
    overrides_file('[local]\nsource = "省政府办公厅"\ndays = [\n'
                   '  { from = "2026-04-20", to = "2026-04-21", kind = "holiday", name = "地方节日" },\n'
                   '  { from = "2027-04-19", kind = "holiday", name = "地方节日" },\n]\n')
    assert calendar.special(date(2026, 4, 21)) == (HOLIDAY, "地方节日")  # a Tuesday
    assert not calendar.is_working_day(date(2027, 4, 19))
    assert calendar.official_source(2027) is None
    assert calendar.special(date(2027, 1, 1)) == (HOLIDAY, "元旦")  # still the fallback for 2027


def test_the_shipped_file_is_valid_and_holds_no_invented_notice():
    calendar.load_overrides()
    days, years = calendar.parse_overrides(calendar.OVERRIDES_FILE.read_text(encoding="utf-8"))
    assert years == frozenset() and days == {}


@pytest.mark.parametrize("text, reason", [
    ('[notice.2027]\ndays = [{ from = "2027-02-08", kind = "closed", name = "春节" }]', "kind holiday|workday"),
    ('[notice.2027]\ndays = [{ from = "2027-02-08", to = "2027-02-01", kind = "holiday", name = "春节" }]',
     "from ≤ to"),
    ('[notice.2027]\ndays = [{ from = "2028-01-01", kind = "holiday", name = "元旦" }]', "outside 2027"),
    ('[notice.2027]\ndays = [{ from = "2027-02-31", kind = "holiday", name = "春节" }]', "ValueError"),
    ('[notice.2027]\ndays = [{ from = "2027-02-08", kind = "holiday", name = "" }]', "1–32 characters"),
    ('[notice.next]\ndays = []', "[notice.YYYY]"),
    ('[notice.2027]\ndays = [{ from = "2027-02-08", kind = "holiday", name = "春节" }]\n'
     '[local]\ndays = [{ from = "2027-02-08", kind = "holiday", name = "地方" }]', "2027-02-08 is listed twice"),
    ('[holidays]\ndays = []', "unknown section(s): holidays"),
    ('[local\n', "Expected"),
])
def test_a_malformed_file_is_refused_naming_the_entry(tmp_path, text, reason):
    path = tmp_path / "calendar_overrides.toml"
    path.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(ConfigError, match="calendar override file") as raised:
            calendar.load_overrides(path)
        assert reason in str(raised.value) and str(path) in str(raised.value)
    finally:
        calendar.load_overrides()


def test_a_malformed_file_stops_the_start(base_config, tmp_path, monkeypatch):
    broken = tmp_path / "calendar_overrides.toml"
    broken.write_text('[notice.2027]\ndays = [{ from = "2027-13-01", kind = "holiday", name = "x" }]\n')
    monkeypatch.setattr(calendar, "OVERRIDES_FILE", broken)
    try:
        with pytest.raises(ConfigError, match="2027-13-01"):
            create_app(base_config)
    finally:
        monkeypatch.undo()
        calendar.load_overrides()


def at(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=CHINA), tick=False)


def test_doctor_warns_in_december_while_next_year_has_no_data(runner):
    with at("2026-12-06T09:00"):
        result = runner.invoke(args=["doctor"])
    line = next(x for x in result.output.splitlines() if x.startswith("calendar"))
    assert "WARN" in line and "no official holiday data for 2027 yet" in line, result.output
    assert "upgrade chinesecalendar" in result.output


def test_doctor_is_content_once_the_file_has_next_years_notice(runner, overrides_file):
    overrides_file(NOTICE_2027)
    with at("2026-12-06T09:00"):
        result = runner.invoke(args=["doctor"])
    line = next(x for x in result.output.splitlines() if x.startswith("calendar"))
    assert "OK" in line and "2026: chinesecalendar" in line and "2027: calendar_overrides.toml" in line


def test_doctor_is_content_once_calendar_set_has_next_year(ctx, runner):
    with at("2026-12-06T09:00"):
        assert calendar.check_years().status == "warn"
        runner.invoke(args=["calendar", "set", "2027-01-01", "holiday", "元旦"])
        found = calendar.check_years()
    assert found.status == "ok" and "2027: map_calendar_day" in found.message
    runner.invoke(args=["calendar", "unset", "2027-01-01"])


def test_the_check_in_other_years(ctx):
    with at("2025-12-06T09:00"):
        assert calendar.check_years().status == "ok"  # 2025 and 2026 are both in the package
    with at("2027-01-02T09:00"):
        found = calendar.check_years()
    assert found.status == "warn" and "2027, 2028" in found.message


def test_make_run_prints_the_warning(runner):
    """`make run` runs `flask calendar check` before serving: the warning on stderr, exit status 0."""
    with at("2026-12-06T09:00"):
        result = runner.invoke(args=["calendar", "check"])
    assert result.exit_code == 0
    assert "WARNING calendar: no official holiday data for 2027 yet" in result.output
    assert "flask --app wsgi calendar check" in (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
