"""Push devices belong to the login session that registered them (issue 14 item 5): ending that
session — logout, refresh-token reuse — drops them, and a new device is announced to the citizen on
the account's other channels."""
from __future__ import annotations

import pytest

from app.db import db
from app.security.auth import InvalidAccessToken
from identity.models import AuthSession
from notify import service
from notify.models import Device
from tests import vectors
from tests.helpers import bearer, latest_code, rows

APNS_PHONE, FCM_ATTACKER = "ab" * 32, "attacker-fcm-token-0000000000001"


@pytest.fixture
def sapp(make_app):
    return make_app(SMS_RESEND_COOLDOWN=0, REFRESH_REUSE_GRACE=0)


@pytest.fixture
def sclient(sapp):
    return sapp.test_client()


def _login(client, phone: str = vectors.PHONES[0]) -> dict:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    answer = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)}).get_json()
    return {"headers": bearer(answer["access_token"]), "refresh_token": answer["refresh_token"],
            "user_id": answer["user"]["id"]}


def _register(client, who: dict, platform: str, token: str) -> dict:
    response = client.post("/api/v1/devices", json={"platform": platform, "token": token}, headers=who["headers"])
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def _device_ids(client, who: dict) -> set[str]:
    return {d["id"] for d in client.get("/api/v1/devices", headers=who["headers"]).get_json()["items"]}


def test_logout_drops_the_devices_that_session_registered_and_only_those(sclient):
    """A stolen token's device does not outlive the victim's logout of that session."""
    phone, stolen = _login(sclient), _login(sclient)
    mine = _register(sclient, phone, "apns", APNS_PHONE)
    theirs = _register(sclient, stolen, "fcm", FCM_ATTACKER)
    assert _device_ids(sclient, phone) == {mine["id"], theirs["id"]}
    assert sclient.post("/api/v1/auth/logout", headers=stolen["headers"]).status_code in (200, 204)
    assert _device_ids(sclient, phone) == {mine["id"]}


def test_refresh_token_reuse_drops_the_sessions_devices(sapp, sclient):
    """Revocation for a leaked refresh token (reuse) removes the session's push devices with it."""
    victim = _login(sclient)
    _register(sclient, victim, "fcm", FCM_ATTACKER)
    assert sclient.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}).status_code == 200
    assert sclient.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}).status_code == 401
    assert rows(sapp, Device) == []


def test_a_token_registered_again_in_a_new_session_follows_that_session(sapp, sclient):
    """The phone logged in again: its token moves to the new session, so ending the old one keeps it."""
    old, new = _login(sclient), _login(sclient)
    first = _register(sclient, old, "apns", APNS_PHONE)
    assert _register(sclient, new, "apns", APNS_PHONE)["id"] == first["id"]
    sclient.post("/api/v1/auth/logout", headers=old["headers"])
    assert _device_ids(sclient, new) == {first["id"]}


def test_a_new_device_is_announced_on_the_other_channels(sapp, sclient, make_worker, channels):
    """The citizen hears of a new device (urgent notice: inbox, live event, pushes to the other devices)
    and the new device itself is not told; registering the same token again is not news."""
    phone, stolen = _login(sclient), _login(sclient)
    _register(sclient, phone, "apns", APNS_PHONE)
    worker = make_worker()
    worker.drain()
    channels["apns"].sent.clear()
    device = _register(sclient, stolen, "fcm", FCM_ATTACKER)
    worker.drain()
    inbox = sclient.get("/api/v1/notifications", headers=phone["headers"]).get_json()["items"]
    notices = [n for n in inbox if n["kind"] == "new_device"]
    assert len(notices) == 2  # the first device was news too
    assert notices[0]["urgent"] and notices[0]["data"]["device_id"] == device["id"]
    assert "如果不是您本人操作" in notices[0]["body"] and FCM_ATTACKER[-4:] in notices[0]["body"]
    assert [m.kind for _token, m in channels["apns"].sent] == ["new_device"]
    assert [m.kind for _token, m in channels["fcm"].sent] == []
    english = sclient.get("/api/v1/notifications", headers={**phone["headers"], "Accept-Language": "en"})
    assert "If this was not you" in english.get_json()["items"][0]["body"]
    _register(sclient, stolen, "fcm", FCM_ATTACKER)
    worker.drain()
    again = sclient.get("/api/v1/notifications", headers=phone["headers"]).get_json()["items"]
    assert len([n for n in again if n["kind"] == "new_device"]) == 2


def test_a_registration_in_a_session_revoked_meanwhile_adds_no_device(sapp, sclient):
    """A registration racing a logout: once the session is revoked in the database it adds nothing."""
    who = _login(sclient)
    session_id = sapp.extensions["tokens"].verify(who["headers"]["Authorization"][7:]).session_id
    with sapp.app_context(), db.connection_context():
        AuthSession.update(revoked_at=AuthSession.created_at).where(AuthSession.id == session_id).execute()
        with pytest.raises(InvalidAccessToken):
            service.register_device(user_id=who["user_id"], session_id=session_id, platform="apns",
                                    token=APNS_PHONE)
    assert rows(sapp, Device) == []
