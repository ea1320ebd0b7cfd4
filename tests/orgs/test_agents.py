"""Agents (经办人): the LR adds an agent only with a fresh L3, the agent accepts, acts for the
enterprise with a short token, and is stopped at once by expiry or revocation and outside their
scopes; the audit and the record of actions name both identities."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import jwt
import time_machine
from flask import g

from app import audit
from app.audit import AuditEvent
from app.db import db
from notify.outbox import OutboxEntry
from orgs.agent_models import AgentAction
from orgs.models import AgentGrant
from app.security.tokens import Principal
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.orgs.agent_fixtures import (  # noqa: F401  (fixtures)
    ENTERPRISE_NAME, add_agent, agent_grant, enterprise, enterprise_session, fresh_level, in_days, make_enterprise,
)

WALLET = "/api/v1/wallet/licences"


def _grant_row(app, grant_id: str) -> AgentGrant:
    [row] = rows(app, AgentGrant, AgentGrant.id == grant_id)
    return row


def test_the_lr_adds_an_agent_who_accepts_and_acts_for_the_enterprise(app, client, people, enterprise, add_agent):
    response = add_agent(["licences:present", "cases:follow"])
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["status"] == "pending" and made["id"].startswith("ag_")
    assert made["scopes"] == ["cases:follow", "licences:present", "licences:view"]  # present implies view
    assert made["enterprise"] == {"id": enterprise, "name": ENTERPRISE_NAME}
    assert made["agent"] == {"id": people["relative"]["id"], "name_masked": "李*"}
    row = _grant_row(app, made["id"])
    assert row.granted_by == people["principal"]["id"] and vectors.LI_SI[0] not in row.agent_name_enc
    [event] = rows(app, AuditEvent, AuditEvent.action == "orgs.agent_grant")
    assert (event.actor_id, event.target) == (people["principal"]["id"], made["id"])
    [notice] = rows(app, OutboxEntry, OutboxEntry.kind == "enterprise_agent_invited")
    assert notice.user_id == people["relative"]["id"] and ENTERPRISE_NAME in notice.body
    assert json.loads(notice.data)["link"] == f"yiwang://enterprise-grants/{made['id']}"

    # pending: no session yet; the invitation is listed for the agent only
    assert_problem(client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=people["relative"]["headers"]),
                   403, "agent_grant_pending")
    mine = client.get("/api/v1/me/enterprise-grants", headers=people["relative"]["headers"]).get_json()
    assert [g["id"] for g in mine["items"]] == [made["id"]]
    assert client.get("/api/v1/me/enterprise-grants", headers=people["other"]["headers"]).get_json()["items"] == []

    accepted = client.post(f"/api/v1/enterprise-grants/{made['id']}/accept", headers=people["relative"]["headers"])
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "active"
    assert_problem(client.post(f"/api/v1/enterprise-grants/{made['id']}/decline",
                               headers=people["relative"]["headers"]), 409, "agent_grant_not_pending")

    session = client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=people["relative"]["headers"])
    assert session.status_code == 200, session.get_json()
    answer = session.get_json()
    assert 0 < answer["expires_in"] <= 900 and "refresh_token" not in answer
    assert answer["scope"] == "cases:follow licences:present licences:view"
    assert answer["acting_for"] == {"kind": "enterprise", "id": enterprise, "name": ENTERPRISE_NAME,
                                    "agent": {"id": people["relative"]["id"], "name_masked": "李*"}}
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert (claims["kind"], claims["sub"], claims["act"], claims["grant"]) == (
        "enterprise", enterprise, {"sub": people["relative"]["id"]}, made["id"])


def test_the_lr_acts_for_the_enterprise_with_every_scope(client, people, enterprise, enterprise_session):
    headers, answer = enterprise_session("principal")
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["grant"] == "legal_representative" and claims["act"] == {"sub": people["principal"]["id"]}
    assert answer["scope"] == "cases:follow cases:rate licences:present licences:view signing:sign"
    listed = client.get(WALLET, headers=headers)
    assert listed.status_code == 200, listed.get_json()
    assert listed.get_json()["acting_for"]["agent"] == {"id": people["principal"]["id"], "name_masked": "张*"}


def test_adding_an_agent_needs_l3_proved_within_300_seconds(app, client, people, add_agent):
    now = datetime.now().astimezone()
    with time_machine.travel(now, tick=False):
        fresh_level(app, people["principal"]["id"])
    with time_machine.travel(now + timedelta(seconds=301), tick=False):
        client.post("/api/v1/auth/refresh")  # nothing: just a request at this time
        body = assert_problem(add_agent(), 403, "step_up_required")
        assert (body["required_level"], body["max_age"]) == ("L3", 300)
        assert "max_age=300" in body["step_up_url"] and "purpose=agent_add" in body["step_up_url"]
    assert rows(app, AgentGrant) == []
    with time_machine.travel(now + timedelta(seconds=299), tick=False):
        assert add_agent().status_code == 201


def test_an_l2_lr_never_adds_an_agent(app, client, people):
    enterprise_id = make_enterprise(app, people["principal"]["id"])  # no L3 ever proved
    body = assert_problem(client.post(f"/api/v1/enterprises/{enterprise_id}/agents", json={
        "phone": vectors.PHONES[1], "name": vectors.LI_SI[0], "scopes": ["licences:view"], "expires_at": in_days(1)},
        headers=people["principal"]["headers"]), 403, "assurance_level_insufficient")
    assert body["required_level"] == "L3"


def test_what_the_lr_asks_for_is_checked(app, client, people, enterprise, add_agent):
    assert_problem(add_agent(["signing:admin"]), 422, "agent_scope_invalid")
    assert_problem(add_agent(days=366), 422, "agent_expiry_invalid")
    assert_problem(add_agent(days=-1), 422, "agent_expiry_invalid")
    assert_problem(add_agent(phone=vectors.PHONES[0], name=vectors.ZHANG_SAN[0]), 422, "agent_self")
    # nobody holds the phone / the name differs / a real holder and name: one answer, no oracle
    unknown = assert_problem(add_agent(phone="13900000000"), 422, "agent_not_found")
    wrong_name = assert_problem(add_agent(name="李四四"), 422, "agent_not_found")
    assert {k: v for k, v in unknown.items() if k != "request_id"} == \
        {k: v for k, v in wrong_name.items() if k != "request_id"}
    assert rows(app, AgentGrant) == []
    assert add_agent().status_code == 201
    assert_problem(add_agent(["cases:follow"]), 409, "agent_exists")
    # not the LR of this enterprise: nothing to see (404), even with a fresh L3
    fresh_level(app, people["other"]["id"])
    assert_problem(add_agent(headers=people["other"]["headers"]), 404, "enterprise_not_found")


def test_an_expired_agent_is_refused_with_a_still_unexpired_token(app, client, people, agent_grant, enterprise):
    made = agent_grant(days=10 / (24 * 60))  # ten minutes: the citizens' own tokens outlive it
    expires_at = datetime.fromisoformat(made["expires_at"])
    with time_machine.travel(expires_at - timedelta(seconds=60), tick=False):
        session = client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=people["relative"]["headers"])
        assert session.status_code == 200, session.get_json()
        token = bearer(session.get_json()["access_token"])
        assert session.get_json()["expires_in"] == 60  # never outlives the grant
        assert client.get(WALLET, headers=token).status_code == 200
    # 2 s past the grant's end the token is still inside its verification leeway: the grant decides
    with time_machine.travel(expires_at + timedelta(seconds=2), tick=False):
        body = assert_problem(client.get(WALLET, headers=token), 401, "agent_grant_inactive")
        assert body["acting_for"]["id"] == enterprise
        assert_problem(client.post(f"/api/v1/enterprises/{enterprise}/sessions",
                                   headers=people["relative"]["headers"]), 403, "agent_grant_expired")
    statuses = sorted(a.status for a in rows(app, AgentAction, AgentAction.grant_id == made["id"]))
    assert statuses == [200, 401]


def test_an_agent_outside_their_scope_is_refused(app, client, people, agent_grant, enterprise_session):
    agent_grant(["cases:follow"])
    headers, _ = enterprise_session()
    body = assert_problem(client.post(f"{WALLET}/lc_anything/presentations", json={}, headers=headers), 403,
                          "agent_scope_insufficient")
    assert body["acting_for"]["kind"] == "enterprise"
    assert_problem(client.get(WALLET, headers=headers), 403, "agent_scope_insufficient")
    # never delegable at all (managing agents, the profile): refused as a delegated token
    assert client.get("/api/v1/me/enterprise-grants", headers=headers).status_code == 403
    assert client.get("/api/v1/me", headers=headers).status_code == 403


def test_revoked_mid_session_the_next_call_is_refused(app, client, people, enterprise, agent_grant,
                                                      enterprise_session):
    made = agent_grant()
    headers, _ = enterprise_session()
    assert client.get(WALLET, headers=headers).status_code == 200
    fresh_level(app, people["principal"]["id"])
    revoked = client.delete(f"/api/v1/enterprises/{enterprise}/agents/{made['id']}",
                            headers=people["principal"]["headers"])
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert_problem(client.get(WALLET, headers=headers), 401, "agent_grant_inactive")
    assert_problem(client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=people["relative"]["headers"]),
                   403, "agent_grant_revoked")
    [notice] = rows(app, OutboxEntry, OutboxEntry.kind == "enterprise_agent_revoked")
    assert notice.user_id == people["relative"]["id"]
    [event] = rows(app, AuditEvent, AuditEvent.action == "orgs.agent_revoke")
    assert event.actor_id == people["principal"]["id"] and event.target == made["id"]
    # listed for the LR with its end
    listed = client.get(f"/api/v1/enterprises/{enterprise}/agents", headers=people["principal"]["headers"]).get_json()
    assert [(g["id"], g["status"]) for g in listed["items"]] == [(made["id"], "revoked")]


def test_a_token_for_another_enterprise_or_person_is_refused(app, client, people, agent_grant, enterprise):
    """A grant names its enterprise and its agent: a token pairing it with others fails closed."""
    made = agent_grant()
    other = make_enterprise(app, people["other"]["id"], uscc="91110108MA01ABCDF3", name="别的公司")
    tokens = app.extensions["tokens"]
    with app.app_context():
        for subject, actor in ((other, people["relative"]["id"]), (enterprise, people["other"]["id"])):
            token, _ = tokens.issue(Principal(kind="enterprise", id=subject, actor_id=actor, grant_id=made["id"],
                                              delegated_scopes=frozenset({"licences:view"})))
            assert_problem(client.get(WALLET, headers=bearer(token)), 401, "agent_grant_inactive")
        # more scopes than the grant holds
        token, _ = tokens.issue(Principal(kind="enterprise", id=enterprise, actor_id=people["relative"]["id"],
                                          grant_id=made["id"], delegated_scopes=frozenset({"licences:view",
                                                                                            "licences:present"})))
        assert_problem(client.get(WALLET, headers=bearer(token)), 401, "agent_grant_inactive")
        # the LR's grant claimed by someone who is not the LR
        token, _ = tokens.issue(Principal(kind="enterprise", id=enterprise, actor_id=people["relative"]["id"],
                                          grant_id="legal_representative",
                                          delegated_scopes=frozenset({"licences:view"})))
        assert_problem(client.get(WALLET, headers=bearer(token)), 401, "agent_grant_inactive")


def test_the_audit_row_of_an_agents_request_names_both_identities(app, client, people, agent_grant, enterprise,
                                                                  enterprise_session):
    made = agent_grant(["licences:view"])
    headers, _ = enterprise_session()
    # No holder route audits yet: a row recorded inside a request the agent makes (its auth ran)
    with app.test_request_context(WALLET, headers=headers), db.connection_context():
        app.preprocess_request()  # the request id, then the route's auth: the grant check included
        assert g.delegated_principal.id == enterprise
        audit.record("test.delegated", actor_kind="citizen", actor_id=people["relative"]["id"], target="x")
    [event] = rows(app, AuditEvent, AuditEvent.action == "test.delegated")
    details = json.loads(event.details)
    assert details["agent"] == {"actor_id": people["relative"]["id"], "grant_id": made["id"],
                                "enterprise_id": enterprise}
    assert "proxy" not in details


def test_only_the_invited_agent_answers_and_a_declined_grant_stays_declined(client, people, agent_grant,
                                                                             enterprise):
    made = agent_grant(accept=False)
    for who in ("principal", "other"):
        assert_problem(client.post(f"/api/v1/enterprise-grants/{made['id']}/accept", headers=people[who]["headers"]),
                       404, "agent_grant_not_found")
    declined = client.post(f"/api/v1/enterprise-grants/{made['id']}/decline", headers=people["relative"]["headers"])
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert_problem(client.post(f"/api/v1/enterprise-grants/{made['id']}/accept",
                               headers=people["relative"]["headers"]), 409, "agent_grant_not_pending")
    assert_problem(client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=people["relative"]["headers"]),
                   404, "enterprise_not_found")


def test_nobody_is_an_enterprise_without_a_person_acting(app, client, enterprise):
    """An enterprise token without `act` (no person acting) is not one we accept, signed or not."""
    with app.app_context():
        token, _ = app.extensions["tokens"].issue(Principal(kind="enterprise", id=enterprise))
    assert_problem(client.get(WALLET, headers=bearer(token)), 401, "token_invalid")
