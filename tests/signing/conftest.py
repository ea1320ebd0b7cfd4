"""Signing test fixtures: an enrolled citizen, requests, a verifying machine client."""
from __future__ import annotations

import base64

import pytest

from tests import vectors
from tests.helpers import bearer, fresh_liveness, step_up_code

BASE = "/api/v1/signing"
VERIFY = "/api/v1/verify/signatures"
PIN = "802417"
DOCUMENT = "租赁合同：甲方张三，乙方李四，月租金三千元。".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def citizen(verified_citizen):
    """An L2 citizen (张三), not yet enrolled: headers."""
    return bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])


def signing_code(client, headers) -> str:
    """A step-up SMS code (purpose signing) for the citizen of `headers`; the resend cooldown is
    cleared first, so a test may enrol, revoke and re-enrol within a minute."""
    redis = client.application.extensions["redis"]
    for key in redis.scan_iter("*:step-up:signing"):
        redis.delete(key)
    return step_up_code(client, headers["Authorization"].split(" ", 1)[1], "signing")


def revoke(client, headers, reason: str = "keyCompromise", pin: str | None = PIN):
    """Revoke with the PIN, or (pin=None) the forgotten-PIN way: SMS step-up + fresh liveness."""
    body = {"reason": reason, "pin": pin}
    if pin is None:
        body = {"reason": reason, "sms_code": signing_code(client, headers),
                "liveness_session_id": fresh_liveness(client, headers["Authorization"].split(" ", 1)[1])}
    return client.post(f"{BASE}/certificate/revoke", json=body, headers=headers)


def enrol(client, headers, pin: str = PIN, status: int = 201, liveness: bool = False) -> dict:
    """Enrol with an SMS step-up code (and, `liveness`, a fresh liveness session: re-enrolment)."""
    body = {"pin": pin, "sms_code": signing_code(client, headers)}
    if liveness:
        body["liveness_session_id"] = fresh_liveness(client, headers["Authorization"].split(" ", 1)[1])
    response = client.post(f"{BASE}/enrol", json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def signer(client, citizen):
    """An enrolled citizen: (headers, certificate answer)."""
    return citizen, enrol(client, citizen)


def new_request(client, headers, document: bytes = DOCUMENT, title: str = "租赁合同", status: int = 201) -> dict:
    response = client.post(f"{BASE}/requests", json={"title": title, "document_b64": b64(document)},
                           headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def authorize(client, headers, request_id: str, pin: str = PIN):
    return client.post(f"{BASE}/requests/{request_id}/authorize", json={"pin": pin}, headers=headers)


def sign(client, headers, document: bytes = DOCUMENT) -> dict:
    request = new_request(client, headers, document)
    response = authorize(client, headers, request["id"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def verifier(machine_token):
    return bearer(machine_token("signatures:verify"))
