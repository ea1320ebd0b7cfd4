"""Object-level authorisation: another citizen's (or client's) id answers 404, with none of the
owner's data. Every id-taking route must be listed here, so a new one cannot slip past."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.helpers import assert_problem, bearer
from tests.wallet.conftest import issue, issue_body, present

# Routes whose ids are public by design (hall directory, certificate status, static files, dev
# helpers), or covered by the feature's own tests (named).
NOT_OWNED = {
    "/api/v1/map/halls/<hall_id>", "/api/v1/map/halls/<hall_id>/slots",
    "/api/v1/signing/certificates/<serial>/status", "/static/<path:filename>",
    "/counter/static/<path:filename>", "/m/static/<path:filename>", "/api/docs/static/<path:filename>",
    "/api/v1/dev/liveness/<session_id>/complete",
}
# Covered elsewhere for now (the next step is to move them here).
ELSEWHERE = {
    "/api/v1/me/liveness/<session_id>/confirm", "/api/v1/signing/requests/<request_id>",
    "/api/v1/signing/requests/<request_id>/authorize", "/api/v1/signing/requests/<request_id>/sms-code",
    "/api/v1/signing/batches/<batch_id>/authorize", "/api/v1/signing/batches/<batch_id>/sms-code",
    "/api/v1/map/halls/<hall_code>/queue", "/api/v1/appointments/<appointment_id>",
    "/api/v1/appointments/<appointment_id>/qr.png", "/api/v1/devices/<device_id>",
    "/api/v1/notifications/<entry_id>/read", "/api/v1/dept/cases/<path:case_no>",
    "/api/v1/dept/follow-ups/<follow_up_id>/answer", "/api/v1/cases/<case_id>",
    "/api/v1/cases/<case_id>/evaluation", "/api/v1/issuer/licences/<licence_id>/revoke",
}
TESTED = {
    "/api/v1/issuer/licences/<licence_id>",
    "/api/v1/wallet/licences/<licence_id>", "/api/v1/wallet/licences/<licence_id>/presentations",
    "/api/v1/wallet/presentations/<presentation_id>/qr.png",
    "/api/v1/wallet/presentations/<presentation_id>/qr.svg", "/api/v1/wallet/presentations/<presentation_id>",
    "/api/v1/proxies/<grant_id>", "/api/v1/proxies/<grant_id>/session", "/api/v1/proxies/<grant_id>/activity",
}


def test_every_id_taking_route_is_accounted_for(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.arguments}
    assert rules - NOT_OWNED - ELSEWHERE - TESTED == set(), "a new id-taking route: add it to this file"


def _refused(response, *secrets: str) -> None:
    assert response.status_code in (403, 404), response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    assert not any(s in text for s in secrets if s)


@pytest.fixture
def two_citizens(verified_citizen):
    a = bearer(verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])["access_token"])
    b = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    return a, b


def test_licences_and_presentations_of_another_citizen(client, machine_token, two_citizens):
    a, b = two_citizens
    licence = issue(client, bearer(machine_token("licences:issue")), issue_body())
    lid = licence["id"]
    shown = present(client, a, lid)
    pid = shown["id"]
    secrets = (lid, vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1])
    _refused(client.get(f"/api/v1/wallet/licences/{lid}", headers=b), vectors.ZHANG_SAN[1])
    _refused(client.post(f"/api/v1/wallet/licences/{lid}/presentations", json={}, headers=b), *secrets[1:])
    for suffix in ("/qr.png", "/qr.svg"):
        _refused(client.get(f"/api/v1/wallet/presentations/{pid}{suffix}", headers=b), *secrets[1:])
    _refused(client.delete(f"/api/v1/wallet/presentations/{pid}", headers=b))
    assert client.get(f"/api/v1/wallet/presentations/{pid}/qr.svg", headers=a).status_code == 200  # still live

    other_issuer = bearer(machine_token("licences:issue"))
    _refused(client.get(f"/api/v1/issuer/licences/{lid}", headers=other_issuer), *secrets[1:])
    assert client.get(f"/api/v1/wallet/licences/{lid}", headers=a).status_code == 200  # not revoked


def test_proxy_grants_of_another_citizen(client, verified_citizen, two_citizens):
    a, b = two_citizens
    from tests.bff.conftest import in_days
    grant = client.post("/api/v1/proxies", json={"phone": vectors.PHONES[1], "name": vectors.LI_SI[0],
                                                 "scopes": ["licences:view"], "expires_at": in_days(30)}, headers=a)
    assert grant.status_code == 201, grant.get_json()
    gid = grant.get_json()["id"]
    c = bearer(verified_citizen(vectors.WANG_WU, vectors.PHONES[2])["access_token"])
    _refused(client.delete(f"/api/v1/proxies/{gid}", headers=c))
    _refused(client.post(f"/api/v1/proxies/{gid}/session", headers=c))
    _refused(client.get(f"/api/v1/proxies/{gid}/activity", headers=c), vectors.ZHANG_SAN[0])
    assert client.post(f"/api/v1/proxies/{gid}/session", headers=b).status_code == 201  # the grantee may
