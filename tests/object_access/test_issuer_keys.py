"""A department's signing keys (/api/v1/admin/issuers/{id}/keys): only a platform client with the
scope issuers:admin sees or changes them; a department's own issuing client, a citizen or a clerk
cannot, and one department's key is not reachable through another department's id."""
from __future__ import annotations

from tests.helpers import bearer
from tests.issuers.registry import register_department
from tests.object_access.conftest import refused
from tests.wallet.conftest import issue

ROUTES = {"/api/v1/admin/issuers/<issuer_id>/keys", "/api/v1/admin/issuers/<issuer_id>/keys/<kid>/revoke"}
KEYS = "/api/v1/admin/issuers/{}/keys"


def test_keys_only_for_the_registry_admin(client, runner, machine_token, two_citizens, clerk_of):
    issuing = bearer(machine_token("licences:issue"))
    licence = issue(client, issuing)
    admin = bearer(machine_token("issuers:admin"))
    items = client.get("/api/v1/admin/issuers", headers=admin).get_json()["items"]
    issuer_id = next(i["id"] for i in items if i["uscc"] == licence["issuer"]["code"])
    (key,) = client.get(KEYS.format(issuer_id), headers=admin).get_json()["items"]
    revoke = f"{KEYS.format(issuer_id)}/{key['kid']}/revoke"
    body = {"since": "2026-11-01T00:00:00+08:00", "reason": "keyCompromise"}
    citizen, _ = two_citizens
    for headers in (issuing, citizen, clerk_of("H1"), bearer(machine_token("cases:write"))):
        refused(client.get(KEYS.format(issuer_id), headers=headers), key["kid"], key["certificate_serial"])
        refused(client.post(KEYS.format(issuer_id), headers=headers), key["kid"])
        refused(client.post(revoke, json=body, headers=headers), key["kid"])
    # another department's id does not reach this key
    other_id, _ = register_department(runner, name="另一机关", types=("driving_licence",))
    refused(client.post(f"{KEYS.format(other_id)}/{key['kid']}/revoke", json=body, headers=admin))
    assert client.get(KEYS.format(other_id), headers=admin).get_json()["items"] == []
    # nothing changed on the way
    (same,) = client.get(KEYS.format(issuer_id), headers=admin).get_json()["items"]
    assert same["kid"] == key["kid"] and same["status"] == "active"
