"""Enterprises (orgs/): GET /enterprises/{id} answers the legal representative and an active agent
(accepted, not declined, revoked or expired) only; anyone else gets the same 404 as no enterprise,
without its name or USCC; GET /enterprises lists exactly the enterprises one may act for."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db, unit_of_work, utcnow
from orgs.models import AgentGrant, Enterprise
from tests import vectors
from tests.helpers import bearer
from tests.object_access.conftest import refused

ROUTES = {"/api/v1/enterprises/<enterprise_id>"}
USCC, NAME = "91340100MA2RX7K01F", "示例科技有限公司"


def _me(client, headers) -> str:
    return client.get("/api/v1/me", headers=headers).get_json()["id"]


def _grant(enterprise_id, agent_id, lr_id, **when):
    now = utcnow()
    values = {"id": "ag_" + agent_id[-16:], "enterprise_id": enterprise_id, "agent_user_id": agent_id,
              "agent_name_enc": "x", "granted_by": lr_id, "scopes": "licences:view cases:follow",
              "created_at": now, "expires_at": now + timedelta(days=30), "accepted_at": now}
    values.update(when)
    AgentGrant.insert(**values).execute()


@pytest.fixture
def enterprise(app, client, two_citizens, verified_citizen):
    lr, stranger = two_citizens
    agent = bearer(verified_citizen(vectors.WANG_WU, vectors.PHONES[2])["access_token"])
    lr_id, agent_id = _me(client, lr), _me(client, agent)
    now = utcnow()
    with app.app_context(), db.connection_context(), unit_of_work():
        Enterprise.insert(id="en_00112233aabbccdd", uscc=USCC, name=NAME, entity_type="有限责任公司", status="1",
                          region_code="340100", legal_rep_user_id=lr_id, registered_at=now, checked_at=now).execute()
    return "en_00112233aabbccdd", lr, stranger, agent, lr_id, agent_id


def _with_grant(app, enterprise, **when):
    enterprise_id, _, _, _, lr_id, agent_id = enterprise
    with app.app_context(), db.connection_context(), unit_of_work():
        _grant(enterprise_id, agent_id, lr_id, **when)


def test_the_lr_and_an_active_agent_see_it(app, client, enterprise):
    enterprise_id, lr, _, agent, _, _ = enterprise
    _with_grant(app, enterprise)
    mine = client.get(f"/api/v1/enterprises/{enterprise_id}", headers=lr)
    assert mine.status_code == 200 and mine.get_json()["role"] == "legal_representative"
    assert mine.get_json()["uscc"] == USCC and mine.get_json()["scopes"] is None
    theirs = client.get(f"/api/v1/enterprises/{enterprise_id}", headers=agent).get_json()
    assert theirs["role"] == "agent" and theirs["scopes"] == ["cases:follow", "licences:view"]
    assert theirs["expires_at"] is not None
    listed = client.get("/api/v1/enterprises", headers=agent).get_json()["items"]
    assert [(i["id"], i["role"]) for i in listed] == [(enterprise_id, "agent")]


def test_a_stranger_gets_404_without_its_name(client, enterprise):
    enterprise_id, _, stranger, agent, _, _ = enterprise
    for headers in (stranger, agent):  # the agent has no grant yet
        body = refused(client.get(f"/api/v1/enterprises/{enterprise_id}", headers=headers), NAME, USCC)
        assert body["status"] == 404 and body["code"] == "enterprise_not_found"
        assert client.get("/api/v1/enterprises", headers=headers).get_json()["items"] == []
    refused(client.get("/api/v1/enterprises/en_ffffffffffffffff", headers=stranger))


@pytest.mark.parametrize("when", [
    {"accepted_at": None},  # pending
    {"declined_at": utcnow()},
    {"revoked_at": utcnow(), "revoked_by": "lr"},
    {"expires_at": utcnow() - timedelta(seconds=1)},
])
def test_an_inactive_grant_shows_nothing(app, client, enterprise, when):
    enterprise_id, _, _, agent, _, _ = enterprise
    _with_grant(app, enterprise, **when)
    refused(client.get(f"/api/v1/enterprises/{enterprise_id}", headers=agent), NAME, USCC)
    assert client.get("/api/v1/enterprises", headers=agent).get_json()["items"] == []
