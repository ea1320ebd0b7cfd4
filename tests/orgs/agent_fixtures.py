"""Agent (经办人) fixtures shared by tests/orgs/test_agents.py, test_acting_for.py and
tests/object_access/test_agents.py (imported by name): an enterprise whose legal representative is
张三, agents invited by phone + verified name (李四 by default), enterprise sessions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.db import db, unit_of_work
from identity import service as identity
from orgs import models as orgs_models
from tests import vectors
from tests.helpers import bearer

ENTERPRISE_NAME = "示例科技有限公司"


def in_days(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def fresh_level(app, user_id: str, level: int = 3) -> None:
    """The citizen proves `level` now (a face check: L3), as a step-up would record it."""
    with app.app_context(), db.connection_context(), unit_of_work():
        identity.record_assurance(user_id=user_id, level=level, method="face" if level == 3 else "registry")


def make_enterprise(app, lr_id: str, *, uscc: str = "91110108MA01ABCDE5", name: str = ENTERPRISE_NAME) -> str:
    """A registered enterprise (the row registration leaves: orgs/registration.py is tested apart)."""
    with app.app_context(), db.connection_context():
        enterprise_id = orgs_models.new_enterprise_id()
        orgs_models.insert_enterprise(id=enterprise_id, uscc=uscc, name=name, entity_type="有限责任公司",
                                      status=orgs_models.ACTIVE_STATUS, region_code="110108",
                                      legal_rep_user_id=lr_id)
    return enterprise_id


@pytest.fixture
def enterprise(app, people):
    """示例科技有限公司, legal representative 张三 (people["principal"]), who proved L3 just now."""
    fresh_level(app, people["principal"]["id"])
    return make_enterprise(app, people["principal"]["id"])


@pytest.fixture
def add_agent(client, people, enterprise):
    """Factory: the LR invites `phone`/`name` (李四 by default) for `scopes`; returns the answer."""

    def make(scopes=("licences:view",), days: float = 30, headers: dict | None = None,
             enterprise_id: str | None = None, **changes):
        body = {"phone": vectors.PHONES[1], "name": vectors.LI_SI[0], "scopes": list(scopes),
                "expires_at": in_days(days), **changes}
        return client.post(f"/api/v1/enterprises/{enterprise_id or enterprise}/agents", json=body,
                           headers=headers or people["principal"]["headers"])

    return make


@pytest.fixture
def agent_grant(client, people, add_agent):
    """Factory: an active grant to 李四 (invited, accepted); `accept=False` leaves it pending."""

    def make(scopes=("licences:view",), days: float = 30, accept: bool = True, **changes) -> dict:
        response = add_agent(scopes, days, **changes)
        assert response.status_code == 201, response.get_json()
        made = response.get_json()
        assert made["status"] == "pending"
        if not accept:
            return made
        accepted = client.post(f"/api/v1/enterprise-grants/{made['id']}/accept", headers=people["relative"]["headers"])
        assert accepted.status_code == 200, accepted.get_json()
        return accepted.get_json()

    return make


@pytest.fixture
def enterprise_session(client, people, enterprise):
    """Factory: `who` ("relative": the agent, "principal": the LR) switches into the enterprise;
    returns (bearer headers, answer)."""

    def make(who: str = "relative", enterprise_id: str | None = None) -> tuple[dict, dict]:
        response = client.post(f"/api/v1/enterprises/{enterprise_id or enterprise}/sessions",
                               headers=people[who]["headers"])
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"]), response.get_json()

    return make
