"""`acting_for` (app/security/acting_for.py): every JSON object answer to a delegated request says
whom it was for and who acted — an enterprise's agent or a citizen's proxy —, problem+json included;
an answer to a request made as oneself never carries it."""
from __future__ import annotations

from tests.helpers import assert_problem
from tests.orgs.agent_fixtures import (  # noqa: F401  (fixtures)
    ENTERPRISE_NAME, add_agent, agent_grant, enterprise, enterprise_session,
)

WALLET = "/api/v1/wallet/licences"


def _agent(people) -> dict:
    return {"kind": "enterprise", "name": ENTERPRISE_NAME,
            "agent": {"id": people["relative"]["id"], "name_masked": "李*"}}


def test_every_answer_to_an_agent_names_the_enterprise_and_the_agent(client, people, enterprise, agent_grant,
                                                                     enterprise_session):
    agent_grant(["licences:view"])
    headers, _ = enterprise_session()
    expected = {**_agent(people), "id": enterprise}
    ok = client.get(WALLET, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["acting_for"] == expected
    assert ok.get_json()["items"] == []  # the enterprise's wallet, not the agent's
    missing = assert_problem(client.get(f"{WALLET}/lc_nothing", headers=headers), 404)
    assert missing["acting_for"] == expected
    outside = assert_problem(client.post(f"{WALLET}/lc_nothing/presentations", json={}, headers=headers), 403,
                             "agent_scope_insufficient")
    assert outside["acting_for"] == expected
    not_delegable = assert_problem(client.get("/api/v1/me/enterprise-grants", headers=headers), 403)
    assert not_delegable["acting_for"] == expected


def test_the_same_person_as_themselves_sees_no_acting_for(client, people, enterprise, agent_grant):
    agent_grant(["licences:view"])
    own = client.get(WALLET, headers=people["relative"]["headers"])
    assert own.status_code == 200 and "acting_for" not in own.get_json()
    refused = assert_problem(client.get(f"{WALLET}/lc_nothing", headers=people["relative"]["headers"]), 404)
    assert "acting_for" not in refused


def test_a_proxy_answer_names_the_principal_and_the_proxy(client, people, grant, proxy_session):
    token = proxy_session(grant(scopes=["licences:view"])["id"])
    expected = {"kind": "citizen", "id": people["principal"]["id"], "name": "张*",
                "agent": {"id": people["relative"]["id"], "name_masked": "李*"}}
    ok = client.get(WALLET, headers=token)
    assert ok.status_code == 200 and ok.get_json()["acting_for"] == expected
    refused = assert_problem(client.get("/api/v1/appointments", headers=token), 403, "proxy_not_allowed")
    assert refused["acting_for"] == expected


def test_a_describer_that_fails_still_leaves_the_ids(app, client, people, enterprise, agent_grant,
                                                     enterprise_session):
    agent_grant(["licences:view"])
    headers, _ = enterprise_session()

    def broken(principal):
        raise RuntimeError("registry down")

    app.extensions["acting_for"]["enterprise"] = broken
    answer = client.get(WALLET, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["acting_for"] == {"kind": "enterprise", "id": enterprise, "name": None,
                                               "agent": {"id": people["relative"]["id"], "name_masked": None}}
