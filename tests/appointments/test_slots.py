"""Appointment slots (预约时段): from opening hours, lunch breaks, holidays, make-up days, closures."""
from __future__ import annotations

from tests.fixtures.appointments import SLOTS, book, slot_of
from tests.helpers import assert_problem


def slots_of(client, hall_id: str, day: str) -> dict:
    response = client.get(SLOTS.format(hall_id) + f"?date={day}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_slots_follow_the_hours_and_skip_the_lunch_break(client, make_hall):
    make_hall()
    answer = slots_of(client, "hall_a", "2026-09-30")
    starts = [s["start"] for s in answer["items"]]
    assert starts == [f"2026-09-30T{t}:00+08:00" for t in ("09:00", "10:00", "11:00", "13:30", "14:30", "15:30")]
    assert answer["items"][3]["end"] == "2026-09-30T14:30:00+08:00"  # 16:30-17:30 would pass closing: dropped
    first = answer["items"][0]
    assert first == {"id": slot_of("hall_a", "2026-09-30"), "start": "2026-09-30T09:00:00+08:00",
                     "end": "2026-09-30T10:00:00+08:00", "capacity": 10, "remaining": 10, "bookable": True,
                     "unbookable_reason": None}
    assert answer["closed_reason"] is None
    assert answer["booking_window"] == {"first_date": "2026-09-30", "last_date": "2026-10-12"}
    assert answer["rules"] == {"window_working_days": 5, "cancel_before_minutes": 120, "no_show_limit": 2,
                               "no_show_window_days": 30, "ban_days": 30}  # the settings in force, for the words


def test_slot_length_comes_from_the_hall(client, make_hall):
    make_hall(slot_minutes=30, capacity=4)
    items = slots_of(client, "hall_a", "2026-09-30")["items"]
    assert len(items) == 6 + 7 and {s["capacity"] for s in items} == {4}
    assert not any(s["start"].startswith(("2026-09-30T12:", "2026-09-30T13:00")) for s in items)


def test_no_slots_on_a_statutory_holiday(client, make_hall):
    make_hall()
    answer = slots_of(client, "hall_a", "2026-10-01")
    assert answer["items"] == [] and answer["closed_reason"] == "国庆节"


def test_make_up_saturday_has_slots_and_the_holiday_after_it_none(client, make_hall, clock):
    make_hall()
    clock("2026-02-10T10:00")
    saturday = slots_of(client, "hall_a", "2026-02-14")  # 春节调休上班: Monday's hours
    assert len(saturday["items"]) == 6 and saturday["closed_reason"] is None
    assert all(s["bookable"] for s in saturday["items"])
    assert slots_of(client, "hall_a", "2026-02-15") == {**slots_of(client, "hall_a", "2026-02-15"), "items": [],
                                                        "closed_reason": "春节"}


def test_ordinary_weekend_and_closure_have_no_slots(client, make_hall):
    make_hall(closures=[{"from": "2026-10-08", "to": "2026-10-09", "reason": "系统升级"}])
    assert slots_of(client, "hall_a", "2026-10-17") | {"booking_window": None, "rules": None} == {
        "hall_id": "hall_a", "date": "2026-10-17", "closed_reason": "休息日", "items": [], "booking_window": None,
        "rules": None}
    closed = slots_of(client, "hall_a", "2026-10-08")
    assert closed["items"] == [] and closed["closed_reason"] == "系统升级"
    assert len(slots_of(client, "hall_a", "2026-10-12")["items"]) == 6


def test_a_hall_open_on_holidays_has_slots_all_day(client, make_hall):
    make_hall(hours={"mon-sun": ["00:00-24:00"]}, holiday_rule="open")
    items = slots_of(client, "hall_a", "2026-10-01")["items"]
    assert len(items) == 24 and items[-1]["end"] == "2026-10-02T00:00:00+08:00"
    assert all(s["unbookable_reason"] is None for s in items)  # inside the window (09-30 … 10-12)


def test_days_outside_the_window_are_shown_but_not_bookable(client, make_hall):
    make_hall()
    for day in ("2026-09-29", "2026-10-13", "2026-09-28"):  # today, past the 5th working day, yesterday
        items = slots_of(client, "hall_a", day)["items"]
        assert items and all(not s["bookable"] and s["unbookable_reason"] == "booking_window" for s in items)
    assert all(s["bookable"] for s in slots_of(client, "hall_a", "2026-10-10")["items"])  # make-up Saturday


def test_remaining_counts_bookings_and_a_full_slot_says_so(client, make_hall, citizens):
    make_hall(capacity=2)
    first, second = citizens(2)
    book(client, first)
    items = slots_of(client, "hall_a", "2026-09-30")["items"]
    assert (items[0]["remaining"], items[0]["bookable"], items[1]["remaining"]) == (1, True, 2)
    book(client, second)
    full = slots_of(client, "hall_a", "2026-09-30")["items"][0]
    assert (full["remaining"], full["bookable"], full["unbookable_reason"]) == (0, False, "slot_full")


def test_unknown_or_inactive_hall_and_bad_dates(client, make_hall):
    make_hall(hall_id="hall_off", code="H9", active=False)
    assert_problem(client.get(SLOTS.format("hall_nope") + "?date=2026-09-30"), 404, "hall_not_found")
    assert_problem(client.get(SLOTS.format("hall_off") + "?date=2026-09-30"), 404, "hall_not_found")
    make_hall()
    for query in ("", "?date=2026-02-30", "?date=tomorrow", "?date=20260930"):
        body = assert_problem(client.get(SLOTS.format("hall_a") + query), 422, "validation_failed")
        assert body["errors"]


def test_slots_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/map/halls/{hall_id}/slots"]["get"]
    assert {"200", "404", "422"} <= set(operation["responses"])
    assert "hall_not_found" in operation["responses"]["404"]["description"]


def test_a_date_far_from_today_is_refused_not_answered_in_local_mean_time(client, make_hall):
    """Issue 14 item 19: `?date=0248-01-01` answered slots stamped +08:05:43 (Shanghai's LMT);
    only days within the listing horizon (a month back, a quarter ahead) are accepted."""
    make_hall()
    for day in ("0248-01-01", "2026-08-28", "2026-12-31", "9999-12-31"):
        body = assert_problem(client.get(SLOTS.format("hall_a") + f"?date={day}"), 422, "slot_date_out_of_range")
        assert (body["first_date"], body["last_date"]) == ("2026-08-29", "2026-12-30")
    body = assert_problem(client.get(SLOTS.format("hall_nope") + "?date=0248-01-01"), 422, "slot_date_out_of_range")
    assert "2026" in body["detail"]
    for day in ("2026-08-29", "2026-12-30"):  # the edges are inside
        items = slots_of(client, "hall_a", day)["items"]
        assert all(s["start"].endswith("+08:00") and s["end"].endswith("+08:00") for s in items)
    english = client.get(SLOTS.format("hall_a") + "?date=0248-01-01", headers={"Accept-Language": "en"}).get_json()
    assert english["detail"] == "Slots can only be listed for dates from 2026-08-29 to 2026-12-30."


def test_closed_reasons_are_translated_in_english(client, make_hall):
    """Issue 14 item 20: `closed_reason: 休息日` and holiday names were Chinese under
    `Accept-Language: en`; a closure's own reason, written by an operator, stays as written."""
    make_hall(closures=[{"from": "2026-10-08", "to": "2026-10-09", "reason": "系统升级"}])
    english = {"Accept-Language": "en"}

    def reason(day: str) -> str:
        return client.get(SLOTS.format("hall_a") + f"?date={day}", headers=english).get_json()["closed_reason"]

    assert (reason("2026-10-01"), reason("2026-10-17"), reason("2026-10-08")) == (
        "National Day", "Weekly rest day", "系统升级")
    assert slots_of(client, "hall_a", "2026-10-01")["closed_reason"] == "国庆节"
