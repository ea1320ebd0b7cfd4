"""用证授权 (consent/): a verifier sees only its own requests; a citizen only the requests made to them.
Every id-taking consent route, called by another verifier, another citizen, a clerk or a client of
another scope, is refused without naming the request's verifier, matter, nonce or state."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.consent.conftest import ask_body, verifier  # noqa: F401  (fixture)
from tests.helpers import bearer
from tests.object_access.conftest import refused

ROUTES = {
    "/api/v1/verifier/requests/<request_id>",
    "/api/v1/consent/requests/<request_id>",
    "/api/v1/consent/requests/<request_id>/step-up-code",
    "/api/v1/consent/requests/<request_id>/approve",
    "/api/v1/consent/requests/<request_id>/refuse",
}


@pytest.fixture
def asked(client, two_citizens, verifier):
    owner, _ = two_citizens
    bank, _ = verifier("甲银行")
    body = ask_body(phone=vectors.PHONES[0])
    response = client.post("/api/v1/verifier/requests", json=body, headers=bank)
    assert response.status_code == 201, response.get_json()
    return response.get_json(), body, bank, owner


def test_another_verifier_or_citizen_cannot_reach_a_request(client, two_citizens, verifier, asked, machine_token):
    request, body, bank, owner = asked
    _, stranger = two_citizens
    other_bank, _ = verifier("乙银行")
    secrets = ("甲银行", body["nonce"], body["state"])
    rid = request["id"]
    for headers in (other_bank, stranger, bearer(machine_token("licences:issue signatures:verify"))):
        refused(client.get(f"/api/v1/verifier/requests/{rid}", headers=headers), *secrets)
    for headers in (stranger, other_bank, bank):
        refused(client.get(f"/api/v1/consent/requests/{rid}", headers=headers), *secrets)
        refused(client.post(f"/api/v1/consent/requests/{rid}/step-up-code", headers=headers), *secrets)
        refused(client.post(f"/api/v1/consent/requests/{rid}/approve", json={"licence_id": "x", "pin": "802413"},
                            headers=headers), *secrets)
        refused(client.post(f"/api/v1/consent/requests/{rid}/refuse", headers=headers), *secrets)
    # still pending, and the owner and its verifier see it
    assert client.get(f"/api/v1/verifier/requests/{rid}", headers=bank).get_json()["status"] == "pending"
    assert client.get(f"/api/v1/consent/requests/{rid}", headers=owner).get_json()["status"] == "pending"
