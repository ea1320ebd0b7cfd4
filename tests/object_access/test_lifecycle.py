"""The licence life cycle's issuer routes (issue 17): another issuer, another scope, the holder, another
citizen or a clerk can neither change a licence's status (restore included) nor re-issue it, and learns
nothing of it; the licence stays as it was."""
from __future__ import annotations

from tests import vectors
from tests.helpers import bearer
from tests.object_access.conftest import refused
from tests.wallet.conftest import ISSUE, driving_data, issue, issue_body

ROUTES = {"/api/v1/issuer/licences/<licence_id>/status", "/api/v1/issuer/licences/<licence_id>/reissue"}
NAME, ID_NUMBER = vectors.ZHANG_SAN
ADDRESS = driving_data(vectors.ZHANG_SAN)["address"]


def test_status_change_and_reissue_by_anyone_but_the_issuer(client, machine_token, two_citizens, clerk_of):
    a, b = two_citizens
    issuer = bearer(machine_token("licences:issue"))
    licence = issue(client, issuer, issue_body())
    suspended = client.post(f"{ISSUE}/{licence['id']}/status", json={"status_code": "02", "reason": "暂扣"},
                            headers=issuer).get_json()
    secrets = (NAME, ID_NUMBER, ADDRESS, licence["identifier"], suspended["identifier"], licence["reference"], "暂扣")
    calls = ((f"{ISSUE}/{licence['id']}/status", {"status_code": "01", "reason": "解除暂扣"}),
             (f"{ISSUE}/{licence['id']}/reissue", {"kind": "reissue", "reason": "遗失补领"}))
    for headers in (bearer(machine_token("licences:issue")),  # another issuer
                    bearer(machine_token("cases:write signatures:verify halls:write")),  # every other scope
                    a, b, clerk_of("H1")):  # the holder herself, another citizen, a clerk: wrong kinds
        for url, body in calls:
            refused(client.post(url, json=body, headers=headers), *secrets)

    mine = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()
    assert (mine["status"], mine["version"], len(mine["history"])) == ("02", 2, 2)  # nothing happened
    restored = client.post(calls[0][0], json=calls[0][1], headers=issuer)
    assert restored.status_code == 200 and restored.get_json()["version"] == 3, restored.get_json()
