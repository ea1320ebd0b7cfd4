"""Cases (办件): a citizen's case and its evaluation, a department's case and its follow-ups."""
from __future__ import annotations

from cases.models import Evaluation, FollowUp
from tests import vectors
from tests.fixtures.cases import CASES, CHAIN, FOLLOW_UPS, event
from tests.helpers import bearer, rows
from tests.object_access.conftest import refused

ROUTES = {
    "/api/v1/cases/<case_id>", "/api/v1/cases/<case_id>/evaluation", "/api/v1/dept/cases/<path:case_no>",
    "/api/v1/dept/follow-ups/<follow_up_id>/answer",
}
CONCLUDED = CHAIN[:-1]
CASE_NO = "C-2026-0001"
COMMENT = "材料要求反复变化"
SECRETS = (vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], CASE_NO, COMMENT)


def _not_departments(machine_token, clerk_of, *citizens) -> list[dict]:
    """Tokens of the wrong kind or scope for department routes."""
    return [*citizens, clerk_of("H1"), bearer(machine_token("licences:issue signatures:verify halls:write"))]


def test_a_case_of_another_citizen(app, client, two_citizens, run_chain, dept, clerk_of):
    a, b = two_citizens
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    url = f"{CASES}/{case_id}"
    for headers in (b, dept, clerk_of("H1")):
        refused(client.get(url, headers=headers), *SECRETS)
        refused(client.post(f"{url}/evaluation", json={"rating": 1, "comment": "故意差评"}, headers=headers), *SECRETS)

    mine = client.get(url, headers=a).get_json()
    assert (mine["rated"], mine["can_evaluate"], mine["evaluation"]) == (False, True, None)
    assert rows(app, Evaluation) == [] and rows(app, FollowUp) == []
    assert client.post(f"{url}/evaluation", json={"rating": 5}, headers=a).status_code == 201


def test_a_case_of_another_department(client, two_citizens, run_chain, push, dept, machine_token, clerk_of):
    a, b = two_citizens
    run_chain(CONCLUDED)
    url = f"/api/v1/dept/cases/{CASE_NO}"
    state = lambda: {k: client.get(url, headers=dept).get_json()[k]
                     for k in ("id", "status", "last_seq", "pending_seqs", "updated_at")}
    before = state()
    other = bearer(machine_token("cases:write"))
    for headers in (other, *_not_departments(machine_token, clerk_of, a, b)):
        refused(client.get(url, headers=headers), *SECRETS[:2])  # the case number is in the URL
    # Another department's event with the same case number is its own case, not this one.
    push(event(len(CONCLUDED) + 1, "delivered", case_no=CASE_NO), headers=other)
    assert state() == before
    assert before["status"] == "concluded" and before["last_seq"] == len(CONCLUDED)


def test_a_follow_up_of_another_department(client, two_citizens, run_chain, dept, machine_token, clerk_of):
    a, b = two_citizens
    case_id = run_chain(CONCLUDED)[0]["case_id"]
    assert client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 1, "comment": COMMENT},
                       headers=a).status_code == 201
    [item] = client.get(FOLLOW_UPS, query_string={"status": "open"}, headers=dept).get_json()["items"]
    url = f"{FOLLOW_UPS}/{item['id']}/answer"
    other = bearer(machine_token("cases:write"))
    for headers in (other, *_not_departments(machine_token, clerk_of, a, b)):
        refused(client.post(url, json={"answer": "已整改"}, headers=headers), *SECRETS)

    assert [i["id"] for i in client.get(FOLLOW_UPS, query_string={"status": "open"}, headers=dept)
            .get_json()["items"]] == [item["id"]]
    follow_up = client.get(f"{CASES}/{case_id}", headers=a).get_json()["evaluation"]["follow_up"]
    assert follow_up["status"] == "open" and follow_up["answer"] is None
    answered = client.post(url, json={"answer": "已统一材料清单。"}, headers=dept)
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
