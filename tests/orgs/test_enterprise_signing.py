"""Signing for an enterprise (issue 19): an agent holding `signing:sign` asks for and authorises the
enterprise's signing requests with their own certificate, PIN (and lockout) and face check; the
request is the enterprise's alone, the signature and its audit row name both identities, and a
relative's proxy token is refused."""
from __future__ import annotations

import json

from app.audit import AuditEvent
from signing.models import Signature, SigningRequest
from tests.helpers import assert_problem, rows
from tests.orgs.agent_fixtures import (  # noqa: F401  (fixtures)
    ENTERPRISE_NAME, add_agent, agent_grant, enterprise, enterprise_session, fresh_level, make_enterprise,
)
from tests.signing.conftest import BASE, authorize, enrol, new_request

AGENT_PIN, LR_PIN = "802417", "246813"


def _signing_agent(client, people, agent_grant, enterprise_session, scopes=("signing:sign",)) -> dict:
    """李四, enrolled for signing with his own PIN, acting for the enterprise: its headers."""
    enrol(client, people["relative"]["headers"], pin=AGENT_PIN)
    agent_grant(scopes=scopes)
    return enterprise_session("relative")[0]


def test_an_agent_signs_for_the_enterprise_with_their_own_certificate(app, client, people, enterprise, agent_grant,
                                                                     enterprise_session):
    headers = _signing_agent(client, people, agent_grant, enterprise_session)
    certificate = client.get(f"{BASE}/certificate", headers=people["relative"]["headers"]).get_json()
    made = new_request(client, headers)
    assert made["status"] == "pending"
    [row] = rows(app, SigningRequest, SigningRequest.id == made["id"])
    assert row.user_id == enterprise  # the enterprise's request
    listed = client.get(f"{BASE}/requests", headers=headers).get_json()
    assert [r["id"] for r in listed["items"]] == [made["id"]]
    assert listed["acting_for"]["id"] == enterprise

    response = authorize(client, headers, made["id"], pin=AGENT_PIN)
    assert response.status_code == 200, response.get_json()
    signed = response.get_json()
    assert signed["certificate_serial"] == certificate["serial"]
    assert signed["acting_for"]["kind"] == "enterprise" and signed["acting_for"]["id"] == enterprise
    assert signed["acting_for"]["name"] == ENTERPRISE_NAME
    [sig] = rows(app, Signature)
    assert (sig.user_id, sig.acting_for) == (people["relative"]["id"], enterprise)
    # the agent's own history shows it, naming the enterprise
    [mine] = client.get(f"{BASE}/signatures", headers=people["relative"]["headers"]).get_json()["items"]
    assert mine["acting_for"] == {"kind": "enterprise", "id": enterprise, "name": ENTERPRISE_NAME}
    [event] = rows(app, AuditEvent, AuditEvent.action == "signing.sign")
    details = json.loads(event.details)
    assert event.actor_id == people["relative"]["id"] and details["acting_for"] == enterprise
    assert details["agent"]["actor_id"] == people["relative"]["id"]
    assert details["agent"]["enterprise_id"] == enterprise
    assert details["serial"] == certificate["serial"]
    assert client.get(f"{BASE}/requests/{made['id']}", headers=headers).get_json()["status"] == "signed"


def test_the_enterprise_request_is_the_enterprises_alone(app, client, people, enterprise, agent_grant,
                                                          enterprise_session, grant, proxy_session):
    headers = _signing_agent(client, people, agent_grant, enterprise_session)
    made = new_request(client, headers)
    for other in (people["relative"]["headers"], people["other"]["headers"]):  # the agent's own token, a stranger
        assert_problem(client.get(f"{BASE}/requests/{made['id']}", headers=other), 404, "signing_request_not_found")
        assert_problem(authorize(client, other, made["id"], pin=AGENT_PIN), 404, "signing_request_not_found")
        assert made["id"] not in [r["id"] for r in client.get(f"{BASE}/requests", headers=other).get_json()["items"]]
    second = make_enterprise(app, people["other"]["id"], uscc="91110108MA01ABCDF3", name="别的公司")
    fresh_level(app, people["other"]["id"])
    theirs = enterprise_session("other", enterprise_id=second)[0]
    assert_problem(client.get(f"{BASE}/requests/{made['id']}", headers=theirs), 404, "signing_request_not_found")
    # the LR may see it; only the agent who made it (whose key e was computed with) can sign it
    lr = enterprise_session("principal")[0]
    assert client.get(f"{BASE}/requests/{made['id']}", headers=lr).status_code == 200
    enrol(client, people["principal"]["headers"], pin=LR_PIN)
    assert_problem(authorize(client, lr, made["id"], pin=LR_PIN), 409, "signing_request_other_signer")
    # a relative's proxy token never reaches signing
    proxy = proxy_session(grant(scopes=["licences:view"])["id"])
    assert_problem(client.get(f"{BASE}/requests", headers=proxy), 403, "proxy_not_allowed")
    assert_problem(client.post(f"{BASE}/requests", json={"title": "合同", "document_b64": "YWJj"}, headers=proxy),
                   403, "proxy_not_allowed")
    assert_problem(authorize(client, proxy, made["id"], pin=AGENT_PIN), 403, "proxy_not_allowed")
    assert rows(app, Signature) == []


def test_an_agent_without_signing_sign_is_refused(app, client, people, enterprise, agent_grant, enterprise_session):
    headers = _signing_agent(client, people, agent_grant, enterprise_session, scopes=("licences:view",))
    assert_problem(client.post(f"{BASE}/requests", json={"title": "合同", "document_b64": "YWJj"}, headers=headers),
                   403, "agent_scope_insufficient")
    assert_problem(client.get(f"{BASE}/requests", headers=headers), 403, "agent_scope_insufficient")
    assert rows(app, SigningRequest) == []


def test_the_agents_wrong_pin_counts_toward_their_own_lockout(app, client, people, enterprise, agent_grant,
                                                              enterprise_session):
    headers = _signing_agent(client, people, agent_grant, enterprise_session)
    enrol(client, people["principal"]["headers"], pin=LR_PIN)
    made = new_request(client, headers)
    body = assert_problem(authorize(client, headers, made["id"], pin=LR_PIN), 400, "pin_invalid")  # the LR's PIN
    assert body["tries_left"] == 4
    own = new_request(client, people["relative"]["headers"])  # the agent's own request: the same count
    assert assert_problem(authorize(client, people["relative"]["headers"], own["id"], pin="000000"), 400,
                          "pin_invalid")["tries_left"] == 3
    lrs = new_request(client, people["principal"]["headers"])  # the LR's count is untouched
    assert assert_problem(authorize(client, people["principal"]["headers"], lrs["id"], pin="000000"), 400,
                          "pin_invalid")["tries_left"] == 4
    assert authorize(client, headers, made["id"], pin=AGENT_PIN).status_code == 200


def test_the_face_check_is_the_agents(app, client, people, enterprise, agent_grant, enterprise_session):
    """SIGNING_REQUIRE_LIVENESS: the person signing must have proved L3 lately — the LR's does not count."""
    headers = _signing_agent(client, people, agent_grant, enterprise_session)
    made = new_request(client, headers)
    app.config["SIGNING_REQUIRE_LIVENESS"] = True
    try:
        fresh_level(app, people["principal"]["id"])
        assert_problem(authorize(client, headers, made["id"], pin=AGENT_PIN), 403, "liveness_required")
        fresh_level(app, people["relative"]["id"])
        assert authorize(client, headers, made["id"], pin=AGENT_PIN).status_code == 200
    finally:
        app.config["SIGNING_REQUIRE_LIVENESS"] = False


def test_the_lr_signs_for_the_enterprise(app, client, people, enterprise, enterprise_session):
    enrol(client, people["principal"]["headers"], pin=LR_PIN)
    headers = enterprise_session("principal")[0]
    made = new_request(client, headers)
    response = authorize(client, headers, made["id"], pin=LR_PIN)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["acting_for"]["id"] == enterprise
    [sig] = rows(app, Signature)
    assert (sig.user_id, sig.acting_for) == (people["principal"]["id"], enterprise)
