"""Proxy test fixtures: three verified citizens, grants between them (made with a step-up and
accepted by the relative), proxy tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests import vectors
from tests.helpers import bearer, step_up_code

PROXIES = "/api/v1/proxies"
ALL_SCOPES = ["appointments:book", "cases:follow", "licences:present", "licences:view"]


def in_days(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


@pytest.fixture
def app(make_app):
    """No SMS resend cooldown and room under the per-phone limits: a test may make several grants,
    each with its own step-up code."""
    return make_app(SMS_RESEND_COOLDOWN=0, SMS_PER_PHONE_HOUR=50, SMS_PER_PHONE_DAY=50)


@pytest.fixture
def people(verified_citizen):
    """张三 (principal, PHONES[0]), 李四 (relative, PHONES[1]), 王五 (someone else, PHONES[2]):
    each {"headers", "id", "token"}."""
    made = {}
    for key, person, phone in (("principal", vectors.ZHANG_SAN, vectors.PHONES[0]),
                               ("relative", vectors.LI_SI, vectors.PHONES[1]),
                               ("other", vectors.WANG_WU, vectors.PHONES[2])):
        tokens = verified_citizen(person, phone)
        made[key] = {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"],
                     "token": tokens["access_token"]}
    return made


@pytest.fixture
def invite(client, people):
    """Factory: 张三 asks for a step-up code and invites `phone`/`name` (李四 by default) for
    `scopes`; returns the answer (201: a pending grant). `changes` override the body."""

    def make(scopes=("licences:view",), days: float = 30, headers: dict | None = None, **changes):
        body = {"phone": vectors.PHONES[1], "name": vectors.LI_SI[0], "scopes": list(scopes),
                "expires_at": in_days(days),
                "sms_code": step_up_code(client, people["principal"]["token"], "proxy_grant")}
        body.update(changes)
        return client.post(PROXIES, json=body, headers=headers or people["principal"]["headers"])

    return make


@pytest.fixture
def grant(client, people, invite):
    """Factory: 张三 authorises 李四 for `scopes` (with a step-up) and 李四 accepts; returns the
    grant, active. `accept=False` leaves it pending."""

    def make(scopes=("licences:view",), days: float = 30, accept: bool = True) -> dict:
        response = invite(scopes, days)
        assert response.status_code == 201, response.get_json()
        made = response.get_json()
        assert made["status"] == "pending"
        if not accept:
            return made
        accepted = client.post(f"{PROXIES}/{made['id']}/accept", headers=people["relative"]["headers"])
        assert accepted.status_code == 200, accepted.get_json()
        return accepted.get_json()

    return make


@pytest.fixture
def proxy_session(client, people):
    """Factory: 李四 switches into the grant's principal context; returns bearer headers."""

    def make(grant_id: str) -> dict:
        response = client.post(f"{PROXIES}/{grant_id}/session", headers=people["relative"]["headers"])
        assert response.status_code == 201, response.get_json()
        return bearer(response.get_json()["access_token"])

    return make
