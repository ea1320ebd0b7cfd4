"""Proxy test fixtures: three verified citizens, grants between them, proxy tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests import vectors
from tests.helpers import bearer

PROXIES = "/api/v1/proxies"
ALL_SCOPES = ["appointments:book", "cases:follow", "licences:present", "licences:view"]


def in_days(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


@pytest.fixture
def people(verified_citizen):
    """张三 (principal, PHONES[0]), 李四 (relative, PHONES[1]), 王五 (someone else, PHONES[2]):
    each {"headers", "id"}."""
    made = {}
    for key, person, phone in (("principal", vectors.ZHANG_SAN, vectors.PHONES[0]),
                               ("relative", vectors.LI_SI, vectors.PHONES[1]),
                               ("other", vectors.WANG_WU, vectors.PHONES[2])):
        tokens = verified_citizen(person, phone)
        made[key] = {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"]}
    return made


@pytest.fixture
def grant(client, people):
    """Factory: 张三 authorises 李四 for `scopes`; returns the grant."""

    def make(scopes=("licences:view",), days: float = 30, status: int = 201) -> dict:
        response = client.post(PROXIES, json={"phone": vectors.PHONES[1], "name": vectors.LI_SI[0],
                                              "scopes": list(scopes), "expires_at": in_days(days)},
                               headers=people["principal"]["headers"])
        assert response.status_code == status, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def proxy_session(client, people):
    """Factory: 李四 switches into the grant's principal context; returns bearer headers."""

    def make(grant_id: str) -> dict:
        response = client.post(f"{PROXIES}/{grant_id}/session", headers=people["relative"]["headers"])
        assert response.status_code == 201, response.get_json()
        return bearer(response.get_json()["access_token"])

    return make
