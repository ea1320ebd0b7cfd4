"""Case notices (issue 16 "Notices for everything that happens to a citizen"): a status change, 补正
requested (with its due date), the SLA about to be missed (`flask cases remind-sla`), the 好差评
invitation, and a 差评 answered. Each is an outbox row with zh and en texts and the deep link
`yiwang://cases/<id>`, and reaches the three channels: the inbox, a live event on the citizen's Redis
channel (what the SSE stream relays) and a push to a device (tests/fixtures/notify.py: three_channels)."""
from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine

from notify.quiet import SHANGHAI
from tests.fixtures.cases import CASES, FOLLOW_UPS, event
from tests.fixtures.notify import daytime_clock, queued, three_channels

clock = daytime_clock


@pytest.fixture
def person(person_with_device):
    """Zhang San at L2 with one phone registered for pushes: {"user_id", "headers"}."""
    return person_with_device


def _case_link(case_id: str) -> str:
    return f"yiwang://cases/{case_id}"


def _china(day: str, hour: int = 9) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), tzinfo=SHANGHAI)


def test_a_status_change_reaches_the_three_channels_with_its_link(app, client, push, person, make_worker, channels):
    case_id = push(event(1, "submitted"))["case_id"]
    push(event(2, "accepted"))
    found = queued(app, "case_status")
    assert [d["status"] for _, d in found] == ["submitted", "accepted"]
    row, data = found[-1]
    assert data["link"] == _case_link(case_id) and (data["screen"], data["case_id"]) == ("cases", case_id)
    assert row.title == "办件进度：受理" and "C-2026-0001" in row.body
    item = three_channels(app, client, make_worker, channels, user_id=person["user_id"],
                          headers=person["headers"], kind="case_status", link=_case_link(case_id), title="办件进度：受理")
    assert "C-2026-0001" in item["body"] and item["data"]["link"] == _case_link(case_id)


def test_a_supplement_request_names_its_due_date(app, client, push, person, make_worker, channels):
    case_id = push(event(1, "submitted"))["case_id"]
    push(event(2, "supplement_required", supplement_due="2026-03-20", message="请补交营业场所证明（张三）"))
    row, data = queued(app, "case_status")[-1]
    assert data["event"] == "supplement" and data["supplement_due"] == "2026-03-20"
    assert "2026年3月20日前补正材料" in row.body and "2026-03-20" in data["body_en"]
    assert "张三" not in row.title + row.body + row.data  # the department's message stays behind the login
    item = three_channels(app, client, make_worker, channels, user_id=person["user_id"],
                          headers=person["headers"], kind="case_status", link=_case_link(case_id), title="办件进度：补正")
    assert "2026-03-20" in item["body"]


def test_the_sla_notice_once_within_one_working_day_of_the_due_date(app, client, push, person, runner,
                                                                    make_worker, channels):
    push(event(1, "submitted", occurred_at="2026-03-01T09:00:00+08:00"))
    case_id = push(event(2, "accepted", occurred_at="2026-03-02T09:00:00+08:00", promised_days=5))["case_id"]
    detail = client.get(f"{CASES}/{case_id}", headers=person["headers"]).get_json()
    assert detail["clock"]["due_date"] == "2026-03-09"  # Monday
    # Thursday: the next working day is Friday, before the due date; Friday: Monday is the next one;
    # the weekend and the day itself: already told (one notice per case and due date).
    for day, count in (("2026-03-05", 0), ("2026-03-06", 1), ("2026-03-06", 0), ("2026-03-07", 0),
                       ("2026-03-09", 0)):
        with time_machine.travel(_china(day), tick=False):
            out = runner.invoke(args=["cases", "remind-sla"]).output
        assert f"queued {count} SLA notice(s)" in out, (day, out)
    [(row, data)] = queued(app, "case_sla_due")
    assert row.title == "办件即将超过承诺时限" and "2026年3月9日" in row.body and "C-2026-0001" in row.body
    assert data["due_date"] == "2026-03-09" and data["link"] == _case_link(case_id)
    item = three_channels(app, client, make_worker, channels, user_id=person["user_id"],
                          headers=person["headers"], kind="case_sla_due", link=_case_link(case_id), title=row.title)
    assert item["title"] == "Case deadline approaching" and "2026-03-09" in item["body"]


def test_no_sla_notice_while_paused_or_after_a_decision(app, push, person, runner):
    push(event(1, "accepted", occurred_at="2026-03-02T09:00:00+08:00", promised_days=5))
    push(event(2, "supplement_required", occurred_at="2026-03-03T09:00:00+08:00"))  # the clock stops
    push(event(1, "accepted", case_no="C-2", occurred_at="2026-03-02T09:00:00+08:00", promised_days=5))
    push(event(2, "approved", case_no="C-2", occurred_at="2026-03-04T09:00:00+08:00"))
    for day in ("2026-03-06", "2026-03-09"):
        with time_machine.travel(_china(day), tick=False):
            assert "queued 0 SLA notice(s)" in runner.invoke(args=["cases", "remind-sla"]).output
    assert queued(app, "case_sla_due") == []


def test_the_evaluation_invitation_carries_the_link(app, client, run_chain, person, make_worker, channels):
    case_id = run_chain(("submitted", "accepted", "in_review", "approved", "concluded"))[0]["case_id"]
    [(row, data)] = queued(app, "evaluation_invite")
    assert data["link"] == _case_link(case_id) and data["screen"] == "cases"
    three_channels(app, client, make_worker, channels, user_id=person["user_id"],
                   headers=person["headers"], kind="evaluation_invite", link=_case_link(case_id), title=row.title)


def test_a_poor_rating_answered_is_told_without_the_answer(app, client, run_chain, person, dept, make_worker,
                                                           channels):
    case_id = run_chain(("submitted", "accepted", "in_review", "approved", "concluded"))[0]["case_id"]
    response = client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 1, "comment": "材料要求反复变化"},
                           headers=person["headers"])
    assert response.status_code == 201, response.get_json()
    assert queued(app, "follow_up_answered") == []
    [item] = client.get(FOLLOW_UPS, headers=dept).get_json()["items"]
    url = f"{FOLLOW_UPS}/{item['id']}/answer"
    assert client.post(url, json={"answer": "已约谈窗口并统一材料清单。"}, headers=dept).status_code == 200
    assert client.post(url, json={"answer": "再次答复"}, headers=dept).status_code == 409
    [(row, data)] = queued(app, "follow_up_answered")
    assert row.title == "您的评价已收到答复" and "约谈" not in row.body + row.data
    assert data["link"] == _case_link(case_id) and data["follow_up_id"] == item["id"]
    answer = three_channels(app, client, make_worker, channels, user_id=person["user_id"],
                            headers=person["headers"], kind="follow_up_answered", link=_case_link(case_id),
                            title=row.title)
    assert answer["title"] == "Your rating has been answered"
