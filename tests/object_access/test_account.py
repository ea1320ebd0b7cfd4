"""The citizen's own account things: a liveness session, push devices, inbox notices."""
from __future__ import annotations

import pytest

from notify.models import Device
from tests import vectors
from tests.fixtures.notify import Clock
from tests.helpers import bearer, rows
from tests.identity.test_real_name import complete, confirm, me, start_liveness
from tests.notify.test_api import APNS
from tests.object_access.conftest import refused

ROUTES = {
    "/api/v1/me/liveness/<session_id>/confirm", "/api/v1/devices/<device_id>",
    "/api/v1/notifications/<entry_id>/read",
}
SECRETS = (vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], vectors.PHONES[0])


@pytest.fixture
def clock():
    """The notify worker's injectable clock (as in tests/notify), not the appointments' frozen one."""
    return Clock()


def _others(machine_token, clerk_of, b: dict) -> list[dict]:
    """Another verified citizen, then tokens of the wrong kind: a machine client, a clerk."""
    return [b, bearer(machine_token("licences:issue cases:write signatures:verify halls:write")), clerk_of("H1")]


def test_a_liveness_session_of_another_citizen(client, verified_citizen, machine_token, clerk_of):
    alice = verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])["access_token"]
    bob = verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"]
    session_id = start_liveness(client, alice).get_json()["session_id"]
    complete(client, session_id, passed=True)
    for headers in _others(machine_token, clerk_of, bearer(bob)):
        refused(client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=headers), *SECRETS)
    assert me(client, bob)["assurance_level"] == "L2" and me(client, bob)["liveness_verified_at"] is None
    assert me(client, alice)["assurance_level"] == "L2"
    assert confirm(client, alice, session_id).status_code == 200  # the pass was not spent
    assert me(client, alice)["assurance_level"] == "L3"


def test_a_device_of_another_citizen(app, client, two_citizens, machine_token, clerk_of):
    a, b = two_citizens
    device = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}, headers=a).get_json()
    for headers in _others(machine_token, clerk_of, b):
        refused(client.delete(f"/api/v1/devices/{device['id']}", headers=headers), APNS, APNS[-4:], *SECRETS)
    assert [d.id for d in rows(app, Device)] == [device["id"]]
    assert [d["id"] for d in client.get("/api/v1/devices", headers=a).get_json()["items"]] == [device["id"]]
    assert client.get("/api/v1/devices", headers=b).get_json()["items"] == []
    assert client.delete(f"/api/v1/devices/{device['id']}", headers=a).status_code == 204


def test_a_notice_of_another_citizen(client, two_citizens, notice, make_worker, machine_token,
                                     clerk_of):
    a, b = two_citizens
    user_a = client.get("/api/v1/me", headers=a).get_json()["id"]
    title, body = "办件进度：李某的证明已出具", "您的申请（C-2026-0042）已办结。"
    notice(user_a, title=title, body=body, data={"case_id": "case_secret_42"})
    make_worker().drain()
    [item] = client.get("/api/v1/notifications", headers=a).get_json()["items"]
    for headers in _others(machine_token, clerk_of, b):
        refused(client.post(f"/api/v1/notifications/{item['id']}/read", headers=headers),
                title, body, "case_secret_42", *SECRETS)
    assert client.get("/api/v1/notifications/unread-count", headers=a).get_json() == {"count": 1}
    [still] = client.get("/api/v1/notifications", headers=a).get_json()["items"]
    assert still["read"] is False and still["read_at"] is None
    assert client.post(f"/api/v1/notifications/{item['id']}/read", headers=a).get_json()["read"] is True
