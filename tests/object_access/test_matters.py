"""The catalogue of matters (用证事项) is shared reference data, not anyone's object: only a client
holding `matters:admin` reads its admin view or changes a matter; citizens, clerks, staff admins and
clients with every other scope are refused and change nothing."""
from __future__ import annotations

from tests.helpers import bearer
from tests.object_access.conftest import refused

ROUTES = {"/api/v1/admin/matters/<code>"}
URL = "/api/v1/admin/matters/hotel_check_in"


def test_only_a_matters_admin_client_reads_or_changes_a_matter(client, two_citizens, clerk_of, machine_token):
    others = [*two_citizens, clerk_of("H1"),
              bearer(machine_token("licences:issue cases:write signatures:verify halls:write verifications:request"))]
    for headers in others:
        refused(client.get(URL, headers=headers))
        refused(client.patch(URL, json={"active": False}, headers=headers))
    admin = bearer(machine_token("matters:admin"))
    matter = client.get(URL, headers=admin).get_json()
    assert matter["active"] is True and matter["version"] == 1  # nobody above changed it
