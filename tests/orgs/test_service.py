"""orgs.service, the API other features use: enterprise_for, is_legal_representative, enterprise_name,
recipients_for (the LR plus the agents whose active grant covers the notice kind)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db, unit_of_work, utcnow
from orgs import service as orgs
from orgs.models import AgentGrant, Enterprise

EN, USCC = "en_0011223344556677", "91340100MA2RX7K01F"


@pytest.fixture
def ctx(app):
    with app.app_context(), db.connection_context():
        now = utcnow()
        with unit_of_work():
            Enterprise.insert(id=EN, uscc=USCC, name="示例科技有限公司", entity_type="有限责任公司", status="1",
                              region_code="340100", legal_rep_user_id="u_lr", registered_at=now,
                              checked_at=now).execute()
        yield now


def _grant(agent, scopes, now, **when):
    values = {"id": "ag_" + agent, "enterprise_id": EN, "agent_user_id": agent, "agent_name_enc": "x",
              "granted_by": "u_lr", "scopes": scopes, "created_at": now, "expires_at": now + timedelta(days=1),
              "accepted_at": now, **when}
    with unit_of_work():
        AgentGrant.insert(**values).execute()


def test_lookups(ctx):
    assert orgs.enterprise_for(USCC) == EN and orgs.enterprise_for(USCC.lower()) == EN
    assert orgs.enterprise_for("91110000600037341L") is None
    assert orgs.is_legal_representative(EN, "u_lr") and not orgs.is_legal_representative(EN, "u_other")
    assert not orgs.is_legal_representative("u_lr", "u_lr")
    assert orgs.enterprise_name(EN) == "示例科技有限公司" and orgs.enterprise_name("en_nope") is None
    assert orgs.enterprise_view(orgs.get_enterprise(EN))["uscc"] == USCC


def test_recipients_for(ctx):
    now = ctx
    _grant("u_cases", "cases:follow", now)
    _grant("u_lic", "licences:present", now)
    _grant("u_pending", "cases:follow licences:view", now, accepted_at=None)
    _grant("u_revoked", "cases:follow licences:view", now, revoked_at=now, revoked_by="u_lr")
    _grant("u_expired", "cases:follow licences:view", now, expires_at=now - timedelta(seconds=1))
    assert orgs.recipients_for(EN, "case_status") == ["u_lr", "u_cases"]
    assert orgs.recipients_for(EN, "licence_issued") == ["u_lr", "u_lic"]
    assert orgs.recipients_for(EN, "enterprise_agent_invited") == ["u_lr"]
    assert orgs.recipients_for("u_citizen", "case_status") == ["u_citizen"]
    assert orgs.recipients_for("en_unknown", "case_status") == []
