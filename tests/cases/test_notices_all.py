"""Case notices (issue 16 "Notices for everything that happens to a citizen"): a status change, 补正
requested (with its due date), the SLA about to be missed (`flask cases remind-sla`), the 好差评
invitation, and a 差评 answered. Each is an outbox row with zh and en texts and the deep link
`yiwang://cases/<id>`, and reaches the three channels: the inbox, a live event on the citizen's Redis
channel (what the SSE stream relays) and a push to a device. `three_channels` is shared with
tests/appointments/test_notices.py."""
from __future__ import annotations

import json
from datetime import datetime, time

import pytest
import time_machine

from app.db import db
from notify.models import InboxEntry
from notify.outbox import OutboxEntry
from notify.quiet import SHANGHAI
from tests import vectors
from tests.fixtures.cases import CASES, FOLLOW_UPS, event
from tests.fixtures.notify import Clock
from tests.helpers import bearer, rows

APNS = "ab" * 32


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def person(client, app, verified_citizen):
    """Zhang San at L2 with one phone registered for pushes: {"user_id", "headers"}."""
    tokens = verified_citizen(vectors.ZHANG_SAN)
    person = {"user_id": tokens["user"]["id"], "headers": bearer(tokens["access_token"])}
    with_device(client, app, person["headers"])
    return person


def with_device(client, app, headers: dict) -> None:
    response = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    with app.app_context(), db.connection_context():
        OutboxEntry.delete().where(OutboxEntry.kind == "new_device").execute()


def queued(app, kind: str) -> list[tuple[OutboxEntry, dict]]:
    """The outbox rows of `kind` (oldest first), each with its data, checked for the English."""
    found = sorted(rows(app, OutboxEntry, OutboxEntry.kind == kind), key=lambda r: r.id)
    for row in found:
        data = json.loads(row.data)
        assert data["title_en"] and data["body_en"] and data["title_en"] != row.title, data
    return [(row, json.loads(row.data)) for row in found]


def three_channels(app, client, *, user_id: str, headers: dict, make_worker, channels, kind: str, link: str,
                   title: str, worker_clock: Clock | None = None) -> dict:
    """Run the notify worker once; the notice of `kind` with `link` and `title` must reach the inbox, the live
    channel and the push channel (once). Returns the inbox item as the app reads it in English."""
    live = app.extensions["redis"].pubsub(ignore_subscribe_messages=True)
    live.subscribe(f"notify:user:{user_id}")
    live.get_message(timeout=1)  # the subscription's confirmation
    make_worker(**({"clock": worker_clock} if worker_clock else {})).drain()
    entries = [e for e in rows(app, InboxEntry, InboxEntry.kind == kind) 
               if json.loads(e.data)["link"] == link and e.title == title]
    assert len(entries) == 1 and entries[0].user_id == user_id, [(e.kind, e.data) for e in entries]
    entry = entries[0]
    events = []
    for _ in range(30):
        message = live.get_message(timeout=0.2)
        if message is not None:
            events.append(json.loads(message["data"]))
        if any(e["id"] == str(entry.id) for e in events):
            break
    live.close()
    event_ = next(e for e in events if e["id"] == str(entry.id))  # the inbox item, as the stream sends it
    assert event_["kind"] == kind and event_["title"] == entry.title and event_["data"]["link"] == link
    pushed = [m for token, m in channels["apns"].sent if token == APNS and m.title == entry.title]
    assert len(pushed) == 1, channels["apns"].sent
    inbox = client.get("/api/v1/notifications", query_string={"limit": 50},
                       headers=headers | {"Accept-Language": "en"}).get_json()
    return next(i for i in inbox["items"] if i["id"] == str(entry.id))


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
    item = three_channels(app, client, user_id=person["user_id"], headers=person["headers"], make_worker=make_worker,
                          channels=channels, kind="case_status", link=_case_link(case_id), title="办件进度：受理")
    assert "C-2026-0001" in item["body"] and item["data"]["link"] == _case_link(case_id)


def test_a_supplement_request_names_its_due_date(app, client, push, person, make_worker, channels):
    case_id = push(event(1, "submitted"))["case_id"]
    push(event(2, "supplement_required", supplement_due="2026-03-20", message="请补交营业场所证明（张三）"))
    row, data = queued(app, "case_status")[-1]
    assert data["event"] == "supplement" and data["supplement_due"] == "2026-03-20"
    assert "2026年3月20日前补正材料" in row.body and "2026-03-20" in data["body_en"]
    assert "张三" not in row.title + row.body + row.data  # the department's message stays behind the login
    item = three_channels(app, client, user_id=person["user_id"], headers=person["headers"], make_worker=make_worker,
                          channels=channels, kind="case_status", link=_case_link(case_id), title="办件进度：补正")
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
    item = three_channels(app, client, user_id=person["user_id"], headers=person["headers"], make_worker=make_worker,
                          channels=channels, kind="case_sla_due", link=_case_link(case_id), title=row.title)
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
    three_channels(app, client, user_id=person["user_id"], headers=person["headers"], make_worker=make_worker,
                   channels=channels, kind="evaluation_invite", link=_case_link(case_id), title=row.title)


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
    answer = three_channels(app, client, user_id=person["user_id"], headers=person["headers"],
                            make_worker=make_worker, channels=channels, kind="follow_up_answered",
                            link=_case_link(case_id), title=row.title)
    assert answer["title"] == "Your rating has been answered"
