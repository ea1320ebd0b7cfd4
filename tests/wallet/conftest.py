"""Wallet test fixtures: an issuing client, a licence, its holder, counter clerks."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.helpers import bearer

ISSUE = "/api/v1/issuer/licences"
WALLET = "/api/v1/wallet/licences"


def driving_data(person, **changes) -> dict:
    data = {
        "name": person[0], "id_number": person[1], "sex": "男", "nationality": "中国",
        "address": "安徽省合肥市庐阳区长江中路1号", "birth_date": "1990-03-07", "first_issued_on": "2010-05-01",
        "vehicle_class": "C1", "valid_from": "2020-05-01", "valid_until": "2030-05-01", "status": "有效",
        "issuing_authority": "合肥市公安局交通警察支队",
    }
    data.update(changes)
    return data


def issue_body(person=vectors.ZHANG_SAN, reference: str = "ref-1", **changes) -> dict:
    """A driving licence issuing request; the data's validity dates follow the top-level ones
    unless `data` is given (contradictory dates are refused: issue 14 item 16)."""
    body = {"type_code": "driving_licence", "holder": {"name": person[0], "id_number": person[1]},
            "valid_from": "2020-05-01", "valid_until": "2030-05-01", "reference": reference}
    body.update(changes)
    if "data" not in changes:
        body["data"] = driving_data(person, valid_from=body["valid_from"], valid_until=body["valid_until"] or "长期")
    return body


@pytest.fixture
def issuer(machine_token):
    return bearer(machine_token("licences:issue"))


def issue(client, headers, body=None, status: int = 201) -> dict:
    response = client.post(ISSUE, json=body or issue_body(), headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


CLERK_PASSWORD = "Counter-Pass-2026!"
VERIFY = "/api/v1/counter/verifications"
# The matter (用证事项, required) a counter check names where a test is not about matters: it accepts
# the ID card, the driving licence, the household register and the social security card, and shows
# the holder's name and ID number, masked.
MATTER = "identity_check"


def present_url(licence_id: str) -> str:
    return f"/api/v1/wallet/licences/{licence_id}/presentations"


@pytest.fixture
def holder(verified_citizen):
    return bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])


@pytest.fixture
def licence(client, issuer):
    return issue(client, issuer)


@pytest.fixture
def clerk(client, runner):
    """A counter clerk of hall H1, logged in; returns (headers, username)."""

    def make(username: str = "clerk.one", hall: str = "H1") -> dict:
        out = runner.invoke(args=["staff", "create", "--username", username, "--password", CLERK_PASSWORD,
                                  "--role", "counter", "--hall", hall])
        assert "created" in out.output, out.output
        response = client.post("/api/v1/auth/staff-login", json={"username": username, "password": CLERK_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    return make


def present(client, holder, licence_id: str, status: int = 201, **body) -> dict:
    response = client.post(present_url(licence_id), json=body, headers=holder)
    assert response.status_code == status, response.get_json()
    return response.get_json()
