"""No overbooking under concurrency: 100 simultaneous bookings of a slot of capacity 10 give exactly
10 appointments, from threads in one process and from 8 processes × threads (each process its
own app on the same database and Redis); and one person's simultaneous bookings of one hall-day
give exactly one appointment."""
from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from app.audit import AuditEvent
from appointments import slots
from appointments.models import Appointment, SlotCounter
from tests.fixtures.appointments import APPOINTMENTS, START, _auth, beijing, slot_of
from tests.helpers import rows

DAYS = ("2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10", "2026-10-12")  # the whole window


def _body(day: str, hhmm: str = "0900") -> dict:
    return {"hall_id": "hall_a", "slot_id": slot_of("hall_a", day, hhmm), "item_code": "ITEM-1"}


def _outcome(response) -> tuple[int, str | None]:
    body = response.get_json()
    return response.status_code, body.get("code") if response.status_code != 201 else None


def _assert_exactly(app, day: str, outcomes: list, capacity: int = 10) -> None:
    assert sorted(outcomes, key=str) == sorted([(201, None)] * capacity + [(409, "slot_full")] *
                                               (len(outcomes) - capacity), key=str), outcomes
    stored = rows(app, Appointment, Appointment.slot_id == slot_of("hall_a", day))
    assert len(stored) == capacity and len({a.user_id for a in stored}) == capacity
    [counter] = rows(app, SlotCounter, SlotCounter.id == slot_of("hall_a", day))
    assert counter.booked == capacity


def test_100_threads_book_a_slot_of_10(app, make_hall, citizens):
    make_hall(capacity=10)
    people = citizens(100)
    barrier = threading.Barrier(100)

    def attempt(headers):
        client = app.test_client()
        barrier.wait()
        return _outcome(client.post(APPOINTMENTS, json=_body("2026-09-30"), headers=_auth(headers)))

    with ThreadPoolExecutor(100) as pool:
        outcomes = list(pool.map(attempt, people))
    _assert_exactly(app, "2026-09-30", outcomes)
    assert len(rows(app, AuditEvent, AuditEvent.action == "map.appointment_booked")) == 10


def test_one_person_firing_at_one_hall_day_gets_one_appointment(app, make_hall, citizens):
    make_hall(capacity=10)
    [person] = citizens(1)
    starts = ("0900", "1000", "1100", "1330", "1430", "1530") * 4
    barrier = threading.Barrier(len(starts))

    def attempt(hhmm):
        client = app.test_client()
        barrier.wait()
        return _outcome(client.post(APPOINTMENTS, json=_body("2026-10-08", hhmm), headers=_auth(person)))

    with ThreadPoolExecutor(len(starts)) as pool:
        outcomes = list(pool.map(attempt, starts))
    assert sorted(outcomes, key=str) == sorted([(201, None)] + [(409, "already_booked")] * (len(starts) - 1),
                                               key=str), outcomes
    assert len(rows(app, Appointment)) == 1
    assert sum(c.booked for c in rows(app, SlotCounter)) == 1  # the refused ones gave their seat back


# --- Several processes, each its own app on the same database and Redis ------------------------

_worker: dict = {}


def _init_worker(config: dict, now: str) -> None:
    at = beijing(now)
    slots.now = lambda: at  # the same fixed clock as the test process
    _worker["app"] = create_app(config)


def _fire(args: tuple[list[dict], dict, float]) -> list[tuple[int, str | None]]:
    """Book with one thread per citizen, all released at `start` (wall clock, shared by the processes)."""
    people, body, start = args
    app = _worker["app"]
    clients = [app.test_client() for _ in people]

    def attempt(i):
        time.sleep(max(0.0, start - time.time()))
        return _outcome(clients[i].post(APPOINTMENTS, json=body, headers=people[i]))

    with ThreadPoolExecutor(len(people)) as pool:
        return list(pool.map(attempt, range(len(people))))


def _warm(_) -> int:
    return _worker["app"].test_client().get("/healthz").status_code


@pytest.mark.slow
def test_100_bookings_from_8_processes_and_threads(app, make_hall, citizens, base_config):
    make_hall(capacity=10)
    people = [_auth(p) for p in citizens(100)]
    chunks = [people[i::8] for i in range(8)]  # 12–13 threads in each process
    config = {**base_config, "DB_POOL_SIZE": 5}  # 8 × 5 connections at most (PostgreSQL's limit is shared)
    context = multiprocessing.get_context("spawn")
    with context.Pool(8, initializer=_init_worker, initargs=(config, START)) as pool:
        assert pool.map(_warm, range(16), chunksize=1) == [200] * 16
        for day in DAYS:  # the same 100 people, one round per day of the window
            start = time.time() + 0.3
            results = pool.map(_fire, [(chunk, _body(day), start) for chunk in chunks], chunksize=1)
            _assert_exactly(app, day, [o for r in results for o in r])
    assert len(rows(app, Appointment)) == 10 * len(DAYS)
    assert len(rows(app, AuditEvent, AuditEvent.action == "map.appointment_booked")) == 10 * len(DAYS)
