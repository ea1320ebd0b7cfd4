"""The issuer registry (issue 17, "Issuers"): departments by USCC with their types and clients,
managed by `flask issuers …` and by /api/v1/admin/issuers (scope issuers:admin), every change
audited with before/after; issuing clients act only for a registered, active department, within its
types, and a licence's identifier carries the department's USCC."""
from __future__ import annotations

import json
import re

import pytest

from app.audit import AuditEvent
from issuers.models import Issuer, IssuerClient
from tests.helpers import assert_problem, bearer, rows
from tests.issuers.registry import bind, fresh_uscc, register_department
from tests.wallet.conftest import ISSUE, issue, issue_body

ADMIN = "/api/v1/admin/issuers"


@pytest.fixture
def client_credentials(client, runner):
    """A machine client with `scopes`, not registered anywhere: (client id, token headers)."""

    def make(scopes: str = "licences:issue") -> tuple[str, dict]:
        out = runner.invoke(args=["clients", "create", "--name", "发证系统", "--scopes", scopes]).output
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        answer = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds})
        assert answer.status_code == 200, answer.get_json()
        return creds["client_id"], bearer(answer.get_json()["access_token"])

    return make


@pytest.fixture
def admin(client_credentials):
    return client_credentials("issuers:admin")


def audit_rows(app, action: str) -> list[AuditEvent]:
    return rows(app, AuditEvent, AuditEvent.action == action)


# --- Issuing through the registry ---------------------------------------------------------------

def test_an_unregistered_issuing_client_is_refused_before_its_body_is_read(client, client_credentials):
    _, headers = client_credentials()
    assert_problem(client.post(ISSUE, json=issue_body(), headers=headers), 403, "issuer_not_registered")
    # 401 → 403 → 422: an invalid body from an unregistered client is a 403, from nobody a 401
    assert_problem(client.post(ISSUE, json={"type_code": 5}, headers=headers), 403, "issuer_not_registered")
    assert_problem(client.post(ISSUE, json={"type_code": 5}), 401)
    assert_problem(client.get(f"{ISSUE}/lic_x", headers=headers), 403, "issuer_not_registered")


def test_issuing_puts_the_departments_uscc_in_the_identifier(app, client, runner, client_credentials):
    client_id, headers = client_credentials()
    issuer_id, code = register_department(runner, types=("driving_licence",), name="合肥市公安局交通警察支队")
    bind(runner, issuer_id, client_id)
    licence = issue(client, headers, issue_body())
    assert licence["identifier"].split(".")[6] == code
    assert licence["issuer"] == {"code": code, "name": "合肥市公安局交通警察支队"}
    # a registered client with a valid body for a type outside the list: 403 naming the allowed types
    body = issue_body(reference="ref-2", type_code="resident_id_card")
    refused = assert_problem(client.post(ISSUE, json=body, headers=headers), 403, "issuer_type_not_allowed")
    assert refused["allowed"] == ["driving_licence"] and "driving_licence" in refused["detail"]
    english = client.post(ISSUE, json=body, headers={**headers, "Accept-Language": "en"}).get_json()
    assert "driving_licence" in english["detail"] and not re.search(r"[\u4e00-\u9fff]", english["detail"])
    # a registered client's malformed body: 422 (the 403 of the type needs the type)
    assert_problem(client.post(ISSUE, json={"type_code": 5}, headers=headers), 422)
    # an unknown type is the catalogue's 422, not a 403
    assert_problem(client.post(ISSUE, json=issue_body(reference="r3", type_code="nope"), headers=headers), 422)


def test_two_clients_of_one_department_share_its_licences_another_departments_client_does_not(
        client, runner, client_credentials):
    first_id, first = client_credentials()
    second_id, second = client_credentials()
    other_id, other = client_credentials()
    issuer_id, _ = register_department(runner)
    bind(runner, issuer_id, first_id)
    bind(runner, issuer_id, second_id)
    other_issuer, _ = register_department(runner)
    bind(runner, other_issuer, other_id)
    licence = issue(client, first, issue_body())
    assert client.get(f"{ISSUE}/{licence['id']}", headers=second).status_code == 200
    assert_problem(client.get(f"{ISSUE}/{licence['id']}", headers=other), 404, "licence_not_found")
    revoke = {"status_code": "07", "reason": "饮酒驾驶"}
    assert_problem(client.post(f"{ISSUE}/{licence['id']}/revoke", json=revoke, headers=other), 404, "licence_not_found")
    # the same reference from the other department is its own licence, under its own USCC
    own = issue(client, other, issue_body())
    assert own["id"] != licence["id"] and own["issuer"]["code"] != licence["issuer"]["code"]


def test_a_suspended_department_issues_nothing_until_resumed(app, client, runner, client_credentials):
    client_id, headers = client_credentials()
    issuer_id, code = register_department(runner)
    bind(runner, issuer_id, client_id)
    licence = issue(client, headers, issue_body())
    out = runner.invoke(args=["issuers", "suspend", code])  # by USCC
    assert out.exit_code == 0, out.output
    assert_problem(client.post(ISSUE, json=issue_body(reference="r2"), headers=headers), 403, "issuer_suspended")
    assert_problem(client.get(f"{ISSUE}/{licence['id']}", headers=headers), 403, "issuer_suspended")
    assert runner.invoke(args=["issuers", "resume", issuer_id]).exit_code == 0
    issue(client, headers, issue_body(reference="r2"))
    (suspended,) = audit_rows(app, "issuers.suspend")
    details = json.loads(suspended.details)
    assert details["before"]["status"] == "active" and details["after"]["status"] == "suspended"
    assert suspended.actor_kind == "operator" and suspended.target == issuer_id


def test_an_unbound_client_can_no_longer_issue(client, runner, client_credentials):
    client_id, headers = client_credentials()
    issuer_id, _ = register_department(runner)
    bind(runner, issuer_id, client_id)
    issue(client, headers, issue_body())
    assert runner.invoke(args=["issuers", "unbind-client", issuer_id, client_id]).exit_code == 0
    assert_problem(client.post(ISSUE, json=issue_body(reference="r2"), headers=headers), 403, "issuer_not_registered")


# --- The command line -------------------------------------------------------------------------

def test_cli_add_list_types_update_bind_with_audit(app, runner, client_credentials):
    types = runner.invoke(args=["issuers", "types"]).output.split()
    assert "driving_licence" in types and "resident_id_card" in types
    code = fresh_uscc()
    out = runner.invoke(args=["issuers", "add", "--uscc", code, "--name", "合肥市市场监督管理局", "--region", "340100",
                              "--types", "business_licence"])
    assert out.exit_code == 0, out.output
    issuer_id = re.search(r"(iss_\w+)", out.output).group(1)
    again = runner.invoke(args=["issuers", "add", "--uscc", code, "--name", "x", "--region", "340100",
                                "--types", "business_licence"])
    assert again.exit_code != 0 and "已登记" in again.output
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    bad = runner.invoke(args=["issuers", "add", "--uscc", wrong, "--name", "x", "--region", "340100",
                              "--types", "business_licence"])
    assert bad.exit_code != 0 and "第 18 位" in bad.output
    unknown = runner.invoke(args=["issuers", "add", "--uscc", fresh_uscc(), "--name", "x", "--region", "340100",
                                  "--types", "passport"])
    assert unknown.exit_code != 0 and "driving_licence" in unknown.output
    assert runner.invoke(args=["issuers", "update", issuer_id, "--types", "business_licence,driving_licence"]
                         ).exit_code == 0
    client_id, _ = client_credentials()
    bind(runner, issuer_id, client_id)
    listed = runner.invoke(args=["issuers", "list"]).output
    assert code in listed and "business_licence,driving_licence" in listed and client_id in listed
    # a client acts for one department
    other_id, _ = register_department(runner)
    moved = runner.invoke(args=["issuers", "bind-client", other_id, client_id])
    assert moved.exit_code != 0 and "另一发证机关" in moved.output
    (registered,) = [r for r in audit_rows(app, "issuers.register") if r.target == issuer_id]
    assert json.loads(registered.details)["before"] is None
    assert json.loads(registered.details)["after"]["uscc"] == code
    (updated,) = audit_rows(app, "issuers.update")
    details = json.loads(updated.details)
    assert details["before"]["types"] == ["business_licence"]
    assert details["after"]["types"] == ["business_licence", "driving_licence"]
    (bound,) = [r for r in audit_rows(app, "issuers.bind_client") if r.target == issuer_id]
    assert json.loads(bound.details)["after"]["clients"] == [client_id]
    fixed = runner.invoke(args=["issuers", "update", issuer_id, "--uscc", fresh_uscc()])
    assert fixed.exit_code != 0 and "不能更改" in fixed.output


# --- The admin API ----------------------------------------------------------------------------

def test_admin_api_needs_its_own_scope(client, machine_token, admin):
    body = {"uscc": fresh_uscc(), "name": "合肥市民政局", "region": "340100", "types": ["marriage_certificate"]}
    assert_problem(client.post(ADMIN, json=body), 401)
    issuing = bearer(machine_token("licences:issue"))
    assert_problem(client.post(ADMIN, json=body, headers=issuing), 403, "insufficient_scope")
    assert_problem(client.get(ADMIN, headers=issuing), 403, "insufficient_scope")
    # 403 before 422: a bad body from the wrong client is still 403
    assert_problem(client.post(ADMIN, json={"uscc": 1}, headers=issuing), 403, "insufficient_scope")
    _, headers = admin
    assert_problem(client.post(ADMIN, json={"uscc": 1}, headers=headers), 422)


def test_admin_api_registers_updates_suspends_and_binds_with_audit(app, client, admin, client_credentials):
    admin_id, headers = admin
    code = fresh_uscc()
    body = {"uscc": code, "name": "合肥市民政局", "region": "340100", "types": ["marriage_certificate"]}
    created = client.post(ADMIN, json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    issuer = created.get_json()
    assert issuer["uscc"] == code and issuer["status"] == "active" and issuer["clients"] == []
    assert_problem(client.post(ADMIN, json=body, headers=headers), 409, "uscc_taken")
    wrong = {**body, "uscc": code[:16] + ("0" if code[16] != "0" else "1") + code[17]}
    problem = assert_problem(client.post(ADMIN, json=wrong, headers=headers), 422, "uscc_invalid")
    assert problem["errors"]["uscc"]
    assert_problem(client.post(ADMIN, json={**body, "uscc": fresh_uscc(), "region": "990000"}, headers=headers),
                   422, "region_invalid")
    assert_problem(client.post(ADMIN, json={**body, "uscc": fresh_uscc(), "types": ["passport"]}, headers=headers), 422)
    url = f"{ADMIN}/{issuer['id']}"
    patched = client.patch(url, json={"types": ["marriage_certificate", "household_register"]}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["types"] == ["household_register", "marriage_certificate"]
    assert_problem(client.patch(url, json={"uscc": fresh_uscc()}, headers=headers), 409, "uscc_fixed")
    client_id, issuing = client_credentials()
    bound = client.put(f"{url}/clients/{client_id}", headers=headers)
    assert bound.status_code == 200 and bound.get_json()["clients"] == [client_id]
    assert_problem(client.put(f"{url}/clients/cl_nobody", headers=headers), 422, "client_unknown")
    assert client.post(f"{url}/suspend", headers=headers).get_json()["status"] == "suspended"
    assert client.get(ADMIN, query_string={"status": "suspended"}, headers=headers).get_json()["items"][0]["id"] \
        == issuer["id"]
    assert client.post(f"{url}/resume", headers=headers).get_json()["status"] == "active"
    assert client.delete(f"{url}/clients/{client_id}", headers=headers).get_json()["clients"] == []
    assert_problem(client.delete(f"{url}/clients/{client_id}", headers=headers), 409, "client_not_bound")
    assert_problem(client.get(f"{ADMIN}/iss_none", headers=headers), 404, "issuer_not_found")
    actions = [r.action for r in rows(app, AuditEvent, AuditEvent.target == issuer["id"])]
    assert actions == ["issuers.register", "issuers.update", "issuers.bind_client", "issuers.suspend",
                       "issuers.resume", "issuers.unbind_client"]
    for row in rows(app, AuditEvent, AuditEvent.target == issuer["id"]):
        assert row.actor_kind == "client" and row.actor_id == admin_id
        assert set(json.loads(row.details)) >= {"before", "after"}


def test_the_openapi_document_states_the_constraints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["components"]["schemas"]["IssuerCreate"]
    assert schema["properties"]["uscc"]["pattern"] == "^[0-9A-HJ-NPQRTUWXY]{18}$"
    assert "MOD 31" in schema["properties"]["uscc"]["description"]
    assert schema["properties"]["region"]["pattern"] == "^[0-9]{6}$"
    assert "driving_licence" in schema["properties"]["types"]["items"]["enum"]
    assert set(schema["required"]) == {"uscc", "name", "region", "types"}
    issue_op = spec["paths"]["/api/v1/issuer/licences"]["post"]
    assert "issuer_not_registered" in issue_op["responses"]["403"]["description"]
    assert "issuer_type_not_allowed" in issue_op["responses"]["403"]["description"]
    admin_op = spec["paths"]["/api/v1/admin/issuers"]["post"]
    assert "uscc_invalid" in admin_op["responses"]["422"]["description"]


def test_demo_seed_registers_departments_with_valid_codes_bound_to_clients(app, runner):
    from issuers import uscc
    from issuers.demo import DEMO_USCC

    out = runner.invoke(args=["demo", "seed"])
    assert out.exit_code == 0, out.output
    found = {row.name: row for row in rows(app, Issuer)}
    for name, code in DEMO_USCC.items():
        assert found[name].uscc == code and uscc.is_valid(code)
        assert rows(app, IssuerClient, IssuerClient.issuer == found[name].id)
    assert "driving_licence" in found["合肥市公安局交通警察支队"].type_codes
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0  # idempotent
    assert len(rows(app, Issuer)) == len(DEMO_USCC)
