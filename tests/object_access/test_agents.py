"""Agents (经办人, orgs/agent_routes.py): only an enterprise's legal representative sees and manages
its agents, only the invited agent answers an invitation, only the LR or an active agent opens an
enterprise session. Another citizen — another enterprise's LR included, even with a fresh L3 — and
any enterprise token are refused without learning the agent's name or the enterprise's."""
from __future__ import annotations

from orgs.models import AgentGrant
from tests import vectors
from tests.helpers import bearer, rows
from tests.object_access.conftest import refused
from tests.orgs.agent_fixtures import (  # noqa: F401  (fixtures)
    ENTERPRISE_NAME, add_agent, agent_grant, enterprise, enterprise_session, fresh_level, in_days, make_enterprise,
)

ROUTES = {
    "/api/v1/enterprises/<enterprise_id>/agents",
    "/api/v1/enterprises/<enterprise_id>/agents/<grant_id>",
    "/api/v1/enterprises/<enterprise_id>/sessions",
    "/api/v1/enterprise-grants/<grant_id>/accept",
    "/api/v1/enterprise-grants/<grant_id>/decline",
}


def test_another_citizen_cannot_see_or_manage_an_enterprises_agents(app, client, people, enterprise, agent_grant,
                                                                    enterprise_session):
    pending = agent_grant(["licences:view"], accept=False)
    # 王五 is LR of another enterprise, at L3 just now: still nothing of this one
    other_enterprise = make_enterprise(app, people["other"]["id"], uscc="91110108MA01ABCDF3", name="别的公司")
    fresh_level(app, people["other"]["id"])
    stranger = people["other"]["headers"]
    lr_token, _ = enterprise_session("principal")  # the LR's own enterprise token: not for managing
    agent_secrets = ("李*", vectors.LI_SI[0])
    body = {"phone": vectors.PHONES[2], "name": vectors.WANG_WU[0], "scopes": ["licences:view"],
            "expires_at": in_days(3)}
    for headers, secrets in ((stranger, (ENTERPRISE_NAME, *agent_secrets)), (lr_token, agent_secrets)):
        refused(client.get(f"/api/v1/enterprises/{enterprise}/agents", headers=headers), *secrets)
        refused(client.post(f"/api/v1/enterprises/{enterprise}/agents", json=body, headers=headers), *secrets)
        refused(client.delete(f"/api/v1/enterprises/{enterprise}/agents/{pending['id']}", headers=headers),
                *secrets)
        refused(client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=headers), *secrets)
        refused(client.post(f"/api/v1/enterprise-grants/{pending['id']}/accept", headers=headers), *secrets)
        refused(client.post(f"/api/v1/enterprise-grants/{pending['id']}/decline", headers=headers), *secrets)
    # the other LR names their own enterprise with this enterprise's grant: not theirs either
    refused(client.delete(f"/api/v1/enterprises/{other_enterprise}/agents/{pending['id']}", headers=stranger),
            ENTERPRISE_NAME, *agent_secrets)
    # the LR cannot answer for the agent
    refused(client.post(f"/api/v1/enterprise-grants/{pending['id']}/accept", headers=people["principal"]["headers"]))
    # nothing changed: still pending, no new grant; the LR and the agent still see it
    [row] = rows(app, AgentGrant)
    assert row.id == pending["id"] and row.revoked_at is None and row.accepted_at is None
    listed = client.get(f"/api/v1/enterprises/{enterprise}/agents", headers=people["principal"]["headers"])
    assert [g["status"] for g in listed.get_json()["items"]] == ["pending"]
    mine = client.get("/api/v1/me/enterprise-grants", headers=people["relative"]["headers"]).get_json()
    assert [g["id"] for g in mine["items"]] == [pending["id"]]
    assert client.get("/api/v1/me/enterprise-grants", headers=stranger).get_json()["items"] == []


def test_an_agent_cannot_manage_agents_or_reach_another_enterprise(app, client, people, enterprise, agent_grant):
    made = agent_grant(["licences:view"])
    other_enterprise = make_enterprise(app, people["other"]["id"], uscc="91110108MA01ABCDF3", name="别的公司")
    agent = people["relative"]["headers"]
    fresh_level(app, people["relative"]["id"])
    refused(client.get(f"/api/v1/enterprises/{enterprise}/agents", headers=agent))
    refused(client.delete(f"/api/v1/enterprises/{enterprise}/agents/{made['id']}", headers=agent))
    refused(client.post(f"/api/v1/enterprises/{other_enterprise}/sessions", headers=agent), "别的公司")


def test_an_enterprise_token_reaches_the_enterprises_objects_only(client, people, enterprise, enterprise_session,
                                                                   machine_token):
    """With every scope, the LR acting for the enterprise sees neither his own personal licence nor a
    third citizen's: the enterprise token's subject is the enterprise."""
    from tests.wallet.conftest import issue_body

    issuer = bearer(machine_token("licences:issue"))
    licences = {}
    for who, person in (("principal", vectors.ZHANG_SAN), ("other", vectors.WANG_WU)):
        response = client.post("/api/v1/issuer/licences", json=issue_body(person, reference=f"ref-{who}"),
                               headers=issuer)
        assert response.status_code == 201, response.get_json()
        licences[who] = response.get_json()["id"]
    headers, _ = enterprise_session("principal")
    assert client.get("/api/v1/wallet/licences", headers=headers).get_json()["items"] == []
    for who, person in (("principal", vectors.ZHANG_SAN), ("other", vectors.WANG_WU)):
        url = f"/api/v1/wallet/licences/{licences[who]}"
        refused(client.get(url, headers=headers), person[1])
        refused(client.post(f"{url}/presentations", json={}, headers=headers), person[1])
        assert client.get(url, headers=people[who]["headers"]).status_code == 200  # the holder still does
