"""Check-in outcomes at the counter (issue 16, the counter): too early (before the window that opens
APPOINTMENT_CHECK_IN_EARLY_MINUTES before the slot), too late (after the slot's end + the grace
APPOINTMENT_CHECK_IN_GRACE_MINUTES), another hall's booking (409 with that hall's NAME only, audited,
still rate limited) and the wrong day, each with a stable code and zh/en words a clerk can act on."""
from __future__ import annotations

import json

from app.audit import AuditEvent
from appointments.models import Appointment
from tests.fixtures.appointments import CHECK_INS, CLERK_PASSWORD, book
from tests.helpers import assert_problem, bearer, rows

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def refused(app, reason: str) -> list:
    return [e for e in rows(app, AuditEvent, AuditEvent.action == "map.appointment_checked_in",
                            AuditEvent.outcome == "refused") if reason in json.dumps(e.details)]


def status_of(app, appointment_id: str) -> str:
    return rows(app, Appointment, Appointment.id == appointment_id)[0].status


def check_in(client, headers, code: str, **extra):
    return client.post(CHECK_INS, json={"code": code}, headers=headers | extra)


def test_too_early_says_when_check_in_opens(app, client, make_hall, citizen, clerk_of, clock):
    make_hall()
    booked = book(client, citizen)                          # 2026-09-30 09:00–10:00
    counter = clerk_of("H1")
    clock("2026-09-30T07:59")
    body = assert_problem(check_in(client, counter, booked["check_in_code"]), 409, "check_in_too_early")
    assert "09:00–10:00" in body["detail"] and "08:00起才能签到" in body["detail"], body
    assert body["opens_at"] == "2026-09-30T08:00:00+08:00"
    english = check_in(client, counter, booked["check_in_code"], **{"Accept-Language": "en"}).get_json()
    assert english["code"] == "check_in_too_early" and "check-in opens at 08:00" in english["detail"], english
    assert status_of(app, booked["id"]) == "booked" and len(refused(app, "too_early")) == 2
    clock("2026-09-30T08:00")                               # exactly 60 minutes before: open
    assert check_in(client, counter, booked["check_in_code"]).status_code == 200


def test_too_late_after_the_slot_and_its_grace(app, client, make_hall, citizens, clerk_of, clock):
    make_hall()
    late, just = citizens(2)
    missed = book(client, late)                             # 09:00–10:00
    in_grace = book(client, just)
    counter = clerk_of("H1")
    clock("2026-09-30T10:15")                               # the end + 15 minutes: still accepted
    assert check_in(client, counter, in_grace["check_in_code"]).status_code == 200
    clock("2026-09-30T10:16")
    body = assert_problem(check_in(client, counter, missed["check_in_code"]), 409, "check_in_too_late")
    assert "09:00–10:00" in body["detail"] and "10:15" in body["detail"] and "重新预约" in body["detail"], body
    assert body["closed_at"] == "2026-09-30T10:15:00+08:00"
    english = check_in(client, counter, missed["check_in_code"], **{"Accept-Language": "en"}).get_json()
    assert "is over" in english["detail"] and "10:15" in english["detail"], english
    assert status_of(app, missed["id"]) == "booked" and len(refused(app, "too_late")) == 2


def test_the_window_is_configurable(make_app, make_hall, citizens, clock):
    app = make_app(APPOINTMENT_CHECK_IN_EARLY_MINUTES=15, APPOINTMENT_CHECK_IN_GRACE_MINUTES=0)
    client, runner = app.test_client(), app.test_cli_runner()
    make_hall()
    a, b = citizens(2)
    first, second = book(client, a), book(client, b)
    assert "created" in runner.invoke(args=["staff", "create", "--username", "clerk.cfg", "--password",
                                            CLERK_PASSWORD, "--role", "counter", "--hall", "H1"]).output
    login = client.post("/api/v1/auth/staff-login", json={"username": "clerk.cfg", "password": CLERK_PASSWORD})
    counter = bearer(login.get_json()["access_token"])
    clock("2026-09-30T08:44")
    body = assert_problem(check_in(client, counter, first["check_in_code"]), 409, "check_in_too_early")
    assert "08:45起" in body["detail"]
    clock("2026-09-30T08:45")
    assert check_in(client, counter, first["check_in_code"]).status_code == 200
    clock("2026-09-30T10:00:01")
    assert_problem(check_in(client, counter, second["check_in_code"]), 409, "check_in_too_late")


def test_another_halls_booking_names_that_hall_only(app, client, make_hall, citizen, clerk_of, clock):
    """The trade-off (appointments/checkin.py): the clerk learns the booked hall's name (public) so the
    citizen can be sent there; nothing about the citizen or the booking; each answer is audited."""
    make_hall()
    make_hall("hall_b", "H2")
    booked = book(client, citizen)                          # at H1 (测试政务服务中心H1)
    stranger = clerk_of("H2")
    clock("2026-09-30T09:00")
    body = assert_problem(check_in(client, stranger, booked["check_in_code"]), 409, "check_in_other_hall")
    assert set(body) <= PROBLEM_KEYS | {"hall"} and body["hall"] == {"name": "测试政务服务中心H1"}
    assert "“测试政务服务中心H1”" in body["detail"] and "前往该大厅" in body["detail"]
    text = json.dumps(body, ensure_ascii=False).replace("测试政务服务中心H1", "")
    for secret in ("09:00", "ITEM-1", "事项", booked["id"], "hall_a", "H1", "booked"):
        assert secret not in text, secret
    english = check_in(client, stranger, booked["check_in_code"], **{"Accept-Language": "en"}).get_json()
    assert "booked at “测试政务服务中心H1”" in english["detail"], english
    [event, _] = refused(app, "other_hall")
    details = json.loads(event.details) if isinstance(event.details, str) else event.details
    assert details["booked_hall"] == "H1" and details["clerk_hall"] == "H2"
    assert status_of(app, booked["id"]) == "booked"
    # The hall's own clerk checks it in as usual.
    assert check_in(client, clerk_of("H1"), booked["check_in_code"]).status_code == 200


def test_the_rate_limit_stays_in_front_of_every_lookup(make_app, make_hall, citizen, clock):
    app = make_app(APPOINTMENT_CHECK_IN_PER_MINUTE=3)
    client, runner = app.test_client(), app.test_cli_runner()
    make_hall()
    make_hall("hall_b", "H2")
    booked = book(client, citizen)
    assert "created" in runner.invoke(args=["staff", "create", "--username", "clerk.h2", "--password",
                                            CLERK_PASSWORD, "--role", "counter", "--hall", "H2"]).output
    login = client.post("/api/v1/auth/staff-login", json={"username": "clerk.h2", "password": CLERK_PASSWORD})
    counter = bearer(login.get_json()["access_token"])
    clock("2026-09-30T09:00")
    answers = [check_in(client, counter, code).status_code
               for code in (booked["check_in_code"], "ABCDEFGH", booked["check_in_code"], booked["check_in_code"])]
    assert answers == [409, 404, 409, 429]


def test_the_wrong_day_still_names_the_day(client, make_hall, citizen, clerk_of, clock):
    make_hall()
    later = book(client, citizen, day="2026-10-08")
    clock("2026-09-30T09:00")
    body = assert_problem(check_in(client, clerk_of("H1"), later["check_in_code"]), 409, "check_in_wrong_day")
    assert "2026年10月08日" in body["detail"]
