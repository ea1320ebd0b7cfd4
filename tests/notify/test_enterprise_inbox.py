"""An enterprise's inbox and its pushes (issue 19, WP7): a notice for an enterprise (a case with applicant
{uscc}, a licence issued to its USCC) has one inbox entry under the enterprise id, read with an
enterprise token (the LR every notice, an agent those of its scopes), and its pushes reach the LR and
only the agents whose grant covers the notice — never the citizens' own inboxes."""
from __future__ import annotations

import pytest

from notify.models import InboxEntry
from tests import vectors
from tests.fixtures.cases import event
from tests.helpers import assert_problem, bearer, rows
from tests.fixtures.notify import register_device
from tests.orgs.agent_fixtures import add_agent, agent_grant, enterprise_session, fresh_level  # noqa: F401

USCC = "91340100MA2RX7K01F"
NAME = "示例科技有限公司"
LR_PHONE, CASES_AGENT_PHONE, LICENCES_AGENT_PHONE = "ab" * 32, "cd" * 32, "ef" * 32
INBOX = "/api/v1/notifications"


def licence_body() -> dict:
    return {"type_code": "business_licence", "holder": {"kind": "enterprise", "uscc": USCC, "name": NAME},
            "data": {"credit_code": USCC, "name": NAME, "entity_type": "有限责任公司",
                     "legal_representative": vectors.ZHANG_SAN[0],
                     "legal_representative_id_number": vectors.ZHANG_SAN[1], "established_on": "2019-01-02",
                     "business_term_until": "长期", "domicile": "安徽省合肥市蜀山区", "registration_authority": "合肥市市场监督管理局"},
            "valid_from": "2019-01-02", "valid_until": None, "reference": "biz-1"}


@pytest.fixture
def enterprise(app, client, runner, people):
    """示例科技有限公司, registered by its LR 张三 (development registry, fresh L3)."""
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", USCC, "--name", NAME,
                              "--lr-name", vectors.ZHANG_SAN[0], "--lr-id-number", vectors.ZHANG_SAN[1]])
    assert out.exit_code == 0, out.output
    fresh_level(app, people["principal"]["id"])
    response = client.post("/api/v1/enterprises", json={"uscc": USCC}, headers=people["principal"]["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def staffed(app, client, people, enterprise, add_agent, agent_grant):
    """张三 (LR), 李四 (agent for cases) and 王五 (agent for licences), each with a phone for pushes."""
    agent_grant(scopes=("cases:follow",))
    made = add_agent(("licences:view",), phone=vectors.PHONES[2], name=vectors.WANG_WU[0])
    assert made.status_code == 201, made.get_json()
    accepted = client.post(f"/api/v1/enterprise-grants/{made.get_json()['id']}/accept",
                           headers=people["other"]["headers"])
    assert accepted.status_code == 200, accepted.get_json()
    for who, token in (("principal", LR_PHONE), ("relative", CASES_AGENT_PHONE), ("other", LICENCES_AGENT_PHONE)):
        register_device(client, app, people[who]["headers"], token=token)
    return enterprise


def _notices_for_the_enterprise(client, machine_token) -> None:
    """A case event naming the enterprise as applicant, and a licence issued to its USCC."""
    body = event(1, "accepted")
    body["applicant"] = {"uscc": USCC, "name": NAME}
    assert client.post("/api/v1/dept/case-events", json=body,
                       headers=bearer(machine_token("cases:write"))).status_code == 202
    assert client.post("/api/v1/issuer/licences", json=licence_body(),
                       headers=bearer(machine_token("licences:issue"))).status_code == 201


def _pushed(channels, kind: str) -> list[str]:
    return sorted(token for token, message in channels["apns"].sent if message.kind == kind)


def test_one_inbox_entry_pushes_to_the_lr_and_the_covered_agents(app, client, people, staffed, machine_token,
                                                                 make_worker, channels):
    enterprise = staffed
    _notices_for_the_enterprise(client, machine_token)
    make_worker().drain()

    for kind in ("case_status", "licence_issued"):
        assert [e.user_id for e in rows(app, InboxEntry, InboxEntry.kind == kind)] == [enterprise]
    assert _pushed(channels, "case_status") == sorted([LR_PHONE, CASES_AGENT_PHONE])
    assert _pushed(channels, "licence_issued") == sorted([LR_PHONE, LICENCES_AGENT_PHONE])
    # the citizens' own inboxes have none of them
    for who in ("principal", "relative", "other"):
        kinds = {i["kind"] for i in client.get(INBOX, headers=people[who]["headers"]).get_json()["items"]}
        assert not kinds & {"case_status", "licence_issued"}, (who, kinds)


def test_the_lr_reads_every_notice_an_agent_those_of_its_scopes(app, client, people, staffed, machine_token,
                                                                make_worker, enterprise_session):
    _notices_for_the_enterprise(client, machine_token)
    make_worker().drain()
    lr, _ = enterprise_session("principal")
    items = client.get(INBOX, headers=lr).get_json()["items"]
    assert sorted(i["kind"] for i in items) == ["case_status", "licence_issued"]
    assert client.get(f"{INBOX}/unread-count", headers=lr).get_json()["count"] == 2
    by_kind = {i["kind"]: i["id"] for i in items}

    agent, _ = enterprise_session("relative")  # cases:follow
    assert [i["kind"] for i in client.get(INBOX, headers=agent).get_json()["items"]] == ["case_status"]
    assert client.get(f"{INBOX}/unread-count", headers=agent).get_json()["count"] == 1
    assert_problem(client.post(f"{INBOX}/{by_kind['licence_issued']}/read", headers=agent), 404,
                   "notification_not_found")
    assert client.post(f"{INBOX}/{by_kind['case_status']}/read", headers=agent).get_json()["read"] is True
    assert client.post(f"{INBOX}/read-all", headers=agent).get_json()["updated"] == 0
    assert client.get(f"{INBOX}/unread-count", headers=lr).get_json()["count"] == 1  # the licence notice

    licences_agent, _ = enterprise_session("other")  # licences:view only: the inbox route wants cases:follow
    assert client.get(INBOX, headers=licences_agent).status_code == 403


def test_a_relative_s_proxy_token_still_cannot_read_the_citizen_s_inbox(client, people, grant, proxy_session,
                                                                       notice, make_worker):
    notice(people["principal"]["id"])
    make_worker().drain()
    token = proxy_session(grant(scopes=("cases:follow",))["id"])
    for call in (client.get(INBOX, headers=token), client.get(f"{INBOX}/unread-count", headers=token),
                 client.post(f"{INBOX}/read-all", headers=token)):
        assert_problem(call, 403, "proxy_not_allowed")
    assert client.get(f"{INBOX}/unread-count", headers=people["principal"]["headers"]).get_json() == {"count": 1}
