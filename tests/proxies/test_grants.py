"""Granting, listing and revoking proxies (授权代理): every refusal, masking, who may see what."""
from __future__ import annotations

import json

import pytest

from app.audit import AuditEvent
from proxies.models import ProxyGrant
from tests import vectors
from tests.fixtures.proxies import PROXIES, in_days
from tests.helpers import assert_problem, bearer, rows


def body(**changes) -> dict:
    data = {"phone": vectors.PHONES[1], "name": vectors.LI_SI[0], "scopes": ["licences:view"],
            "expires_at": in_days(30)}
    data.update(changes)
    return data


def test_grant_names_both_parties_masked_and_is_audited(app, client, people, invite):
    response = invite(scopes=["licences:present", "cases:follow"])
    assert response.status_code == 201, response.get_json()
    grant = response.get_json()
    assert grant["status"] == "pending" and grant["accepted_at"] is None
    # presenting a licence needs finding it: licences:present brings licences:view
    assert grant["scopes"] == ["cases:follow", "licences:present", "licences:view"]
    assert grant["principal"] == {"id": people["principal"]["id"], "name_masked": "张*"}
    assert grant["proxy"] == {"id": people["relative"]["id"], "name_masked": "李*",
                              "phone_masked": "139****9000"}
    text = response.get_data(as_text=True)
    for secret in vectors.PHONES[:2] + [vectors.ZHANG_SAN[1], vectors.LI_SI[1]]:
        assert secret not in text
    [event] = rows(app, AuditEvent, AuditEvent.action == "proxy.grant")
    assert (event.actor_id, event.target) == (people["principal"]["id"], grant["id"])
    assert json.loads(event.details)["proxy_id"] == people["relative"]["id"]
    for secret in vectors.PHONES[:2] + [vectors.ZHANG_SAN[1], vectors.LI_SI[1]]:
        assert secret not in (event.details or "")


@pytest.mark.parametrize("changes, status, code", [
    ({"phone": vectors.PHONES[3]}, 422, "proxy_relative_not_found"),          # no account
    ({"sms_code": None}, 403, "step_up_failed"),                              # no step-up at all
    ({"sms_code": "000000x"}, 422, "validation_failed"),
    ({"name": "李五"}, 422, "proxy_relative_not_found"),                       # verified name differs
    ({"phone": vectors.PHONES[0], "name": vectors.ZHANG_SAN[0]}, 422, "proxy_self"),
    ({"phone": "12345"}, 422, "phone_invalid"),
    ({"scopes": ["signatures:sign"]}, 422, "proxy_scope_invalid"),           # signing is never delegable
    ({"scopes": ["licences:view", "profile:write"]}, 422, "proxy_scope_invalid"),
    ({"scopes": []}, 422, "validation_failed"),
    ({"expires_at": in_days(-1)}, 422, "proxy_expiry_invalid"),
    ({"expires_at": in_days(366)}, 422, "proxy_expiry_invalid"),
    ({"expires_at": "2030-01-01T00:00:00"}, 422, "validation_failed"),      # no offset
    ({"name": ""}, 422, "validation_failed"),
])
def test_refusals(app, client, people, invite, changes, status, code):
    assert_problem(invite(**changes), status, code)
    assert rows(app, ProxyGrant) == []


def test_expiry_of_a_full_year_is_allowed(invite):
    assert invite(days=364.9).status_code == 201


def test_principal_must_be_real_name_verified(client, people, login_citizen):
    l1 = bearer(login_citizen(vectors.PHONES[3])["access_token"])
    refused = assert_problem(client.post(PROXIES, json=body(), headers=l1), 403, "assurance_level_insufficient")
    # the refusal names the levels and where to step up (issue 19)
    assert (refused["required_level"], refused["current_level"]) == ("L2", "L1")
    assert refused["step_up_url"] == "/api/v1/me/step-up?required_level=L2"


def test_one_active_grant_per_pair_until_revoked(app, client, people, grant, invite):
    first = grant()
    assert_problem(invite(), 409, "proxy_grant_exists")
    assert client.delete(f"{PROXIES}/{first['id']}", headers=people["principal"]["headers"]).status_code == 204
    second = grant(scopes=["cases:follow"])
    assert second["id"] != first["id"]
    assert len(rows(app, ProxyGrant)) == 2


def test_lists_for_principal_and_proxy(client, people, grant):
    made = grant()
    mine = client.get(PROXIES, headers=people["principal"]["headers"]).get_json()
    assert [g["id"] for g in mine["items"]] == [made["id"]] and mine["next_cursor"] is None
    assert client.get(f"{PROXIES}?role=proxy", headers=people["principal"]["headers"]).get_json()["items"] == []
    given = client.get(f"{PROXIES}?role=proxy", headers=people["relative"]["headers"]).get_json()
    assert [g["id"] for g in given["items"]] == [made["id"]]
    assert client.get(PROXIES, headers=people["relative"]["headers"]).get_json()["items"] == []
    assert client.get(f"{PROXIES}?role=proxy", headers=people["other"]["headers"]).get_json()["items"] == []
    assert_problem(client.get(f"{PROXIES}?role=boss", headers=people["principal"]["headers"]), 422)
    assert_problem(client.get(f"{PROXIES}?cursor=zzz", headers=people["principal"]["headers"]), 422, "cursor_invalid")


def test_list_pages_with_a_cursor(client, people, verified_citizen, invite):
    for person, phone in ((vectors.LI_SI, vectors.PHONES[1]), (vectors.WANG_WU, vectors.PHONES[2]),
                          (vectors.OUYANG, vectors.PHONES[3])):
        if phone == vectors.PHONES[3]:
            verified_citizen(person, phone)
        response = invite(phone=phone, name=person[0])
        assert response.status_code == 201, response.get_json()
    first = client.get(f"{PROXIES}?limit=2", headers=people["principal"]["headers"]).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(f"{PROXIES}?limit=2&cursor={first['next_cursor']}",
                      headers=people["principal"]["headers"]).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {g["proxy"]["name_masked"] for g in first["items"] + rest["items"]} == {"李*", "王*", "欧阳**"}


def test_another_citizen_cannot_see_or_revoke(app, client, people, grant):
    made = grant()
    for path in (f"{PROXIES}/{made['id']}/activity",):
        assert_problem(client.get(path, headers=people["other"]["headers"]), 404, "proxy_grant_not_found")
    assert_problem(client.delete(f"{PROXIES}/{made['id']}", headers=people["other"]["headers"]), 404,
                   "proxy_grant_not_found")
    assert_problem(client.post(f"{PROXIES}/{made['id']}/session", headers=people["other"]["headers"]), 404,
                   "proxy_grant_not_found")
    assert_problem(client.delete(f"{PROXIES}/pg_nothing", headers=people["principal"]["headers"]), 404)
    [stored] = rows(app, ProxyGrant)
    assert stored.status == "active"


def test_revocation_is_audited_once_and_idempotent(app, client, people, grant):
    made = grant()
    for _ in range(2):
        assert client.delete(f"{PROXIES}/{made['id']}", headers=people["principal"]["headers"]).status_code == 204
    [event] = rows(app, AuditEvent, AuditEvent.action == "proxy.revoke")
    assert (event.actor_id, json.loads(event.details)["by"]) == (people["principal"]["id"], "principal")
    [listed] = client.get(PROXIES, headers=people["principal"]["headers"]).get_json()["items"]
    assert listed["status"] == "revoked" and listed["revoked_by"] == "principal" and listed["revoked_at"]


def test_the_proxy_may_give_a_grant_up(client, people, grant):
    made = grant()
    assert client.delete(f"{PROXIES}/{made['id']}", headers=people["relative"]["headers"]).status_code == 204
    [listed] = client.get(PROXIES, headers=people["principal"]["headers"]).get_json()["items"]
    assert (listed["status"], listed["revoked_by"]) == ("revoked", "proxy")


def test_openapi_documents_the_proxy_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"post", "get"} <= set(spec["paths"]["/api/v1/proxies"])
    assert "delete" in spec["paths"]["/api/v1/proxies/{grant_id}"]
    assert "post" in spec["paths"]["/api/v1/proxies/{grant_id}/session"]
    answers = spec["paths"]["/api/v1/proxies"]["post"]["responses"]
    assert "proxy_relative_not_found" in answers["422"]["description"]
