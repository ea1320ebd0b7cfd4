"""Licences, presentations and their issuer; proxy grants and the sign-in sessions they were made in."""
from __future__ import annotations

from tests import vectors
from tests.fixtures.proxies import PROXIES, in_days
from tests.helpers import bearer, step_up_code
from tests.object_access.conftest import refused
from tests.wallet.conftest import ISSUE, WALLET, driving_data, issue, issue_body, present, present_url

ROUTES = {
    "/api/v1/issuer/licences/<licence_id>", "/api/v1/issuer/licences/<licence_id>/revoke",
    "/api/v1/wallet/licences/<licence_id>", "/api/v1/wallet/licences/<licence_id>/presentations",
    "/api/v1/wallet/presentations/<presentation_id>/qr.png",
    "/api/v1/wallet/presentations/<presentation_id>/qr.svg", "/api/v1/wallet/presentations/<presentation_id>",
    "/api/v1/proxies/<grant_id>", "/api/v1/proxies/<grant_id>/session", "/api/v1/proxies/<grant_id>/activity",
    "/api/v1/proxies/<grant_id>/accept", "/api/v1/proxies/<grant_id>/decline",
    "/api/v1/me/sessions/<session_id>/revoke",
}
NAME, ID_NUMBER = vectors.ZHANG_SAN
ADDRESS = driving_data(vectors.ZHANG_SAN)["address"]


def test_licences_and_presentations_of_another_citizen(client, machine_token, two_citizens):
    a, b = two_citizens
    licence = issue(client, bearer(machine_token("licences:issue")), issue_body())
    lid = licence["id"]
    shown = present(client, a, lid)
    pid = shown["id"]
    secrets = (NAME, ID_NUMBER, ADDRESS, licence["identifier"], shown["manual_code"], shown["qr_text"])
    refused(client.get(f"{WALLET}/{lid}", headers=b), *secrets)
    refused(client.post(present_url(lid), json={}, headers=b), *secrets)
    for suffix in ("/qr.png", "/qr.svg"):
        refused(client.get(f"/api/v1/wallet/presentations/{pid}{suffix}", headers=b), *secrets)
    refused(client.delete(f"/api/v1/wallet/presentations/{pid}", headers=b), *secrets)
    assert client.get(f"/api/v1/wallet/presentations/{pid}/qr.svg", headers=a).status_code == 200  # still live

    other_issuer = bearer(machine_token("licences:issue"))
    refused(client.get(f"{ISSUE}/{lid}", headers=other_issuer), *secrets)
    refused(client.get(f"{WALLET}/{lid}", headers=other_issuer), *secrets)  # wrong kind on the holder's route
    assert client.get(f"{WALLET}/{lid}", headers=a).status_code == 200  # not revoked


def test_revoke_by_another_issuer_or_a_wrong_token(client, machine_token, two_citizens, clerk_of):
    a, b = two_citizens
    issuer = bearer(machine_token("licences:issue"))
    licence = issue(client, issuer, issue_body())
    url = f"{ISSUE}/{licence['id']}/revoke"
    body = {"status_code": "07", "reason": "饮酒驾驶"}
    secrets = (NAME, ID_NUMBER, ADDRESS, licence["identifier"], licence["reference"])
    for headers in (bearer(machine_token("licences:issue")),  # another issuer
                    bearer(machine_token("cases:write signatures:verify halls:write")),  # every other scope
                    a, b, clerk_of("H1")):  # the holder herself, another citizen, a clerk: wrong kinds
        refused(client.post(url, json=body, headers=headers), *secrets)

    # Still valid, still version 1, for its issuer and in the holder's wallet; its issuer can revoke it.
    mine = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()
    assert (mine["status"], mine["version"], mine["status_reason"]) == ("01", 1, None)
    assert client.get(f"{WALLET}/{licence['id']}", headers=a).get_json()["status"] == "01"
    revoked = client.post(url, json=body, headers=issuer)
    assert revoked.status_code == 200 and revoked.get_json()["version"] == 2, revoked.get_json()


def test_proxy_grants_of_another_citizen(client, verified_citizen, two_citizens):
    a, b = two_citizens
    grant = client.post(PROXIES, json={"phone": vectors.PHONES[1], "name": vectors.LI_SI[0],
                                       "scopes": ["licences:view"], "expires_at": in_days(30),
                                       "sms_code": step_up_code(client, a["Authorization"][7:], "proxy_grant")},
                        headers=a)
    assert grant.status_code == 201, grant.get_json()
    gid = grant.get_json()["id"]
    c = bearer(verified_citizen(vectors.WANG_WU, vectors.PHONES[2])["access_token"])
    secrets = (NAME, ID_NUMBER, vectors.PHONES[0], vectors.PHONES[1], vectors.LI_SI[1])
    # Only the invited relative answers the invitation; a third citizen cannot accept or decline it.
    refused(client.post(f"{PROXIES}/{gid}/accept", headers=c), *secrets)
    refused(client.post(f"{PROXIES}/{gid}/decline", headers=c), *secrets)
    refused(client.post(f"{PROXIES}/{gid}/accept", headers=a), *secrets)  # nor the principal (or her token's thief)
    assert client.post(f"{PROXIES}/{gid}/accept", headers=b).status_code == 200
    refused(client.delete(f"{PROXIES}/{gid}", headers=c), *secrets)
    refused(client.post(f"{PROXIES}/{gid}/session", headers=c), *secrets)
    refused(client.get(f"{PROXIES}/{gid}/activity", headers=c), *secrets)
    assert client.post(f"{PROXIES}/{gid}/session", headers=b).status_code == 201  # the grantee may: not revoked


def test_a_sign_in_session_of_another_citizen(client, two_citizens, machine_token, clerk_of):
    """Revoking a session (and the proxy grants made in it, issue 14 item 2) only for its owner."""
    a, b = two_citizens
    [mine] = client.get("/api/v1/me/sessions", headers=a).get_json()["items"]
    url = f"/api/v1/me/sessions/{mine['id']}/revoke"
    for headers in (b, bearer(machine_token("licences:issue cases:write signatures:verify halls:write")),
                    clerk_of("H1")):
        refused(client.post(url, json={"revoke_grants": True}, headers=headers), NAME, ID_NUMBER, vectors.PHONES[0])
    assert client.get("/api/v1/me", headers=a).status_code == 200  # still signed in
