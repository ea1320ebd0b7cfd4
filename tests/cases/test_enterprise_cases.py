"""Cases with an enterprise applicant (issue 19, WP7): a department sends applicant {uscc, name}; the
case is parked until the enterprise registers, then belongs to the enterprise (never to its LR's own
cases); the LR and an agent with cases:follow follow it with an enterprise token."""
from __future__ import annotations

import pytest

from app.security.pii import field_cipher
from cases.models import Case
from tests import vectors
from tests.fixtures.cases import CASES, event, outbox
from tests.helpers import assert_problem, rows
from tests.orgs.agent_fixtures import add_agent, agent_grant, enterprise_session, fresh_level  # noqa: F401

USCC = "91340100MA2RX7K01F"
NAME = "示例科技有限公司"


def company_event(seq: int = 1, status: str = "submitted", *, uscc: str = USCC, name: str = NAME, **kw) -> dict:
    body = event(seq, status, **kw)
    body["applicant"] = {"uscc": uscc, "name": name}
    return body


def register(app, client, runner, people, uscc: str = USCC, name: str = NAME) -> str:
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", uscc, "--name", name,
                              "--lr-name", vectors.ZHANG_SAN[0], "--lr-id-number", vectors.ZHANG_SAN[1]])
    assert out.exit_code == 0, out.output
    fresh_level(app, people["principal"]["id"])
    response = client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=people["principal"]["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def enterprise(app, client, runner, people):
    return register(app, client, runner, people)


def _case(app, case_id: str) -> Case:
    [row] = rows(app, Case, Case.id == case_id)
    return row


def test_parked_until_the_enterprise_registers_then_its_own(app, client, runner, people, push):
    first = push(company_event(1, "submitted"))
    case = _case(app, first["case_id"])
    with app.app_context():
        assert (case.applicant_kind, case.user_id) == ("enterprise", None)
        assert case.applicant_bidx == field_cipher().blind_index("uscc", USCC)
    assert outbox(app, kind="case_status") == []  # parked: nobody to tell yet

    enterprise_id = register(app, client, runner, people)

    assert _case(app, first["case_id"]).user_id == enterprise_id
    assert [n.user_id for n in outbox(app, kind="case_status")] == [enterprise_id]  # what it missed
    push(company_event(2, "accepted"))
    assert [n.user_id for n in outbox(app, kind="case_status")] == [enterprise_id, enterprise_id]
    # 张三's own cases do not list the enterprise's
    own = client.get(CASES, headers=people["principal"]["headers"]).get_json()["items"]
    assert own == []


def test_the_lr_and_an_agent_follow_it_others_do_not_see_it(app, client, people, push, enterprise, agent_grant,
                                                            enterprise_session):
    made = push(company_event(1, "submitted"))
    assert _case(app, made["case_id"]).user_id == enterprise  # registered: attached at once
    lr, _ = enterprise_session("principal")
    listed = client.get(CASES, headers=lr)
    assert listed.status_code == 200, listed.get_json()
    assert [c["id"] for c in listed.get_json()["items"]] == [made["case_id"]]
    detail = client.get(f"{CASES}/{made['case_id']}", headers=lr).get_json()
    assert detail["applicant"] == {"kind": "enterprise", "name_masked": NAME, "uscc": USCC}
    agent_grant(scopes=("cases:follow",))
    agent, _ = enterprise_session("relative")
    assert [c["id"] for c in client.get(CASES, headers=agent).get_json()["items"]] == [made["case_id"]]
    for headers in (people["principal"]["headers"], people["other"]["headers"]):
        assert_problem(client.get(f"{CASES}/{made['case_id']}", headers=headers), 404, "case_not_found")


def test_an_agent_for_licences_only_cannot_follow_cases(client, people, push, enterprise, agent_grant,
                                                        enterprise_session):
    push(company_event(1, "submitted"))
    agent_grant(scopes=("licences:view",))
    agent, _ = enterprise_session("relative")
    assert client.get(CASES, headers=agent).status_code == 403


@pytest.mark.parametrize("applicant, code", [
    ({"uscc": "91340100MA2RX7K01G", "name": NAME}, "uscc_invalid"),
    ({"uscc": "not-a-code", "name": NAME}, "uscc_invalid"),
    ({"uscc": USCC, "id_number": vectors.ZHANG_SAN[1], "name": NAME}, "validation_failed"),
    ({"name": NAME}, "validation_failed"),
])
def test_refused_applicants(app, client, dept, applicant, code):
    body = event(1, "submitted")
    body["applicant"] = applicant
    assert_problem(client.post("/api/v1/dept/case-events", json=body, headers=dept), 422, code)
    assert rows(app, Case) == []


def test_the_registered_name_must_match(app, client, dept, enterprise):
    body = company_event(1, "submitted", name="另一家公司")
    problem = assert_problem(client.post("/api/v1/dept/case-events", json=body, headers=dept), 422,
                             "applicant_name_mismatch")
    assert "applicant.name" in problem["errors"]
    assert rows(app, Case) == []


def test_a_case_number_of_a_person_is_not_taken_by_an_enterprise(app, push, dept):
    push(event(1, "submitted", case_no="C-9"))
    refused = push(company_event(2, "accepted", case_no="C-9"), status=422)
    assert refused["code"] == "case_mismatch"
    # the same USCC as the person's ID-number digits never matches a person's case either (other label)
    [case] = rows(app, Case)
    assert case.applicant_kind == "person"


def test_another_enterprise_does_not_see_it(app, client, runner, people, push, enterprise, enterprise_session):
    """Object access: 王五's own enterprise (its LR token) gets 404 for this enterprise's case."""
    made = push(company_event(1, "submitted"))
    other_uscc = "91110108555555552Q"
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", other_uscc, "--name", "另一家公司",
                              "--lr-name", vectors.WANG_WU[0], "--lr-id-number", vectors.WANG_WU[1]])
    assert out.exit_code == 0, out.output
    fresh_level(app, people["other"]["id"])
    other = client.post("/api/v1/enterprises", json={"uscc": other_uscc}, headers=people["other"]["headers"])
    assert other.status_code == 201, other.get_json()
    headers, _ = enterprise_session("other", other.get_json()["id"])
    assert client.get(CASES, headers=headers).get_json()["items"] == []
    assert_problem(client.get(f"{CASES}/{made['case_id']}", headers=headers), 404, "case_not_found")
