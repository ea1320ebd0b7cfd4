"""The issuer registry is managed only by a client holding `issuers:admin`: citizens, clerks and
clients with every other scope — an issuing department's own client included — cannot read,
change, suspend, resume or rebind a department (403/404, its USCC and clients not shown), and
nothing changes; a department's client cannot issue as another department (tests/issuers)."""
from __future__ import annotations

import re

from tests.helpers import bearer
from tests.issuers.registry import fresh_uscc
from tests.object_access.conftest import refused

ROUTES = {"/api/v1/admin/issuers/<issuer_id>", "/api/v1/admin/issuers/<issuer_id>/clients/<client_id>",
          "/api/v1/admin/issuers/<issuer_id>/suspend", "/api/v1/admin/issuers/<issuer_id>/resume"}
ADMIN = "/api/v1/admin/issuers"


def test_only_an_issuers_admin_client_manages_a_department(client, runner, two_citizens, clerk_of, machine_token):
    code = fresh_uscc()
    out = runner.invoke(args=["issuers", "add", "--uscc", code, "--name", "合肥市民政局", "--region", "340100",
                              "--types", "marriage_certificate"])
    issuer_id = re.search(r"(iss_\w+)", out.output).group(1)
    created = runner.invoke(args=["clients", "create", "--name", "民政发证系统", "--scopes", "licences:issue"]).output
    client_id = re.search(r"client_id=(\S+)", created).group(1)
    runner.invoke(args=["issuers", "bind-client", issuer_id, client_id])
    others = [*two_citizens, clerk_of("H1"),
              bearer(machine_token("licences:issue cases:write signatures:verify halls:write matters:admin "
                                   "verifications:request"))]
    url = f"{ADMIN}/{issuer_id}"
    for headers in others:
        refused(client.get(ADMIN, headers=headers), code)
        refused(client.get(url, headers=headers), code, client_id)
        refused(client.patch(url, json={"name": "冒名机关"}, headers=headers), code)
        refused(client.post(f"{url}/suspend", headers=headers), code)
        refused(client.post(f"{url}/resume", headers=headers), code)
        refused(client.delete(f"{url}/clients/{client_id}", headers=headers), code)
        refused(client.put(f"{url}/clients/cl_intruder", headers=headers), code)
    admin = bearer(machine_token("issuers:admin"))
    issuer = client.get(url, headers=admin).get_json()
    assert issuer["name"] == "合肥市民政局" and issuer["status"] == "active" and issuer["clients"] == [client_id]
