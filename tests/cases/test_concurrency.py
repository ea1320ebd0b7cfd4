"""Events arriving at once: the same event from several threads is stored, applied and told
exactly once; a case's events sent concurrently and out of order all end up applied in order."""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

from cases.models import Case, CaseEvent, TimelineEntry
from tests.fixtures.cases import EVENTS, event, outbox
from tests.helpers import rows

THREADS = 12


def _fire(app, dept, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))

    def send(body):
        client = app.test_client()
        barrier.wait()
        response = client.post(EVENTS, json=body, headers=dept)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_the_same_event_from_many_threads_is_applied_and_told_once(app, dept, citizen):
    body = event(1, "submitted")
    answers = _fire(app, dept, [body] * THREADS)
    assert [status for status, _ in answers] == [202] * THREADS, answers
    assert sorted(a["duplicate"] for _, a in answers) == [False] + [True] * (THREADS - 1)
    assert len({a["case_id"] for _, a in answers}) == 1
    assert len(rows(app, Case)) == 1 and len(rows(app, CaseEvent)) == 1 and len(rows(app, TimelineEntry)) == 1
    assert len(outbox(app)) == 1


def test_a_later_event_sent_many_times_at_once(app, push, dept, citizen):
    push(event(1, "submitted"))
    body = event(2, "accepted")
    answers = _fire(app, dept, [body] * THREADS)
    assert sorted(a["duplicate"] for _, a in answers) == [False] + [True] * (THREADS - 1)
    assert len(outbox(app, kind="case_status")) == 2
    assert len(rows(app, TimelineEntry)) == 2


def test_one_cases_events_sent_at_once_in_any_order_apply_in_seq_order(app, dept, citizen):
    statuses = ("submitted", "accepted", "in_review", "suspended", "in_review", "supplement_required", "in_review",
                "approved", "concluded", "delivered")
    bodies = [event(i, s, day=i) for i, s in enumerate(statuses, start=1)]
    shuffled = bodies * 2  # every event twice
    random.Random(7).shuffle(shuffled)
    answers = _fire(app, dept, shuffled)
    assert all(status == 202 for status, _ in answers), answers
    [case] = rows(app, Case)
    assert case.status == "delivered" and case.last_seq == 10 and case.pending_count == 0
    timeline = sorted(rows(app, TimelineEntry, TimelineEntry.kind == "status"), key=lambda e: e.id)
    assert [(e.seq, e.status) for e in timeline] == list(enumerate(statuses, start=1))
    notices = outbox(app, kind="case_status")
    assert len(notices) == 10 and len({n.dedupe_key for n in notices}) == 10
    assert len(outbox(app, kind="evaluation_invite")) == 1


def test_first_events_of_many_cases_at_once(app, dept, citizen):
    bodies = [event(1, "submitted", case_no=f"C-{i}") for i in range(THREADS)]
    answers = _fire(app, dept, bodies)
    assert all(status == 202 and not a["duplicate"] for status, a in answers)
    assert len(rows(app, Case)) == THREADS and len(outbox(app)) == THREADS
