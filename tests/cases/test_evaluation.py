"""好差评: after conclusion only, once per case, GB/T 39734 labels, a reason for 1–2 and a follow-up
the department answers; the invitation at conclusion and one reminder 3 days later if unrated."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db, utcnow
from cases.models import Case, Evaluation, FollowUp
from cases.tasks import send_evaluation_reminders
from tests import vectors
from tests.fixtures.cases import CASES, CHAIN, FOLLOW_UPS, event, outbox
from tests.helpers import assert_problem, bearer, rows

CONCLUDED = CHAIN[:-1]


def _rate(client, headers, case_id: str, status: int = 201, **body) -> dict:
    response = client.post(f"{CASES}/{case_id}/evaluation", json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("rating, label", [(5, "非常满意"), (4, "满意"), (3, "基本满意")])
def test_a_concluded_case_is_rated_once(app, client, run_chain, citizen, rating, label):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    answer = _rate(client, citizen, case_id, rating=rating, tags=["one_visit" if rating > 3 else "wait_a_while"])
    assert answer["rating"] == rating and answer["rating_label"] == label and answer["follow_up"] is None
    assert_problem(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 5}, headers=citizen), 409,
                   "evaluation_exists")
    detail = client.get(f"{CASES}/{case_id}", headers=citizen).get_json()
    assert detail["rated"] is True and detail["can_evaluate"] is False
    assert detail["evaluation"]["rating_label"] == label and detail["timeline"][-1]["kind"] == "evaluation"
    assert len(rows(app, Evaluation)) == 1 and rows(app, FollowUp) == []


def test_not_before_conclusion(client, run_chain, citizen):
    case_id = run_chain(("submitted", "accepted", "in_review", "approved"))[0]["case_id"]
    assert_problem(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 5}, headers=citizen), 409,
                   "case_not_concluded")


def test_a_delivered_case_may_be_rated(client, run_chain, citizen):
    case_id = run_chain(CHAIN)[0]["case_id"]
    assert _rate(client, citizen, case_id, rating=4)["rating"] == 4


@pytest.mark.parametrize("body, field", [({"rating": 0}, "rating"), ({"rating": 6}, "rating"),
                                         ({"rating": "5"}, "rating"), ({}, "rating"),
                                         ({"rating": 5, "tags": ["x" * 17]}, "tags"),
                                         ({"rating": 5, "tags": ["等待时间长"]}, "tags"),
                                         ({"rating": 5, "tags": ["quick"] * 9}, "tags"),
                                         ({"rating": 5, "comment": "长" * 501}, "comment")])
def test_invalid_evaluations(client, run_chain, citizen, body, field):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    response = client.post(f"{CASES}/{case_id}/evaluation", json=body, headers=citizen)
    assert field in assert_problem(response, 422, "validation_failed")["errors"]


@pytest.mark.parametrize("rating", [1, 2])
def test_a_poor_rating_needs_a_reason_and_opens_a_follow_up(app, client, run_chain, citizen, dept, rating):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    for empty in ({}, {"comment": "   "}, {"tags": []}):
        problem = assert_problem(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": rating, **empty},
                                             headers=citizen), 422, "evaluation_reason_required")
        assert "comment" in problem["errors"]
    assert rows(app, Evaluation) == []
    answer = _rate(client, citizen, case_id, rating=rating, tags=["long_wait"], comment="窗口排队两小时")
    assert answer["rating_label"] == {1: "非常不满意", 2: "不满意"}[rating]
    assert answer["follow_up"]["status"] == "open"
    [evaluation] = rows(app, Evaluation)
    assert "窗口排队".encode() not in bytes(evaluation.comment_enc)  # encrypted at rest
    [follow_up] = rows(app, FollowUp)
    assert follow_up.rating == rating and follow_up.due_date > utcnow().date()
    items = client.get(FOLLOW_UPS, headers=dept).get_json()["items"]
    assert [(i["case_no"], i["comment"], i["tags"], i["status"]) for i in items] == [
        ("C-2026-0001", "窗口排队两小时", ["long_wait"], "open")]
    assert items[0]["tag_labels"] == ["等待时间长"]
    assert items[0]["applicant"] == {"name_masked": "张*"} and items[0]["overdue"] is False


def test_the_department_answers_a_follow_up_once(client, run_chain, citizen, dept, machine_token):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    _rate(client, citizen, case_id, rating=1, comment="材料要求反复变化")
    [item] = client.get(FOLLOW_UPS, query_string={"status": "open"}, headers=dept).get_json()["items"]
    other = bearer(machine_token("cases:write"))
    assert client.get(FOLLOW_UPS, headers=other).get_json()["items"] == []
    url = f"{FOLLOW_UPS}/{item['id']}/answer"
    assert_problem(client.post(url, json={"answer": "已整改"}, headers=other), 404, "follow_up_not_found")
    assert_problem(client.post(url, json={"answer": "  "}, headers=dept), 422, "validation_failed")
    answered = client.post(url, json={"answer": "已约谈窗口并统一材料清单，感谢反馈。"}, headers=dept)
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    assert_problem(client.post(url, json={"answer": "再次答复"}, headers=dept), 409, "follow_up_answered")
    assert client.get(FOLLOW_UPS, query_string={"status": "open"}, headers=dept).get_json()["items"] == []
    detail = client.get(f"{CASES}/{case_id}", headers=citizen).get_json()
    assert detail["evaluation"]["follow_up"]["answer"].startswith("已约谈")
    assert detail["timeline"][-1]["kind"] == "follow_up"


def test_follow_ups_page_oldest_first(client, push, citizen, dept):
    for i in range(3):
        for seq, status in enumerate(CONCLUDED, start=1):
            answer = push(event(seq, status, case_no=f"C-{i}"))
        _rate(client, citizen, answer["case_id"], rating=2, tags=["unfriendly_staff"])
    first = client.get(FOLLOW_UPS, query_string={"limit": 2}, headers=dept).get_json()
    second = client.get(FOLLOW_UPS, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=dept).get_json()
    assert [i["case_no"] for i in first["items"] + second["items"]] == ["C-0", "C-1", "C-2"]
    assert second["next_cursor"] is None
    assert_problem(client.get(FOLLOW_UPS, headers=citizen), 403)


def test_another_citizen_cannot_rate(client, run_chain, citizen, verified_citizen):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert_problem(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 5}, headers=other), 404,
                   "case_not_found")


# --- Invitation and reminder ----------------------------------------------------------------------

def test_the_invitation_at_conclusion_and_one_reminder_three_days_later(app, client, run_chain, push, citizen):
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    [invite] = outbox(app, kind="evaluation_invite")
    assert invite.dedupe_key == f"evaluation-invite:{case_id}" and "C-2026-0001" in invite.body
    [case] = rows(app, Case)
    assert timedelta(days=3) - timedelta(minutes=1) < case.reminder_due_at - utcnow() <= timedelta(days=3)
    with app.app_context():
        assert send_evaluation_reminders() == 0  # not yet due
        assert send_evaluation_reminders(now=utcnow() + timedelta(days=3, minutes=1)) == 1
        assert send_evaluation_reminders(now=utcnow() + timedelta(days=4)) == 0  # once
    [reminder] = outbox(app, kind="evaluation_reminder")
    assert reminder.dedupe_key == f"evaluation-reminder:{case_id}" and reminder.user_id == case.user_id
    push(event(6, "delivered"))  # no second invitation when the case is delivered
    assert len(outbox(app, kind="evaluation_invite")) == 1


def test_no_reminder_for_a_case_rated_meanwhile(app, client, run_chain, citizen):
    rated = run_chain(CONCLUDED)[0]["case_id"]
    run_chain(CONCLUDED, case_no="C-2")
    _rate(client, citizen, rated, rating=5)
    with app.app_context():
        assert send_evaluation_reminders(now=utcnow() + timedelta(days=3, minutes=1)) == 1
    [reminder] = outbox(app, kind="evaluation_reminder")
    assert reminder.dedupe_key != f"evaluation-reminder:{rated}"


def test_the_remind_command(app, run_chain, citizen, runner):
    run_chain(CONCLUDED)
    with app.app_context():
        with db.connection_context():
            Case.update(reminder_due_at=utcnow() - timedelta(minutes=1)).execute()
    result = runner.invoke(args=["cases", "remind"])
    assert result.exit_code == 0 and "queued 1 evaluation reminder" in result.output
    assert "queued 0" in runner.invoke(args=["cases", "remind"]).output
    assert len(outbox(app, kind="evaluation_reminder")) == 1


def test_tags_come_from_a_catalogue_per_rating_level(client, run_chain, citizen):
    """Issue 14 item 23: 好差评 tags were free text; now a fixed catalogue per rating level, listed
    by the API, and a tag of another level is refused with the allowed ones named."""
    catalogue = client.get(f"{CASES}/evaluation-tags").get_json()["items"]
    assert [level["rating"] for level in catalogue] == [5, 4, 3, 2, 1]
    by_rating = {level["rating"]: [t["code"] for t in level["tags"]] for level in catalogue}
    assert "one_visit" in by_rating[5] and "long_wait" in by_rating[1] and "long_wait" not in by_rating[5]
    assert {"code": "long_wait", "label": "等待时间长"} in catalogue[-1]["tags"]
    english = client.get(f"{CASES}/evaluation-tags", headers={"Accept-Language": "en"}).get_json()["items"]
    assert english[0]["rating_label"] == "Very satisfied" and english[0]["tags"][0]["label"] == "Done in one visit"
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    problem = assert_problem(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 5, "tags": ["long_wait"]},
                                         headers=citizen), 422, "evaluation_tag_invalid")
    assert problem["allowed_tags"] == by_rating[5] and "long_wait" in problem["errors"]["tags"][0]
    answer = _rate(client, citizen, case_id, rating=5, tags=["one_visit", "quick"])
    assert answer["tags"] == ["one_visit", "quick"] and answer["tag_labels"] == ["一次办成", "办理快捷"]
    detail = client.get(f"{CASES}/{case_id}", headers={**citizen, "Accept-Language": "en"}).get_json()
    assert detail["evaluation"]["tag_labels"] == ["Done in one visit", "Quick to handle"]
    assert detail["timeline"][-1]["message"] == "Very satisfied" and detail["timeline"][-1]["label"] == "Service rated"
    spec = client.get("/api/v1/openapi.json").get_json()
    tag_item = spec["components"]["schemas"]["Evaluate"]["properties"]["tags"]["items"]
    assert set(tag_item["enum"]) >= {"one_visit", "long_wait"}
