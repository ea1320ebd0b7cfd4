"""The offline QR (离线亮证码) of a licence: only its holder may have one made, or list the matters it
can be shown for; another citizen learns nothing of the licence, not even that it exists."""
from __future__ import annotations

from tests import vectors
from tests.helpers import bearer
from tests.object_access.conftest import refused
from tests.wallet.conftest import WALLET, driving_data, issue, issue_body

ROUTES = {"/api/v1/wallet/licences/<licence_id>/offline-presentations", "/api/v1/wallet/licences/<licence_id>/matters"}
NAME, ID_NUMBER = vectors.ZHANG_SAN


def test_offline_qr_of_another_citizens_licence(client, machine_token, two_citizens, clerk_of):
    a, b = two_citizens
    licence = issue(client, bearer(machine_token("licences:issue")), issue_body())
    lid = licence["id"]
    secrets = (NAME, ID_NUMBER, driving_data(vectors.ZHANG_SAN)["address"], licence["identifier"], "C1")
    for headers in (b, clerk_of("H1"), bearer(machine_token("licences:issue"))):  # another citizen, wrong kinds
        refused(client.post(f"{WALLET}/{lid}/offline-presentations", json={"matter": "vehicle_check"},
                            headers=headers), *secrets)
        refused(client.get(f"{WALLET}/{lid}/matters", headers=headers), *secrets)
    assert b"vehicle_check" in client.get(f"{WALLET}/{lid}/matters", headers=a).data
    made = client.post(f"{WALLET}/{lid}/offline-presentations", json={"matter": "vehicle_check"}, headers=a)
    assert made.status_code == 201, made.get_json()
    usage = client.get("/api/v1/wallet/usage", headers=b).get_json()["items"]
    assert usage == []  # B's history holds nothing of A's offline code
