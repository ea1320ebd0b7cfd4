"""Issue 21: `yiwang_case_events_total{result}` — one per department event: the single route by its
answer, a backfill per event (each as it would have been answered alone)."""
from __future__ import annotations

from prometheus_client import REGISTRY

from app.request_metrics import TALLY
from tests.fixtures.cases import event


def case_events(result: str) -> float:
    TALLY.flush()
    return REGISTRY.get_sample_value("yiwang_case_events_total", {"result": result}) or 0.0


def test_single_events_count_ok_and_refusals(client, dept, push):
    ok, invalid = case_events("ok"), case_events("validation_failed")
    push(event(1))
    assert case_events("ok") == ok + 1
    push({**event(2), "status": "no-such-status"}, status=422)
    assert case_events("validation_failed") == invalid + 1


def test_a_backfill_counts_each_event(client, dept):
    ok, invalid = case_events("ok"), case_events("validation_failed")
    events = [event(1, case_no="C-2026-0900"), event(2, "accepted", case_no="C-2026-0900"), {"event_id": "bad"}]
    response = client.post("/api/v1/dept/case-events:batch", json={"events": events}, headers=dept)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["accepted"] == 2
    assert case_events("ok") == ok + 2
    assert case_events("validation_failed") == invalid + 1
