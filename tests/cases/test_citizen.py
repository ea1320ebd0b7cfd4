"""The citizen's cases: only their own (L2+), newest first with a cursor, the timeline in order,
the applicant masked; parked cases attached, with their notices, when the person is verified."""
from __future__ import annotations

import cases.tasks
from app.audit import AuditEvent
from cases.models import Case
from tests import vectors
from tests.fixtures.cases import CASES, event, notice_data, outbox
from tests.helpers import assert_problem, bearer, rows


def test_my_case_with_its_timeline(client, run_chain, citizen):
    run_chain(("submitted", "accepted", "in_review"))
    [item] = client.get(CASES, headers=citizen).get_json()["items"]
    assert item["case_no"] == "C-2026-0001" and item["status"] == "in_review" and item["status_label"] == "审查/办理中"
    assert item["department_name"] == "test client" and item["channel"] == "online"
    assert item["can_evaluate"] is False and item["rated"] is False
    detail = client.get(f"{CASES}/{item['id']}", headers=citizen).get_json()
    assert [(e["seq"], e["status"], e["status_label"]) for e in detail["timeline"]] == [
        (1, "submitted", "已提交"), (2, "accepted", "受理"), (3, "in_review", "审查/办理中")]
    assert detail["timeline"][0]["occurred_at"] == "2026-03-01T09:00:00+08:00"  # issue 14 item 19: China time
    assert detail["applicant"] == {"name_masked": "张*", "id_number_masked": "3401**********1232"}
    assert vectors.ZHANG_SAN[1] not in str(detail) and detail["evaluation"] is None


def test_another_citizens_case_is_not_found(client, push, citizen, verified_citizen):
    answer = push(event(1, "submitted"))
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert client.get(CASES, headers=other).get_json()["items"] == []
    assert_problem(client.get(f"{CASES}/{answer['case_id']}", headers=other), 404, "case_not_found")
    assert_problem(client.get(f"{CASES}/case_nope", headers=citizen), 404, "case_not_found")


def test_l1_citizens_are_asked_to_verify(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    assert_problem(client.get(CASES, headers=headers), 403, "assurance_level_insufficient")
    assert_problem(client.get(f"{CASES}/x", headers=headers), 403, "assurance_level_insufficient")
    assert_problem(client.get(CASES), 401)


def test_pages_newest_first_and_a_status_filter(client, push, citizen):
    for i in range(5):
        push(event(1, "submitted", case_no=f"C-{i}"))
    push(event(2, "accepted", case_no="C-3"))
    seen, cursor = [], None
    while True:
        page = client.get(CASES, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=citizen).get_json()
        seen += [i["case_no"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["C-4", "C-3", "C-2", "C-1", "C-0"]
    accepted = client.get(CASES, query_string={"status": "accepted"}, headers=citizen).get_json()["items"]
    assert [i["case_no"] for i in accepted] == ["C-3"]
    assert_problem(client.get(CASES, query_string={"cursor": "%%%"}, headers=citizen), 422, "cursor_invalid")
    assert_problem(client.get(CASES, query_string={"status": "nope"}, headers=citizen), 422, "validation_failed")
    assert_problem(client.get(CASES, query_string={"limit": 0}, headers=citizen), 422, "validation_failed")


def test_a_case_with_only_pending_events_is_not_shown_yet(client, push, citizen):
    push(event(2, "accepted"))
    assert client.get(CASES, headers=citizen).get_json()["items"] == []


def test_parked_cases_are_attached_with_their_notices_at_verification(app, client, run_chain, push,
                                                                     verified_citizen):
    run_chain(("submitted", "accepted", "in_review", "approved", "concluded"))
    push(event(1, "submitted", case_no="C-OTHER"))
    push(event(1, "submitted", case_no="C-LISI", person=vectors.LI_SI))
    assert all(c.user_id is None for c in rows(app, Case)) and outbox(app) == []
    headers = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    cases = {c.case_no: c for c in rows(app, Case)}
    user_id = cases["C-2026-0001"].user_id
    assert user_id and cases["C-OTHER"].user_id == user_id and cases["C-LISI"].user_id is None
    status_notices = outbox(app, kind="case_status")
    assert sorted(notice_data(n)["status"] for n in status_notices) == ["concluded", "submitted"]  # the latest only
    [invite] = outbox(app, kind="evaluation_invite")
    assert invite.user_id == user_id and invite.dedupe_key == f"evaluation-invite:{cases['C-2026-0001'].id}"
    assert cases["C-2026-0001"].reminder_due_at is not None
    assert len(client.get(CASES, headers=headers).get_json()["items"]) == 2
    assert len(rows(app, AuditEvent, AuditEvent.action == "cases.attached")) == 1
    push(event(6, "delivered"))  # later events are told at once
    assert len(outbox(app, kind="case_status")) == 3


def test_a_case_parked_when_its_first_event_came_heals_on_the_next(app, push, verified_citizen, monkeypatch):
    push(event(1, "submitted"))
    monkeypatch.setattr(cases.tasks, "attach_parked", lambda **kw: 0)  # the attachment missed it
    verified_citizen(vectors.ZHANG_SAN)
    assert rows(app, Case)[0].user_id is None
    push(event(2, "accepted"))
    assert rows(app, Case)[0].user_id is not None
    assert [notice_data(n)["status"] for n in outbox(app, kind="case_status")] == ["accepted"]
