"""Booking and cancelling appointments (预约): every rule, nothing half-written on a refusal, and
another citizen's appointment is invisible."""
from __future__ import annotations

import png
import zxingcpp

from app.audit import AuditEvent
from app.db import db
from appointments.models import Appointment, SlotCounter
from mapsvc.models import Hall
from tests.fixtures.appointments import APPOINTMENTS, SLOTS, _auth, beijing, book, slot_of
from tests.helpers import assert_problem, rows


def audits(app, action: str) -> list:
    return rows(app, AuditEvent, AuditEvent.action == action)


def test_booking_takes_a_seat_and_answers_the_appointment(app, client, make_hall, citizen):
    make_hall()
    answer = book(client, citizen)
    assert answer["status"] == "booked" and answer["status_label"] == "已预约"
    assert answer["hall"] == {"id": "hall_a", "code": "H1", "name": "测试政务服务中心H1", "address": "安徽省合肥市庐阳区测试路1号"}
    assert answer["item"] == {"code": "ITEM-1", "name": "事项ITEM-1"}
    assert (answer["start"], answer["end"], answer["date"]) == ("2026-09-30T09:00:00+08:00",
                                                                "2026-09-30T10:00:00+08:00", "2026-09-30")
    assert answer["cancellable_until"] == "2026-09-30T07:00:00+08:00"
    code = answer["check_in_code"]
    assert len(code) == 8 and code.isalnum() and code.upper() == code and not set(code) & set("01IO")
    assert answer["check_in_qr"] == f"{APPOINTMENTS}/{answer['id']}/qr.png"
    [stored] = rows(app, Appointment)
    assert stored.user_id == citizen["X-User"] and stored.active_key.endswith("|hall_a|2026-09-30")
    assert stored.reminder_due_at == beijing("2026-09-29T10:00")  # the day before, APPOINTMENT_REMINDER_HOUR
    assert [c.booked for c in rows(app, SlotCounter)] == [1]
    [event] = audits(app, "map.appointment_booked")
    assert (event.actor_id, event.target) == (citizen["X-User"], answer["id"])
    assert client.get(f"{APPOINTMENTS}/{answer['id']}", headers=_auth(citizen)).get_json() == answer


def test_check_in_qr_holds_the_code(client, make_hall, citizen):
    make_hall()
    answer = book(client, citizen)
    response = client.get(answer["check_in_qr"], headers=_auth(citizen))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    width, height, pixels, _ = png.Reader(bytes=response.data).asRGB8()
    grey = bytearray()
    for row in pixels:
        grey += bytes(row)[::3]
    decoded = [b.text for b in zxingcpp.read_barcodes(memoryview(bytes(grey)).cast("B", (height, width)))]
    assert decoded == [answer["check_in_code"]]


def test_l0_citizens_and_anonymous_callers_cannot_book(client, make_hall, citizens):
    make_hall()
    [l0] = citizens(1, level=0)
    assert_problem(book(client, l0, status=None), 403, "assurance_level_insufficient")
    assert_problem(client.post(APPOINTMENTS, json={"hall_id": "hall_a", "slot_id": slot_of("hall_a", "2026-09-30"),
                                                   "item_code": "ITEM-1"}), 401, "unauthorized")


def test_the_item_must_be_one_the_hall_handles(client, make_hall, citizen):
    make_hall()
    make_hall("hall_b", "H2", items=("ITEM-9",))
    assert_problem(book(client, citizen, item="ITEM-9", status=None), 422, "item_not_offered")


def test_slot_ids_are_checked_against_the_plan(client, make_hall, citizen):
    make_hall()
    make_hall("hall_b", "H2")
    for slot_id in ("hall_a.20260930.1200",  # lunch break
                    "hall_a.20260930.0930",  # not a slot start
                    "hall_a.20261001.0900",  # 国庆节
                    "hall_a.20261003.0900",  # Saturday, holiday
                    "hall_a.20260931.0900", "hall_a.2026930.0900", "hall_a", "../etc", "x" * 64,
                    slot_of("hall_b", "2026-09-30")):  # another hall's slot
        assert_problem(book(client, citizen, slot_id=slot_id, status=None), 422, "slot_invalid")
    assert_problem(book(client, citizen, hall_id="hall_zz", status=None), 404, "hall_not_found")


def test_booking_window_from_tomorrow_within_five_working_days(client, make_hall, citizens):
    make_hall()
    a, b, c = citizens(3)
    body = assert_problem(book(client, a, day="2026-09-29", hhmm="1430", status=None), 422, "booking_window")
    assert (body["first_date"], body["last_date"]) == ("2026-09-30", "2026-10-12") and "09月30日" in body["detail"]
    assert_problem(book(client, a, day="2026-10-13", status=None), 422, "booking_window")
    book(client, a, day="2026-10-12")  # the 5th working day: 09-30, 10-08, 10-09, 10-10 (调休), 10-12
    book(client, b, day="2026-10-10")
    book(client, c, day="2026-09-30", hhmm="1530")


def test_window_length_is_configurable(make_app, make_hall, citizen):
    make_hall()
    client = make_app(APPOINTMENT_WINDOW_WORKING_DAYS=2).test_client()
    assert_problem(book(client, citizen, day="2026-10-09", status=None), 422, "booking_window")
    book(client, citizen, day="2026-10-08")


def test_one_active_appointment_per_person_per_hall_day(app, client, make_hall, citizen):
    make_hall()
    make_hall("hall_b", "H2")
    first = book(client, citizen)
    assert_problem(book(client, citizen, hhmm="1430", status=None), 409, "already_booked")
    assert_problem(book(client, citizen, status=None), 409, "already_booked")
    book(client, citizen, day="2026-10-08")  # another day
    book(client, citizen, hall_id="hall_b")  # another hall, same day
    assert client.delete(f"{APPOINTMENTS}/{first['id']}", headers=_auth(citizen)).status_code == 204
    book(client, citizen, hhmm="1430")  # the cancelled one no longer holds the day
    assert len(rows(app, Appointment)) == 4


def test_a_full_slot_refuses_and_leaves_nothing_behind(app, client, make_hall, citizens):
    make_hall(capacity=2)
    a, b, c = citizens(3)
    book(client, a)
    book(client, b)
    before = (len(rows(app, Appointment)), len(rows(app, AuditEvent)))
    assert_problem(book(client, c, status=None), 409, "slot_full")
    assert (len(rows(app, Appointment)), len(rows(app, AuditEvent))) == before
    assert [s.booked for s in rows(app, SlotCounter)] == [2]
    book(client, c, hhmm="1000")


def test_capacity_is_fixed_when_the_first_seat_is_taken(app, client, make_hall, citizens):
    make_hall(capacity=1)
    a, b = citizens(2)
    book(client, a)
    with app.app_context(), db.connection_context():
        Hall.update(slot_capacity=3).where(Hall.id == "hall_a").execute()
    assert_problem(book(client, b, status=None), 409, "slot_full")
    book(client, b, hhmm="1000")
    items = client.get(SLOTS.format("hall_a") + "?date=2026-09-30").get_json()["items"]
    assert [(s["capacity"], s["remaining"]) for s in items[:3]] == [(1, 0), (3, 2), (3, 3)]


def test_request_validation(client, make_hall, citizen):
    make_hall()
    good = {"hall_id": "hall_a", "slot_id": slot_of("hall_a", "2026-09-30"), "item_code": "ITEM-1"}
    for body in ({}, {**good, "extra": 1}, {**good, "hall_id": ""}, {**good, "slot_id": 5},
                 {k: v for k, v in good.items() if k != "item_code"}, {**good, "item_code": "x" * 65}):
        assert assert_problem(client.post(APPOINTMENTS, json=body, headers=_auth(citizen)), 422,
                              "validation_failed")["errors"]
    assert client.post(APPOINTMENTS, data="{", headers={**_auth(citizen), "Content-Type": "application/json"}
                       ).status_code in (400, 422)


# --- Cancellation -------------------------------------------------------------------------------

def test_cancel_frees_the_seat_until_two_hours_before(app, client, make_hall, citizens, clock):
    make_hall(capacity=1)
    a, b = citizens(2)
    first = book(client, a)
    clock("2026-09-30T07:00")  # exactly 2 h before 09:00: still allowed
    assert client.delete(f"{APPOINTMENTS}/{first['id']}", headers=_auth(a)).status_code == 204
    cancelled = client.get(f"{APPOINTMENTS}/{first['id']}", headers=_auth(a)).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["check_in_code"] is None
    assert cancelled["cancelled_at"] == "2026-09-30T07:00:00+08:00"
    assert [s.booked for s in rows(app, SlotCounter)] == [0]
    assert len(audits(app, "map.appointment_cancelled")) == 1
    assert client.delete(f"{APPOINTMENTS}/{first['id']}", headers=_auth(a)).status_code == 204  # idempotent
    assert len(audits(app, "map.appointment_cancelled")) == 1 and [s.booked for s in rows(app, SlotCounter)] == [0]
    assert_problem(client.get(cancelled["check_in_qr"] or f"{APPOINTMENTS}/{first['id']}/qr.png",
                              headers=_auth(a)), 409, "appointment_not_active")
    clock("2026-09-29T10:00")
    second = book(client, b)  # the seat is free again
    clock("2026-09-30T07:00:01")
    body = assert_problem(client.delete(f"{APPOINTMENTS}/{second['id']}", headers=_auth(b)), 409, "cancel_too_late")
    assert "2小时" in body["detail"]
    assert client.get(f"{APPOINTMENTS}/{second['id']}", headers=_auth(b)).get_json()["status"] == "booked"
    assert [s.booked for s in rows(app, SlotCounter)] == [1]


def test_another_citizens_appointment_is_not_found(client, make_hall, citizens):
    make_hall()
    owner, other = citizens(2)
    answer = book(client, owner)
    for method, path in (("get", f"{APPOINTMENTS}/{answer['id']}"), ("delete", f"{APPOINTMENTS}/{answer['id']}"),
                         ("get", f"{APPOINTMENTS}/{answer['id']}/qr.png"), ("get", f"{APPOINTMENTS}/apt_nope"),
                         ("get", f"{APPOINTMENTS}/{'x' * 40}")):
        assert_problem(getattr(client, method)(path, headers=_auth(other)), 404, "appointment_not_found")
    assert client.get(APPOINTMENTS, headers=_auth(other)).get_json() == {"items": [], "next_cursor": None}
    assert client.get(f"{APPOINTMENTS}/{answer['id']}", headers=_auth(owner)).get_json()["status"] == "booked"


def test_my_appointments_latest_slot_first_with_a_cursor(client, make_hall, citizen):
    make_hall()
    make_hall("hall_b", "H2")
    made = [book(client, citizen, day=d, hall_id=h) for d, h in
            (("2026-09-30", "hall_a"), ("2026-10-08", "hall_a"), ("2026-10-09", "hall_a"), ("2026-10-09", "hall_b"))]
    client.delete(f"{APPOINTMENTS}/{made[0]['id']}", headers=_auth(citizen))
    seen, cursor = [], None
    while True:
        page = client.get(APPOINTMENTS + "?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                          headers=_auth(citizen)).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [a["date"] for a in seen] == ["2026-10-09", "2026-10-09", "2026-10-08", "2026-09-30"]
    assert {a["id"] for a in seen} == {a["id"] for a in made}
    booked = client.get(APPOINTMENTS + "?status=booked", headers=_auth(citizen)).get_json()["items"]
    assert len(booked) == 3 and all(a["status"] == "booked" for a in booked)
    assert_problem(client.get(APPOINTMENTS + "?cursor=bm9wZQ", headers=_auth(citizen)), 422, "cursor_invalid")
    assert_problem(client.get(APPOINTMENTS + "?status=lost", headers=_auth(citizen)), 422, "validation_failed")
    assert_problem(client.get(APPOINTMENTS + "?limit=0", headers=_auth(citizen)), 422, "validation_failed")


def test_endpoints_and_their_problems_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    post = paths["/api/v1/appointments"]["post"]["responses"]
    for status, code in (("403", "booking_banned"), ("409", "slot_full"), ("409", "already_booked"),
                         ("422", "booking_window"), ("422", "item_not_offered"), ("422", "slot_invalid"),
                         ("401", "unauthorized")):
        assert code in post[status]["description"], (status, code)
    assert "cancel_too_late" in paths["/api/v1/appointments/{appointment_id}"]["delete"]["responses"]["409"]["description"]
    assert "image/png" in paths["/api/v1/appointments/{appointment_id}/qr.png"]["get"]["responses"]["200"]["content"]
    assert "check_in_code_invalid" in paths["/api/v1/counter/check-ins"]["post"]["responses"]["404"]["description"]
