"""Backfills: many events in one request, each with its own result in the order sent; applied in
seq order per case whatever the order in the request; a refused or invalid item leaves the rest."""
from __future__ import annotations

from cases.models import Case, CaseEvent, TimelineEntry
from tests import vectors
from tests.fixtures.cases import BATCH, CHAIN, event, outbox
from tests.helpers import assert_problem, bearer, rows


def _batch(client, dept, events: list, status: int = 200) -> dict:
    response = client.post(BATCH, json={"events": events}, headers=dept)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_backfill_in_any_order_is_applied_in_seq_order(app, client, dept, citizen):
    events = [event(i, s, case_no=no) for no in ("B-1", "B-2") for i, s in enumerate(CHAIN, start=1)]
    answer = _batch(client, dept, list(reversed(events)))
    assert answer["accepted"] == 12 and answer["rejected"] == 0
    assert [item["index"] for item in answer["items"]] == list(range(12))
    assert [item["event_id"] for item in answer["items"]] == [e["event_id"] for e in reversed(events)]
    assert all(item["state"] == "applied" and item["http_status"] == 202 for item in answer["items"])
    assert {c.case_no: c.status for c in rows(app, Case)} == {"B-1": "delivered", "B-2": "delivered"}
    assert len(rows(app, TimelineEntry)) == 12 and len(outbox(app, kind="case_status")) == 12
    again = _batch(client, dept, events)  # the whole backfill resent
    assert all(item["duplicate"] for item in again["items"]) and len(rows(app, CaseEvent)) == 12
    assert len(outbox(app)) == 12 + 2  # and the two invitations


def test_each_item_has_its_own_result(app, client, dept, push, citizen):
    first = event(1, "submitted")
    push(first)
    items = [
        event(2, "accepted"),                                         # applied
        {**event(3, "in_review"), "status": "nope"},                  # invalid
        event(3, "concluded"),                                        # illegal transition
        {**first, "status": "accepted"},                              # same id, other body
        event(1, "submitted", case_no="B-9", person=("王五", "340102197001015212")),  # bad ID number
        event(5, "approved"),                                         # pending (gap at 4, 3 refused)
        {"event_id": 7},                                              # invalid, no usable event id
    ]
    answer = _batch(client, dept, items)
    results = answer["items"]
    assert answer["accepted"] == 2 and answer["rejected"] == 5 and len(results) == len(items)
    assert results[0]["state"] == "applied" and results[0]["status"] == "accepted"
    assert results[1]["code"] == "validation_failed" and "status" in results[1]["errors"]
    assert results[1]["http_status"] == 422 and results[1]["event_id"] == items[1]["event_id"]
    assert results[2]["code"] == "illegal_transition" and results[2]["http_status"] == 409
    assert results[3]["code"] == "event_conflict"
    assert results[4]["code"] == "id_number_invalid"
    assert results[5]["state"] == "pending"
    assert results[6]["code"] == "validation_failed" and "event_id" not in results[6]
    assert all(r["detail"] for r in results if not r["accepted"])
    assert [c.status for c in rows(app, Case)] == ["accepted"]


def test_batch_limits_and_scope(client, dept, machine_token):
    assert_problem(client.post(BATCH, json={"events": []}, headers=dept), 422, "validation_failed")
    assert_problem(client.post(BATCH, json={"events": [event(1)] * 501}, headers=dept), 422, "validation_failed")
    assert_problem(client.post(BATCH, json={}, headers=dept), 422, "validation_failed")
    assert_problem(client.post(BATCH, json={"events": ["not an object"]}, headers=dept), 422, "validation_failed")
    assert_problem(client.post(BATCH, json={"events": [event(1)]}, headers=bearer(machine_token("halls:write"))),
                   403, "insufficient_scope")


def test_a_parked_backfill_tells_nobody(app, client, dept):
    answer = _batch(client, dept, [event(i, s, person=vectors.WANG_WU) for i, s in enumerate(CHAIN, start=1)])
    assert answer["accepted"] == 6 and outbox(app) == []
    assert rows(app, Case)[0].user_id is None
