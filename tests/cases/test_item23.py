"""Issue 14 item 23: the applicant's name is checked against the real-name record of the ID
number, and a 补正 (supplement) deadline reaches the citizen's notice and case."""
from __future__ import annotations

from app.audit import AuditEvent
from cases.models import Case, CaseEvent
from tests import vectors
from tests.fixtures.cases import CASES, EVENTS, event, notice_data, outbox
from tests.helpers import assert_problem, rows


def test_a_name_contradicting_the_real_name_record_is_refused(app, client, dept, push, citizen):
    """Issue 14 item 23: an event naming 李四 for 张三's (verified) ID number used to be accepted
    and shown in 张三's app; it is refused with applicant_name_mismatch and nothing is stored."""
    wrong = event(1, "submitted", person=("李四", vectors.ZHANG_SAN[1]))
    problem = assert_problem(client.post(EVENTS, json=wrong, headers=dept), 422, "applicant_name_mismatch")
    assert "applicant.name" in problem["errors"] and problem["event_id"] == wrong["event_id"]
    assert "李四" not in str(problem) and vectors.ZHANG_SAN[1] not in str(problem)
    assert rows(app, Case) == [] and rows(app, CaseEvent) == [] and outbox(app) == []
    [audit] = rows(app, AuditEvent, AuditEvent.action == "cases.event")
    assert audit.outcome == "refused" and "applicant_name_mismatch" in audit.details
    english = client.post(EVENTS, json=wrong, headers={**dept, "Accept-Language": "en"}).get_json()
    assert english["detail"].startswith("The applicant's name does not match")
    assert english["errors"]["applicant.name"] == ["Does not match the registered real name of this ID number."]
    assert push(event(1, "submitted", person=("张 三", vectors.ZHANG_SAN[1])))["state"] == "applied"


def test_an_unverified_id_number_is_still_parked(app, push):
    """Nobody has verified 李四's ID number: nothing to compare with, the case is parked as before."""
    assert push(event(1, "submitted", person=vectors.LI_SI))["state"] == "applied"
    assert rows(app, Case)[0].user_id is None


def test_the_supplement_due_date_is_pushed_and_shown(app, client, push, citizen):
    """Issue 14 item 23: a 补正 event's deadline was not pushed; it now is in the notice, the
    case answer and the timeline, and the case forgets it once the documents are in."""
    push(event(1, "submitted"))
    push(event(2, "supplement_required", supplement_due="2026-03-20"))
    [notice] = [n for n in outbox(app, kind="case_status") if notice_data(n)["status"] == "supplement_required"]
    assert "2026年3月20日前补正材料" in notice.body and notice_data(notice)["supplement_due"] == "2026-03-20"
    [case] = client.get(CASES, headers=citizen).get_json()["items"]
    assert case["status"] == "supplement_required" and case["supplement_due"] == "2026-03-20"
    detail = client.get(f"{CASES}/{case['id']}", headers=citizen).get_json()
    assert detail["timeline"][-1]["supplement_due"] == "2026-03-20"
    push(event(3, "accepted", day=5))
    detail = client.get(f"{CASES}/{case['id']}", headers=citizen).get_json()
    assert detail["supplement_due"] is None and detail["timeline"][1]["supplement_due"] == "2026-03-20"


def test_a_supplement_due_date_only_with_a_supplement_and_not_before_it(app, client, dept):
    for body in (event(1, "submitted", supplement_due="2026-03-20"),
                 event(1, "submitted", supplement_due="2026-13-01")):
        problem = assert_problem(client.post(EVENTS, json=body, headers=dept), 422, "validation_failed")
        assert "supplement_due" in problem["errors"]
    client.post(EVENTS, json=event(1, "submitted"), headers=dept)
    early = event(2, "supplement_required", supplement_due="2026-03-01")  # the event is on 03-02
    problem = assert_problem(client.post(EVENTS, json=early, headers=dept), 422, "validation_failed")
    assert problem["errors"]["json.supplement_due"] if "json.supplement_due" in problem["errors"] \
        else problem["errors"]["supplement_due"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "supplement_due" in spec["components"]["schemas"]["CaseEvent"]["properties"]


def test_a_supplement_due_date_survives_waiting_for_an_earlier_seq(app, client, push, citizen):
    """The 补正 event arrives before the one it follows: its deadline is applied with it."""
    assert push(event(2, "supplement_required", supplement_due="2026-03-20"))["state"] == "pending"
    push(event(1, "submitted"))
    [case] = client.get(CASES, headers=citizen).get_json()["items"]
    assert case["status"] == "supplement_required" and case["supplement_due"] == "2026-03-20"


def test_a_backfill_refuses_only_the_event_with_the_wrong_name(app, client, dept, citizen):
    body = {"events": [event(1, "submitted"), event(1, "submitted", case_no="C-X", person=("王五", vectors.ZHANG_SAN[1]))]}
    answer = client.post(f"{EVENTS}:batch", json=body, headers=dept).get_json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert (answer["items"][1]["code"], answer["items"][1]["http_status"]) == ("applicant_name_mismatch", 422)
