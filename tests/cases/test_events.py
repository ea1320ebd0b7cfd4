"""Department events: accepted and applied, idempotent by event_id, applied in seq order (pending
while a gap is open), illegal transitions refused and recorded, one transaction per event."""
from __future__ import annotations

import pytest

import cases.notices
from app.audit import AuditEvent
from cases.models import Case, CaseEvent, TimelineEntry
from tests import vectors
from tests.fixtures.cases import CHAIN, EVENTS, event, outbox
from tests.helpers import assert_problem, bearer, rows


def _case(app, case_no="C-2026-0001") -> Case:
    [case] = rows(app, Case, Case.case_no == case_no)
    return case


def _timeline(app, case: Case) -> list[tuple[int, str]]:
    return [(e.seq, e.status) for e in sorted(rows(app, TimelineEntry, TimelineEntry.case == case.id),
                                              key=lambda e: e.id)]


def test_an_event_opens_the_case_and_queues_one_notice(app, push, citizen):
    answer = push(event(1, "submitted", message="材料已收到"))
    assert answer["accepted"] is True and answer["duplicate"] is False
    assert answer["state"] == "applied" and answer["status"] == "submitted" and answer["status_label"] == "已提交"
    case = _case(app)
    assert case.status == "submitted" and case.last_seq == 1 and case.user_id is not None
    assert answer["case_id"] == case.id
    assert vectors.ZHANG_SAN[1].encode() not in bytes(case.applicant_id_enc)  # stored encrypted
    assert _timeline(app, case) == [(1, "submitted")]
    [notice] = outbox(app, kind="case_status")
    assert notice.user_id == case.user_id and notice.collapse_key == "C-2026-0001"
    assert notice.dedupe_key.startswith("case-event:") and notice.dedupe_key.endswith(":" + answer["event_id"])
    assert "C-2026-0001" in notice.body and "个体工商户设立登记" in notice.body
    for personal in (*vectors.ZHANG_SAN, "材料已收到"):  # no name, ID number or free text in a push
        assert personal not in notice.title + notice.body
    [audit] = rows(app, AuditEvent, AuditEvent.action == "cases.event")
    assert audit.outcome == "success" and audit.target == case.id


def test_the_same_event_twice_is_answered_the_same_and_stored_once(app, client, push, citizen):
    body = event(1, "submitted")
    first, second = push(body), push(body)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert {k: v for k, v in first.items() if k != "duplicate"} == {k: v for k, v in second.items() if k != "duplicate"}
    assert len(rows(app, CaseEvent)) == 1 and len(rows(app, TimelineEntry)) == 1
    assert len(outbox(app)) == 1


def test_the_same_time_in_another_offset_is_the_same_body(app, push, citizen):
    body = event(1, "submitted")
    push(body)
    again = dict(body, occurred_at="2026-03-01T01:00:00Z")  # 09:00 +08:00
    assert push(again)["duplicate"] is True


def test_the_same_event_id_with_another_body_is_refused(app, client, dept, push, citizen):
    body = event(1, "submitted")
    push(body)
    changed = dict(body, status="accepted")
    problem = assert_problem(client.post(EVENTS, json=changed, headers=dept), 422, "event_conflict")
    assert problem["event_id"] == body["event_id"]
    assert _case(app).status == "submitted" and len(rows(app, CaseEvent)) == 1 and len(outbox(app)) == 1
    refused = rows(app, AuditEvent, AuditEvent.action == "cases.event", AuditEvent.outcome == "refused")
    assert len(refused) == 1 and vectors.ZHANG_SAN[1] not in (refused[0].details or "")


def test_event_ids_belong_to_their_department(app, client, push, machine_token, citizen):
    body = event(1, "submitted")
    push(body)
    other = bearer(machine_token("cases:write"))
    answer = push(body, headers=other)  # another department, its own case C-2026-0001
    assert answer["duplicate"] is False
    assert len(rows(app, Case)) == 2


def test_out_of_order_events_wait_and_are_applied_in_seq_order(app, push, citizen):
    third = push(event(3, "in_review"))
    assert third["state"] == "pending" and third["status"] is None
    second = push(event(2, "accepted", promised_days=20))
    assert second["state"] == "pending"
    fifth = push(event(5, "concluded"))
    assert fifth["state"] == "pending"
    assert outbox(app) == []  # nothing applied yet, nothing told
    first = push(event(1, "submitted"))
    assert first["state"] == "applied" and first["status"] == "in_review"
    assert first["released"] == [second["event_id"], third["event_id"]]
    case = _case(app)
    assert case.last_seq == 3 and case.pending_count == 1 and case.clock_started_at is not None
    assert _timeline(app, case) == [(1, "submitted"), (2, "accepted"), (3, "in_review")]
    assert [n.dedupe_key.rsplit(":", 1)[1] for n in sorted(outbox(app, kind="case_status"), key=lambda n: n.id)] \
        == [first["event_id"], second["event_id"], third["event_id"]]
    fourth = push(event(4, "approved"))
    assert fourth["status"] == "concluded" and fourth["released"] == [fifth["event_id"]]
    assert _timeline(app, _case(app))[-2:] == [(4, "approved"), (5, "concluded")]
    assert _case(app).pending_count == 0
    assert push(event(3, "in_review", event_id=third["event_id"]))["state"] == "applied"  # its retry: now applied


def test_a_pending_event_that_turns_out_illegal_is_rejected_and_the_gap_reopens(app, push, client, dept, citizen):
    bad = event(3, "delivered")
    assert push(bad)["state"] == "pending"
    push(event(1, "submitted"))
    answer = push(event(2, "accepted"))
    assert answer["status"] == "accepted" and answer["released"] == []
    [row] = rows(app, CaseEvent, CaseEvent.event_id == bad["event_id"])
    assert row.state == "rejected" and row.outcome == "illegal_transition" and row.seq_slot is None
    assert_problem(client.post(EVENTS, json=bad, headers=dept), 409, "illegal_transition")
    assert push(event(3, "in_review"))["status"] == "in_review"  # the seq slot is free again


@pytest.mark.parametrize("chain, bad", [
    (("submitted",), "concluded"),
    (("submitted", "accepted", "in_review", "approved", "concluded", "delivered"), "in_review"),
    (("submitted", "not_accepted"), "accepted"),
    (("submitted", "accepted", "in_review", "suspended"), "approved"),
    (("submitted", "accepted", "in_review", "approved"), "withdrawn"),
    ((), "in_review"),
])
def test_illegal_transitions_are_refused_and_recorded(app, client, dept, run_chain, chain, bad, citizen):
    run_chain(chain)
    body = event(len(chain) + 1, bad)
    problem = assert_problem(client.post(EVENTS, json=body, headers=dept), 409, "illegal_transition")
    assert problem["from_status"] == (chain[-1] if chain else None) and problem["to_status"] == bad
    assert problem["duplicate"] is False
    [row] = rows(app, CaseEvent, CaseEvent.event_id == body["event_id"])
    assert row.state == "rejected" and row.outcome == "illegal_transition"
    case = _case(app)
    assert case.status == (chain[-1] if chain else None) and case.last_seq == len(chain)
    assert len(outbox(app, kind="case_status")) == len(chain)
    again = assert_problem(client.post(EVENTS, json=body, headers=dept), 409, "illegal_transition")
    assert again["duplicate"] is True
    refused = rows(app, AuditEvent, AuditEvent.action == "cases.event", AuditEvent.outcome == "refused")
    assert len(refused) == 1


def test_the_whole_chain_with_pauses_and_withdrawal(run_chain, push):
    answers = run_chain(("submitted", "pre_accepted", "supplement_required", "accepted", "in_review", "suspended",
                         "in_review", "in_review", "denied", "concluded", "delivered"))
    assert answers[-1]["status"] == "delivered" and answers[-1]["status_label"] == "送达/领取"
    answers = run_chain(("submitted", "accepted", "supplement_required", "withdrawn"), case_no="C-2")
    assert answers[-1]["status_label"] == "撤件"


def test_a_used_seq_is_refused(app, client, dept, push, citizen):
    push(event(1, "submitted"))
    assert_problem(client.post(EVENTS, json=event(1, "accepted"), headers=dept), 409, "seq_conflict")
    push(event(3, "in_review"))
    assert_problem(client.post(EVENTS, json=event(3, "suspended"), headers=dept), 409, "seq_conflict")
    assert [r.state for r in rows(app, CaseEvent)].count("rejected") == 2


def test_a_case_number_of_another_applicant_is_refused(app, client, dept, push, citizen):
    push(event(1, "submitted"))
    problem = assert_problem(client.post(EVENTS, json=event(2, "accepted", person=vectors.LI_SI), headers=dept),
                             422, "case_mismatch")
    assert vectors.LI_SI[1] not in str(problem)
    other_item = event(2, "accepted", item_code="ITEM-OTHER")
    assert_problem(client.post(EVENTS, json=other_item, headers=dept), 422, "case_mismatch")
    assert _case(app).status == "submitted"


@pytest.mark.parametrize("change, field", [
    ({"status": "finished"}, "status"),
    ({"seq": 0}, "seq"),
    ({"seq": "2"}, "seq"),
    ({"occurred_at": "2026-03-01T09:00:00"}, "occurred_at"),  # no offset
    ({"occurred_at": "2099-01-01T09:00:00+08:00"}, "occurred_at"),
    ({"case_no": "C 1"}, "case_no"),
    ({"event_id": ""}, "event_id"),
    ({"promised_days": 0}, "promised_days"),
    ({"channel": "fax"}, "channel"),
    ({"extra": 1}, "extra"),
])
def test_invalid_bodies_are_refused_with_the_field(app, client, dept, change, field):
    response = client.post(EVENTS, json={**event(1), **change}, headers=dept)
    assert field in assert_problem(response, 422, "validation_failed")["errors"]
    assert rows(app, Case) == [] and rows(app, CaseEvent) == []


def test_missing_fields_and_a_bad_id_number(app, client, dept):
    body = event(1)
    del body["applicant"]
    assert "applicant" in assert_problem(client.post(EVENTS, json=body, headers=dept), 422)["errors"]
    bad = event(1, person=("张三", "340102199003071233"))  # wrong check digit
    problem = assert_problem(client.post(EVENTS, json=bad, headers=dept), 422, "id_number_invalid")
    assert "applicant.id_number" in problem["errors"]
    assert_problem(client.post(EVENTS, data="{", headers={**dept, "Content-Type": "application/json"}), 400)
    assert rows(app, Case) == []


def test_only_department_clients_with_the_scope(client, machine_token, citizen):
    assert_problem(client.post(EVENTS, json=event(1)), 401)
    assert_problem(client.post(EVENTS, json=event(1), headers=bearer(machine_token("licences:issue"))), 403,
                   "insufficient_scope")
    assert_problem(client.post(EVENTS, json=event(1), headers=citizen), 403)


def test_nothing_is_half_written_when_the_outbox_fails(app, client, dept, push, citizen, monkeypatch):
    push(event(1, "submitted"))

    def broken(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(cases.notices, "enqueue", broken)
    assert_problem(client.post(EVENTS, json=event(2, "accepted"), headers=dept), 500, "internal_error")
    case = _case(app)
    assert case.status == "submitted" and case.last_seq == 1
    assert len(rows(app, CaseEvent)) == 1 and len(rows(app, TimelineEntry)) == 1 and len(outbox(app)) == 1
    assert len(rows(app, AuditEvent, AuditEvent.action == "cases.event")) == 1
    monkeypatch.undo()
    assert push(event(2, "accepted"))["status"] == "accepted"


def test_tracking_number_and_item_snapshot(app, run_chain, citizen, push):
    run_chain(CHAIN[:-1])
    push(event(6, "delivered", tracking_no="SF1234567890"))
    case = _case(app)
    assert case.tracking_no == "SF1234567890" and case.department_name == "test client"


def test_the_department_sees_which_seq_is_missing(client, dept, push, machine_token):
    push(event(1, "submitted"))
    push(event(3, "in_review"))
    push(event(5, "concluded"))
    view = client.get("/api/v1/dept/cases/C-2026-0001", headers=dept).get_json()
    assert view["status"] == "submitted" and view["last_seq"] == 1 and view["pending_seqs"] == [3, 5]
    assert view["parked"] is True and "applicant" not in view
    other = bearer(machine_token("cases:write"))
    assert_problem(client.get("/api/v1/dept/cases/C-2026-0001", headers=other), 404, "case_not_found")
    push(event(1, "submitted", case_no="2026/7"))  # case numbers may hold a slash
    assert client.get("/api/v1/dept/cases/2026/7", headers=dept).get_json()["case_no"] == "2026/7"
