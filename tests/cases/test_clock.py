"""The SLA clock: promised working days from acceptance (holiday calendar), stopped during 补正 and
特别程序, the due date pushed back by the working days the pause covered."""
from __future__ import annotations

from cases.models import Case
from tests.fixtures.cases import CASES, event
from tests.helpers import rows


def _at(day: str, hhmm: str = "09:00") -> str:
    return f"2026-{day}T{hhmm}:00+08:00"


def _clock(client, citizen) -> dict:
    [item] = client.get(CASES, headers=citizen).get_json()["items"]
    return item["clock"]


def test_the_clock_runs_from_acceptance_in_working_days(client, push, citizen):
    push(event(1, "submitted", occurred_at=_at("03-01")))
    assert _clock(client, citizen)["due_date"] is None  # not accepted yet
    push(event(2, "accepted", occurred_at=_at("03-02"), promised_days=5))  # Monday
    clock = _clock(client, citizen)
    assert clock["due_date"] == "2026-03-09"  # Tue 3 … Fri 6, Mon 9
    assert clock["promised_days"] == 5 and clock["paused"] is False and clock["paused_seconds"] == 0
    assert clock["overdue"] is True  # the test runs after March 2026 and the case is still open


def test_holidays_do_not_count(client, push, citizen):
    push(event(1, "accepted", occurred_at=_at("04-01"), promised_days=3))  # Wed; 清明 Apr 4–6
    assert _clock(client, citizen)["due_date"] == "2026-04-07"  # Thu 2, Fri 3, Tue 7


def test_supplement_stops_the_clock_and_moves_the_due_date(app, client, push, citizen):
    push(event(1, "accepted", occurred_at=_at("03-02"), promised_days=5))
    push(event(2, "supplement_required", occurred_at=_at("03-04", "10:00")))  # Wednesday
    clock = _clock(client, citizen)
    assert clock["paused"] is True and clock["overdue"] is False and clock["paused_since"] == "2026-03-04T10:00:00+08:00"
    push(event(3, "accepted", occurred_at=_at("03-09", "10:00")))  # Monday: Wed, Thu, Fri were paused
    clock = _clock(client, citizen)
    assert clock["paused"] is False
    assert clock["paused_seconds"] == 5 * 86400 and clock["paused_working_days"] == 3
    assert clock["due_date"] == "2026-03-12"  # 5 + 3 working days after Mon 2 March
    [case] = rows(app, Case)
    assert case.paused_since is None and case.paused_working_days == 3


def test_special_procedure_pauses_add_up(client, push, citizen):
    push(event(1, "accepted", occurred_at=_at("03-02"), promised_days=5))
    push(event(2, "in_review", occurred_at=_at("03-02", "11:00")))
    push(event(3, "suspended", occurred_at=_at("03-03")))  # Tue
    push(event(4, "in_review", occurred_at=_at("03-04")))  # Wed: 1 working day
    push(event(5, "supplement_required", occurred_at=_at("03-05", "15:00")))  # Thu
    push(event(6, "in_review", occurred_at=_at("03-05", "17:00")))  # same day: seconds, no day
    clock = _clock(client, citizen)
    assert clock["paused_working_days"] == 1 and clock["paused_seconds"] == 86400 + 7200
    assert clock["due_date"] == "2026-03-10"


def test_a_supplement_before_acceptance_does_not_count(client, push, citizen):
    push(event(1, "submitted", occurred_at=_at("03-02")))
    push(event(2, "supplement_required", occurred_at=_at("03-02", "10:00")))
    push(event(3, "accepted", occurred_at=_at("03-09"), promised_days=2))
    clock = _clock(client, citizen)
    assert clock["paused_working_days"] == 0 and clock["due_date"] == "2026-03-11"


def test_a_concluded_case_is_not_overdue(client, run_chain, citizen, push):
    push(event(1, "accepted", occurred_at=_at("03-02"), promised_days=1))
    for seq, status in enumerate(("in_review", "approved", "concluded"), start=2):
        push(event(seq, status, occurred_at=_at("03-05")))
    clock = _clock(client, citizen)
    assert clock["due_date"] == "2026-03-03" and clock["overdue"] is False
