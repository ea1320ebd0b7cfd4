"""Signing requests and batches: another citizen, enrolled with the same PIN, can neither read,
authorise, refuse nor ask the SMS code for them, nor find them in their own list, and the owner's
request stays unspent."""
from __future__ import annotations

import pytest

from signing.models import Signature
from tests import vectors
from tests.helpers import bearer, latest_code, rows
from tests.object_access.conftest import refused
from tests.signing.conftest import BASE, DOCUMENT, PIN, b64, enrol, new_request

ROUTES = {
    "/api/v1/signing/requests/<request_id>", "/api/v1/signing/requests/<request_id>/authorize",
    "/api/v1/signing/requests/<request_id>/sms-code", "/api/v1/signing/batches/<batch_id>/authorize",
    "/api/v1/signing/batches/<batch_id>/sms-code", "/api/v1/signing/requests/<request_id>/refuse",
    "/api/v1/signing/batches/<batch_id>",
    "/api/v1/signing/signatures/<signature_id>/cms",  # issue 18: the signature's CMS evidence
}


def _outbox(client, phone: str) -> int:
    return len(client.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"])


@pytest.fixture
def sms_signing(make_app, two_citizens):
    """Signing with an SMS code required; both citizens enrolled with the same PIN: (client, a, b)."""
    client = make_app(SIGNING_REQUIRE_SMS=True).test_client()
    a, b = two_citizens
    enrol(client, a)
    enrol(client, b)
    return client, a, b


def _strangers(machine_token, clerk_of) -> list[dict]:
    """Tokens of the wrong kind: a machine client holding every scope, a counter clerk."""
    return [bearer(machine_token("signatures:verify licences:issue cases:write halls:write")), clerk_of("H1")]


def _refuse_all(client, strangers, *, read: str | None, authorize: str, sms_code: str, secrets,
                refuse: str | None = None) -> None:
    sent = [_outbox(client, p) for p in vectors.PHONES[:2]]
    for headers in strangers:
        if read:
            refused(client.get(read, headers=headers), *secrets)
        if refuse:
            refused(client.post(refuse, headers=headers), *secrets)
            refused(client.post(refuse, json={"reason": "不签"}, headers=headers), *secrets)
        refused(client.post(authorize, json={"pin": PIN}, headers=headers), *secrets)
        refused(client.post(authorize, json={"pin": PIN, "sms_code": "123456"}, headers=headers), *secrets)
        refused(client.post(sms_code, headers=headers), *secrets)
    assert [_outbox(client, p) for p in vectors.PHONES[:2]] == sent  # no code went to anyone


def _authorise_as_owner(client, owner, authorize: str, sms_code: str):
    assert client.post(sms_code, headers=owner).status_code == 202  # no cooldown spent by the strangers
    response = client.post(authorize, json={"pin": PIN, "sms_code": latest_code(client, vectors.PHONES[0])},
                           headers=owner)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_request_of_another_citizen(app, sms_signing, machine_token, clerk_of):
    client, a, b = sms_signing
    request = new_request(client, a)
    url = f"{BASE}/requests/{request['id']}"
    secrets = (request["e_hex"], request["document_sm3"], vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1],
               vectors.PHONES[0])
    _refuse_all(client, [b, *_strangers(machine_token, clerk_of)], read=url, authorize=f"{url}/authorize",
                sms_code=f"{url}/sms-code", secrets=secrets, refuse=f"{url}/refuse")

    assert client.get(f"{BASE}/requests", headers=b).get_json()["items"] == []  # not in the stranger's list
    assert rows(app, Signature) == []
    assert client.get(url, headers=a).get_json()["status"] == "pending"  # a stranger's refusal changed nothing
    assert client.get(url, headers=a).get_json()["refusal_reason"] is None
    signed = _authorise_as_owner(client, a, f"{url}/authorize", f"{url}/sms-code")
    assert signed["request_id"] == request["id"]
    assert [s.user_id for s in rows(app, Signature)] == [client.get("/api/v1/me", headers=a).get_json()["id"]]


def test_a_batch_of_another_citizen(app, sms_signing, machine_token, clerk_of):
    client, a, b = sms_signing
    items = [{"title": f"文件{i}", "document_b64": b64(DOCUMENT + bytes([i]))} for i in range(2)]
    batch = client.post(f"{BASE}/batches", json={"items": items}, headers=a).get_json()
    url = f"{BASE}/batches/{batch['id']}"
    secrets = (*(i["e_hex"] for i in batch["items"]), vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], vectors.PHONES[0])
    _refuse_all(client, [b, *_strangers(machine_token, clerk_of)], read=url, authorize=f"{url}/authorize",
                sms_code=f"{url}/sms-code", secrets=secrets)
    assert client.get(f"{BASE}/requests", headers=b).get_json()["items"] == []
    # A request of the batch, by its own id, is refused to the stranger as well.
    refused(client.get(f"{BASE}/requests/{batch['items'][0]['id']}", headers=b), *secrets)

    assert rows(app, Signature) == []
    assert [i["id"] for i in client.get(url, headers=a).get_json()["items"]] == [i["id"] for i in batch["items"]]
    signed = _authorise_as_owner(client, a, f"{url}/authorize", f"{url}/sms-code")
    assert len(signed["signatures"]) == 2


def test_certificate_status_is_public_and_shows_no_holder(client, two_citizens):
    """In NOT_OWNED: anyone may ask a serial's status (OCSP-like), but the answer names nobody."""
    a, _ = two_citizens
    cert = enrol(client, a)
    answer = client.get(f"{BASE}/certificates/{cert['serial']}/status")
    assert answer.status_code == 200 and answer.get_json()["status"] == "good"
    text = answer.get_data(as_text=True)
    assert not any(s in text for s in (*vectors.ZHANG_SAN, vectors.PHONES[0], cert["certificate_pem"][30:90]))


def test_the_cms_evidence_of_another_citizens_signature(client, two_citizens, machine_token, clerk_of):
    """Neither the detached SignedData nor its attached form, whatever the body (issue 18)."""
    a, b = two_citizens
    enrol(client, a)
    enrol(client, b)
    request = new_request(client, a)
    signed = client.post(f"{BASE}/requests/{request['id']}/authorize", json={"pin": PIN}, headers=a).get_json()
    url = f"{BASE}/signatures/{signed['signature_id']}/cms"
    secrets = (signed["cms_b64"][:40], request["document_sm3"], vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1])
    for headers in [b, *_strangers(machine_token, clerk_of)]:
        refused(client.get(url, headers=headers), *secrets)
        refused(client.post(url, json={"document_b64": b64(DOCUMENT)}, headers=headers), *secrets)
        refused(client.post(url, json={"document_b64": b64(b"other")}, headers=headers), *secrets)
    assert client.get(url, headers=a).status_code == 200
    assert client.post(url, json={"document_b64": b64(DOCUMENT)}, headers=a).status_code == 200
