"""Check-in at the counter (到厅签到), no-shows and the booking ban (爽约), day-before reminders."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from app.audit import AuditEvent
from appointments.models import Appointment, AppointmentNotice, BookingBan
from notify.service import OutboxEntry
from tests import vectors
from tests.fixtures.appointments import APPOINTMENTS, CHECK_INS, _auth, beijing, book
from tests.helpers import assert_problem, bearer, rows


def audits(app, action: str, outcome: str = "success") -> list:
    return rows(app, AuditEvent, AuditEvent.action == action, AuditEvent.outcome == outcome)


def cli(runner, command: str) -> str:
    """The command's own answer (its last line; the log lines before it go to the same stream)."""
    result = runner.invoke(args=["appointments", command])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def status_of(app, appointment_id: str) -> str:
    return rows(app, Appointment, Appointment.id == appointment_id)[0].status


# --- Check-in -----------------------------------------------------------------------------------

def test_the_halls_clerk_checks_in_once_on_the_day(app, client, make_hall, citizen, clerk_of, clock):
    make_hall()
    appointment = book(client, citizen)
    counter = clerk_of("H1")
    clock("2026-09-30T08:50")
    response = client.post(CHECK_INS, json={"code": appointment["check_in_code"].lower()}, headers=counter)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["id"] == appointment["id"] and answer["status"] == "arrived"
    assert answer["arrived_at"] == "2026-09-30T08:50:00+08:00" and answer["holder"] == {"name_masked": None}
    assert answer["hall"]["code"] == "H1" and answer["item"] == {"code": "ITEM-1", "name": "事项ITEM-1"}
    assert status_of(app, appointment["id"]) == "arrived"
    assert len(audits(app, "map.appointment_checked_in")) == 1
    assert_problem(client.post(CHECK_INS, json={"code": appointment["check_in_code"]}, headers=counter), 409,
                   "already_checked_in")
    mine = client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=_auth(citizen)).get_json()
    assert mine["status"] == "arrived" and mine["arrived_at"] == "2026-09-30T08:50:00+08:00"
    assert_problem(client.delete(f"{APPOINTMENTS}/{appointment['id']}", headers=_auth(citizen)), 409,
                   "appointment_not_active")


def test_a_verified_holder_is_shown_masked(client, make_hall, verified_citizen, clerk_of, clock):
    make_hall()
    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    appointment = book(client, holder)
    counter = clerk_of("H1")
    clock("2026-09-30T09:10")
    answer = client.post(CHECK_INS, json={"code": appointment["check_in_code"]}, headers=counter).get_json()
    assert answer["holder"] == {"name_masked": "张*"}
    assert vectors.ZHANG_SAN[1] not in json.dumps(answer, ensure_ascii=False)


def test_another_halls_clerk_cannot_see_or_check_in(app, client, make_hall, citizen, clerk_of, clock):
    make_hall()
    make_hall("hall_b", "H2")
    appointment = book(client, citizen)
    stranger = clerk_of("H2")
    clock("2026-09-30T09:00")
    body = assert_problem(client.post(CHECK_INS, json={"code": appointment["check_in_code"]}, headers=stranger), 409,
                          "check_in_other_hall")  # issue 16: the booked hall's name only (appointments/checkin.py)
    assert body["hall"] == {"name": "测试政务服务中心H1"}
    assert status_of(app, appointment["id"]) == "booked"
    assert len(audits(app, "map.appointment_checked_in", "refused")) == 1
    assert_problem(client.post(CHECK_INS, json={"code": appointment["check_in_code"]}, headers=_auth(citizen)),
                   403, "forbidden")


def test_unknown_codes_wrong_day_and_inactive_appointments(app, client, make_hall, citizens, clerk_of, clock):
    make_hall()
    a, b = citizens(2)
    today, later = book(client, a), book(client, b, day="2026-10-08")
    counter = clerk_of("H1")
    for code in ("ABCDEFGH", "1234", "", "  ", "Ö" * 8):
        assert_problem(client.post(CHECK_INS, json={"code": code}, headers=counter), 404 if code.strip() or code
                       else 422)
    assert_problem(client.post(CHECK_INS, json={}, headers=counter), 422, "validation_failed")
    clock("2026-09-30T09:00")
    body = assert_problem(client.post(CHECK_INS, json={"code": later["check_in_code"]}, headers=counter), 409,
                          "check_in_wrong_day")
    assert "2026年10月08日" in body["detail"]
    clock("2026-09-29T12:00")
    client.delete(f"{APPOINTMENTS}/{today['id']}", headers=_auth(a))
    clock("2026-09-30T09:00")
    assert_problem(client.post(CHECK_INS, json={"code": today["check_in_code"]}, headers=counter), 409,
                   "appointment_not_active")


def test_parallel_scans_check_in_once(app, client, make_hall, citizen, clerk_of, clock):
    make_hall()
    appointment = book(client, citizen)
    counter = clerk_of("H1")
    clock("2026-09-30T09:00")
    barrier = threading.Barrier(20)

    def scan(_):
        scanner = app.test_client()
        barrier.wait()
        return scanner.post(CHECK_INS, json={"code": appointment["check_in_code"]}, headers=counter).status_code

    with ThreadPoolExecutor(20) as pool:
        assert sorted(pool.map(scan, range(20))) == [200] + [409] * 19
    assert len(audits(app, "map.appointment_checked_in")) == 1


# --- No-shows and the booking ban ---------------------------------------------------------------

def test_two_no_shows_in_30_days_ban_booking_for_30_days(app, client, runner, make_hall, citizens, clerk_of, clock):
    make_hall()
    person, punctual = citizens(2)
    first, second = book(client, person), book(client, person, day="2026-10-08")
    kept = book(client, punctual)
    upcoming = book(client, punctual, day="2026-10-12")
    clock("2026-09-30T09:30")
    client.post(CHECK_INS, json={"code": kept["check_in_code"]}, headers=clerk_of("H1"))
    clock("2026-09-30T10:00")  # the first slot has just ended
    assert "marked 1 no-show(s); 0 new booking ban(s)" in cli(runner, "mark-no-shows")
    assert status_of(app, first["id"]) == "no_show" and status_of(app, kept["id"]) == "arrived"
    book(client, person, day="2026-10-09")  # one no-show: still allowed
    clock("2026-10-08T10:00")
    out = cli(runner, "mark-no-shows")
    assert "marked 1 no-show(s); 1 new booking ban(s)" in out
    assert status_of(app, second["id"]) == "no_show" and status_of(app, upcoming["id"]) == "booked"
    [ban] = rows(app, BookingBan)
    assert ban.until == beijing("2026-11-07T10:00") and ban.no_shows == 2
    assert len(audits(app, "map.appointment_no_show")) == 2 and len(audits(app, "map.booking_banned")) == 1
    body = assert_problem(book(client, person, day="2026-10-12", status=None), 403, "booking_banned")
    assert body["banned_until"] == "2026-11-07T10:00:00+08:00" and "2026年11月07日 10:00" in body["detail"]
    assert cli(runner, "mark-no-shows").startswith("marked 0")  # nothing twice
    clock("2026-11-07T10:00")  # the ban is over
    book(client, person, day="2026-11-09")


def test_no_shows_further_apart_than_30_days_do_not_ban(app, client, runner, make_hall, citizen, clock):
    make_hall()
    book(client, citizen)
    clock("2026-10-01T00:00")
    cli(runner, "mark-no-shows")
    clock("2026-10-30T10:00")
    book(client, citizen, day="2026-11-02")
    clock("2026-11-02T12:00")
    assert "marked 1 no-show(s); 0 new booking ban(s)" in cli(runner, "mark-no-shows")
    assert rows(app, BookingBan) == []


def test_ban_limits_are_configurable(make_app, make_hall, citizen, clock):
    app = make_app(APPOINTMENT_NO_SHOW_LIMIT=1, APPOINTMENT_BAN_DAYS=7)
    client, runner = app.test_client(), app.test_cli_runner()
    make_hall()
    book(client, citizen)
    clock("2026-09-30T12:00")
    assert "1 new booking ban(s)" in cli(runner, "mark-no-shows")
    assert rows(app, BookingBan)[0].until == beijing("2026-10-07T12:00")


# --- Reminders (queued in the notification outbox) ---------------------------------------------

def test_reminders_are_queued_once_the_day_before(app, client, runner, make_hall, citizens, clock):
    make_hall()
    a, b, c = citizens(3)
    tomorrow, later, cancelled = book(client, a), book(client, b, day="2026-10-08"), book(client, c, day="2026-10-08")
    client.delete(f"{APPOINTMENTS}/{cancelled['id']}", headers=_auth(c))
    assert cli(runner, "send-reminders") == "queued 1 reminder(s)"
    [notice] = rows(app, AppointmentNotice)
    assert (notice.appointment_id, notice.user_id, notice.kind) == (tomorrow["id"], a["X-User"], "reminder")
    payload = json.loads(notice.payload)
    assert payload["hall_name"] == "测试政务服务中心H1" and payload["start"] == "2026-09-30T09:00:00+08:00"
    assert "09月30日 09:00" in payload["text"] and tomorrow["check_in_code"] not in notice.payload
    [queued] = rows(app, OutboxEntry, OutboxEntry.kind == "appointment_reminder")  # for the notification worker (booking sends its own notice)
    assert (queued.user_id, queued.kind, queued.title) == (a["X-User"], "appointment_reminder", "预约提醒")
    assert queued.body == payload["text"] and queued.dedupe_key == f"appointment-reminder:{tomorrow['id']}"
    assert cli(runner, "send-reminders") == "queued 0 reminder(s)"
    clock("2026-10-07T09:59")
    assert cli(runner, "send-reminders") == "queued 0 reminder(s)"
    clock("2026-10-07T10:00")
    assert cli(runner, "send-reminders") == "queued 1 reminder(s)"
    assert {n.appointment_id for n in rows(app, AppointmentNotice)} == {tomorrow["id"], later["id"]}
    assert rows(app, Appointment, Appointment.id == later["id"])[0].reminded_at == beijing("2026-10-07T10:00")


def test_no_reminder_after_the_slot_started(app, client, runner, make_hall, citizen, clock):
    make_hall()
    book(client, citizen)
    clock("2026-09-30T09:00")
    assert cli(runner, "send-reminders") == "queued 0 reminder(s)"
