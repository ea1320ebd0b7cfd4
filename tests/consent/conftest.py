"""Consent test fixtures: a verifier (a machine client with `verifications:request` and a registered
name), the holder of a driving licence (张三, PHONES[0]), the request bodies."""
from __future__ import annotations

import secrets

import pytest

from tests import vectors
from tests.helpers import bearer
from tests.wallet.conftest import holder, issuer, licence  # noqa: F401  (fixtures, reused)

REQUESTS = "/api/v1/verifier/requests"
MINE = "/api/v1/consent/requests"


@pytest.fixture
def verifier(client, runner):
    """make(name) → (headers, client_id) of a verifier with scope verifications:request."""

    def make(name: str = "合肥科技农村商业银行") -> tuple[dict, str]:
        out = runner.invoke(args=["clients", "create", "--name", name, "--scopes", "verifications:request"]).output
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        response = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"]), creds["client_id"]

    return make


def ask_body(phone: str = vectors.PHONES[0], matter: str = "vehicle_check", claims=("vehicle_class", "valid_until"),
             types=("driving_licence",), **changes) -> dict:
    credential = {"id": "dl", "format": "yiwang-licence", "meta": {"type_values": list(types)}}
    if claims is not None:
        credential["claims"] = [{"path": [key]} for key in claims]
    body = {"citizen": {"phone": phone}, "matter": matter, "dcql_query": {"credentials": [credential]},
            "nonce": secrets.token_urlsafe(16), "state": "s-" + secrets.token_hex(4), "response_mode": "poll"}
    body.update(changes)
    return body


def ask(client, headers, body=None, status: int = 201) -> dict:
    response = client.post(REQUESTS, json=body or ask_body(), headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()
