"""Appointment notices (issue 16 "Notices for everything that happens to a citizen"): booked, reminded
the day before and one hour before, cancelled, missed (爽约) and the booking ban after repeated
no-shows. Each is an outbox row with zh and en texts and the deep link `yiwang://appointments/<id>`,
and reaches the inbox, the live channel and a push (tests/fixtures/notify.py: three_channels).

The `clock` here is the appointments' (tests/fixtures/appointments.py: Tuesday 2026-09-29 10:00
Beijing time); the notify worker runs on its own clock, the next day's 10:00 (outside quiet hours)."""
from __future__ import annotations

from appointments.models import BookingBan
from tests.fixtures.appointments import APPOINTMENTS, _auth, book
from tests.fixtures.notify import Clock, queued, register_device, three_channels
from tests.helpers import rows

HALL = "测试政务服务中心H1"


def _run(runner, command: str) -> list[str]:
    """The command's own answers (the log lines go to the same stream)."""
    result = runner.invoke(args=["appointments", command])
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if not line.startswith("{")]


def _link(appointment: dict) -> str:
    return f"yiwang://appointments/{appointment['id']}"


def _reach(app, client, citizen, make_worker, channels, kind: str, appointment: dict, title: str) -> dict:
    return three_channels(app, client, make_worker, channels, user_id=citizen["X-User"], headers=_auth(citizen),
                          kind=kind, link=_link(appointment), title=title, worker_clock=Clock())


def _citizen_with_device(app, client, citizens) -> dict:
    citizen = citizens(1)[0]
    register_device(client, app, _auth(citizen))
    return citizen


def test_booked(app, client, make_hall, citizens, make_worker, channels):
    make_hall()
    citizen = _citizen_with_device(app, client, citizens)
    appointment = book(client, citizen)
    [(row, data)] = queued(app, "appointment_booked")
    assert row.title == "预约成功" and HALL in row.body and "09月30日 09:00" in row.body
    assert appointment["check_in_code"] not in row.body + row.data
    assert data["link"] == _link(appointment) and (data["screen"], data["appointment_id"]) == (
        "appointments", appointment["id"])
    item = _reach(app, client, citizen, make_worker, channels, "appointment_booked", appointment, "预约成功")
    assert item["title"] == "Appointment booked" and "2026-09-30 at 09:00" in item["body"]


def test_reminded_the_day_before_and_one_hour_before_once_each(app, client, runner, make_hall, citizens, clock,
                                                               make_worker, channels):
    make_hall()
    citizen = _citizen_with_device(app, client, citizens)
    appointment = book(client, citizen)  # 2026-09-30 09:00; the clock stands at 09-29 10:00: the day before
    assert _run(runner, "send-reminders")[-2:] == ["queued 0 one-hour reminder(s)", "queued 1 reminder(s)"]
    day = _reach(app, client, citizen, make_worker, channels, "appointment_reminder", appointment, "预约提醒")
    assert day["title"] == "Appointment reminder"
    for at, hour in (("2026-09-30T07:59", 0), ("2026-09-30T08:00", 1), ("2026-09-30T08:30", 0),
                     ("2026-09-30T09:00", 0)):
        clock(at)
        assert _run(runner, "send-reminders")[-2:] == [f"queued {hour} one-hour reminder(s)", "queued 0 reminder(s)"]
    found = queued(app, "appointment_reminder")
    assert [(r.title, d["event"], r.dedupe_key) for r, d in found] == [
        ("预约提醒", "reminder", f"appointment-reminder:{appointment['id']}"),
        ("预约即将开始", "reminder_hour", f"appointment-reminder-hour:{appointment['id']}")]
    assert all(d["link"] == _link(appointment) for _, d in found) and HALL in found[1][0].body
    hour = _reach(app, client, citizen, make_worker, channels, "appointment_reminder", appointment, "预约即将开始")
    assert hour["title"] == "Appointment starts soon" and "09:00" in hour["body"]


def test_no_hour_reminder_for_a_cancelled_appointment(app, client, runner, make_hall, citizens, clock):
    make_hall()
    citizen = citizens(1)[0]
    appointment = book(client, citizen)
    assert client.delete(f"{APPOINTMENTS}/{appointment['id']}", headers=_auth(citizen)).status_code == 204
    clock("2026-09-30T08:10")
    assert _run(runner, "send-reminders")[-2] == "queued 0 one-hour reminder(s)"


def test_cancelled(app, client, make_hall, citizens, make_worker, channels):
    make_hall()
    citizen = _citizen_with_device(app, client, citizens)
    appointment = book(client, citizen)
    url = f"{APPOINTMENTS}/{appointment['id']}"
    assert client.delete(url, headers=_auth(citizen)).status_code == 204
    assert client.delete(url, headers=_auth(citizen)).status_code == 204  # again: nothing changes, no notice
    [(row, data)] = queued(app, "appointment_cancelled")
    assert row.title == "预约已取消" and HALL in row.body and data["link"] == _link(appointment)
    item = _reach(app, client, citizen, make_worker, channels, "appointment_cancelled", appointment, "预约已取消")
    assert item["title"] == "Appointment cancelled"


def test_missed_and_banned_after_repeated_no_shows(app, client, runner, make_hall, citizens, clock, make_worker,
                                                   channels):
    make_hall()
    citizen = _citizen_with_device(app, client, citizens)
    first, second = book(client, citizen), book(client, citizen, day="2026-10-08")
    clock("2026-09-30T10:00")
    assert _run(runner, "mark-no-shows")[-1] == "marked 1 no-show(s); 0 new booking ban(s)"
    assert queued(app, "appointment_banned") == []
    [(row, data)] = queued(app, "appointment_missed")
    assert row.title == "预约已爽约" and "爽约" in row.body and data["link"] == _link(first)
    item = _reach(app, client, citizen, make_worker, channels, "appointment_missed", first, "预约已爽约")
    assert item["title"] == "Appointment missed"
    clock("2026-10-08T10:00")
    assert _run(runner, "mark-no-shows")[-1] == "marked 1 no-show(s); 1 new booking ban(s)"
    assert [d["link"] for _, d in queued(app, "appointment_missed")] == [_link(first), _link(second)]
    [(row, data)] = queued(app, "appointment_banned")
    [ban] = rows(app, BookingBan)
    assert row.title == "预约资格已暂停" and "2 次" in row.body and "2026年11月7日" in row.body
    assert (data["ban_id"], data["link"]) == (ban.id, _link(second))
    item = _reach(app, client, citizen, make_worker, channels, "appointment_banned", second, "预约资格已暂停")
    assert item["title"] == "Online booking suspended" and "2026-11-07" in item["body"]
    assert _run(runner, "mark-no-shows")[-1] == "marked 0 no-show(s); 0 new booking ban(s)"
    assert len(queued(app, "appointment_banned")) == 1
