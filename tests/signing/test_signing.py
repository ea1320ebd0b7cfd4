"""Signing under sole control: the whole flow checked by OpenSSL, what a request binds, single use
(also under concurrent replays from threads and processes), PIN lockout, batches, history."""
from __future__ import annotations

import base64
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app import create_app
from app.audit import AuditEvent
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3_hex
from app.crypto.x509 import load_certificate
from app.db import db, utcnow
from signing.models import Signature, SigningCredential, SigningRequest
from tests import vectors
from tests.crypto.conftest import DISTID, openssl
from tests.helpers import assert_problem, bearer, rows
from tests.signing.conftest import BASE, DOCUMENT, PIN, authorize, b64, enrol, new_request, revoke, sign


def _public_key(certificate_pem: str) -> SM2PublicKey:
    return SM2PublicKey.from_der(load_certificate(certificate_pem).public_key.dump())


def test_whole_flow_and_openssl_verifies_the_signature(app, client, signer, tmp_path):
    headers, cert = signer
    request = new_request(client, headers)
    key = _public_key(cert["certificate_pem"])
    assert request["e_hex"] == key.digest(DOCUMENT).hex()
    assert request["document_sm3"] == sm3_hex(DOCUMENT) and request["document_size"] == len(DOCUMENT)
    assert request["status"] == "pending" and request["expires_at"]
    assert client.get(f"{BASE}/requests/{request['id']}", headers=headers).get_json()["e_hex"] == request["e_hex"]

    response = authorize(client, headers, request["id"])
    assert response.status_code == 200, response.get_json()
    signed = response.get_json()
    assert {"signature_b64", "certificate_pem", "signed_at", "signature_id"} <= set(signed)
    der = base64.b64decode(signed["signature_b64"])
    assert der[0] == 0x30 and 70 <= len(der) <= 72
    assert key.verify(der, DOCUMENT) and not key.verify(der, DOCUMENT + b" ")

    # A third party with nothing but OpenSSL: the signature over the document, the chain to the CA.
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "sig.der").write_bytes(der)
    (tmp_path / "user.pem").write_text(signed["certificate_pem"])
    (tmp_path / "ca.pem").write_bytes(client.get(f"{BASE}/ca.pem").data)
    openssl("x509", "-in", str(tmp_path / "user.pem"), "-pubkey", "-noout", "-out", str(tmp_path / "pub.pem"))
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                 "-pkeyopt", DISTID, "-in", str(tmp_path / "doc"), "-sigfile", str(tmp_path / "sig.der"), check=False)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    (tmp_path / "other").write_bytes(DOCUMENT + b"!")
    bad = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                  "-pkeyopt", DISTID, "-in", str(tmp_path / "other"), "-sigfile", str(tmp_path / "sig.der"),
                  check=False)
    assert bad.returncode != 0
    chain = openssl("verify", "-vfyopt", DISTID, "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "user.pem"),
                    check=False)
    assert chain.returncode == 0, chain.stderr

    assert client.get(f"{BASE}/requests/{request['id']}", headers=headers).get_json()["status"] == "signed"
    [row] = rows(app, Signature)
    assert (row.request_id, row.e_hex, bytes(row.signature_der)) == (request["id"], request["e_hex"], der)
    sign_events = rows(app, AuditEvent, AuditEvent.action == "signing.sign")
    assert [e.target for e in sign_events] == [signed["signature_id"]]


def test_precomputed_e_is_signed_as_sent(client, signer):
    headers, cert = signer
    key = _public_key(cert["certificate_pem"])
    big = b"x" * 100_000
    e = key.digest(big).hex()
    response = client.post(f"{BASE}/requests", json={"title": "大文件", "e_hex": e.upper()}, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["e_hex"] == e and response.get_json()["document_sm3"] is None
    signed = authorize(client, headers, response.get_json()["id"]).get_json()
    assert key.verify(base64.b64decode(signed["signature_b64"]), big)


def test_request_input_is_validated(make_app, citizen):
    app = make_app(SIGNING_MAX_DOCUMENT_BYTES=1000)
    client = app.test_client()
    assert_problem(client.post(f"{BASE}/requests", json={"title": "t", "document_b64": b64(b"x")},
                               headers=citizen), 404, "signing_not_enrolled")
    enrol(client, citizen)
    post = lambda body: client.post(f"{BASE}/requests", json=body, headers=citizen)  # noqa: E731
    assert_problem(post({"title": "t", "document_b64": b64(b"x" * 1001)}), 413, "document_too_large")
    assert post({"title": "t", "document_b64": b64(b"x" * 1000)}).status_code == 201
    assert_problem(post({"title": "t", "document_b64": "not base64!"}), 422, "document_invalid")
    assert_problem(post({"title": "t", "document_b64": b64(b"x"), "e_hex": "ab" * 32}), 422, "validation_failed")
    assert_problem(post({"title": "t"}), 422, "validation_failed")
    assert_problem(post({"title": "t", "e_hex": "zz" * 32}), 422, "validation_failed")
    assert_problem(post({"title": "", "e_hex": "ab" * 32}), 422, "validation_failed")
    assert_problem(client.post(f"{BASE}/requests", data="x" * (17 * 1024 * 1024), headers=citizen,
                               content_type="application/json"), 413)


def test_an_authorisation_signs_only_its_own_digest(app, client, signer):
    headers, cert = signer
    key = _public_key(cert["certificate_pem"])
    request = new_request(client, headers)
    other = key.digest(b"another document").hex()
    # The authorisation carries no digest: an attempt to substitute one is refused, not signed.
    response = client.post(f"{BASE}/requests/{request['id']}/authorize", json={"pin": PIN, "e_hex": other},
                           headers=headers)
    assert_problem(response, 422, "validation_failed")
    assert rows(app, Signature) == []
    signed = authorize(client, headers, request["id"]).get_json()
    der = base64.b64decode(signed["signature_b64"])
    assert key.verify_digest(der, bytes.fromhex(request["e_hex"]))
    assert not key.verify_digest(der, bytes.fromhex(other))
    assert_problem(authorize(client, headers, request["id"]), 409, "signing_request_used")
    assert len(rows(app, Signature)) == 1


def test_requests_are_bound_to_user_time_and_key(app, client, signer, verified_citizen):
    headers, _ = signer
    request = new_request(client, headers)
    li = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    enrol(client, li)
    assert_problem(authorize(client, li, request["id"]), 404, "signing_request_not_found")
    assert_problem(client.get(f"{BASE}/requests/{request['id']}", headers=li), 404)

    expired = new_request(client, headers)
    with app.app_context(), db.connection_context():
        SigningRequest.update(expires_at=utcnow() - timedelta(seconds=1)).where(
            SigningRequest.id == expired["id"]).execute()
    assert_problem(authorize(client, headers, expired["id"]), 410, "signing_request_expired")

    assert revoke(client, headers).status_code == 200
    assert_problem(authorize(client, headers, request["id"]), 409, "signing_credential_changed")
    enrol(client, headers, pin="246813", liveness=True)
    assert_problem(authorize(client, headers, request["id"], pin="246813"), 409, "signing_credential_changed")
    assert rows(app, Signature) == []


def test_pin_lockout(app, client, signer):
    headers, _ = signer
    request = new_request(client, headers)
    for left in (4, 3, 2, 1):
        body = assert_problem(authorize(client, headers, request["id"], pin="000000"), 400, "pin_invalid")
        assert body["tries_left"] == left
    response = authorize(client, headers, request["id"], pin="000000")
    body = assert_problem(response, 423, "signing_locked")
    assert int(response.headers["Retry-After"]) > 800 and body["locked_until"]
    # Locked: even the right PIN is refused, and re-enrolling does not reset the count.
    assert_problem(authorize(client, headers, request["id"]), 423, "signing_locked")
    # Locked, the PIN cannot revoke; the forgotten-PIN way (SMS step-up + liveness) still can.
    assert_problem(revoke(client, headers, reason="superseded"), 423, "signing_locked")
    assert revoke(client, headers, reason="superseded", pin=None).status_code == 200
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": "246813", "sms_code": "000000"}, headers=headers), 423,
                   "signing_locked")
    assert len(rows(app, AuditEvent, AuditEvent.action == "signing.pin_locked")) == 1
    assert len(rows(app, AuditEvent, AuditEvent.action == "signing.pin_failed")) == 4
    assert rows(app, Signature) == []

    with app.app_context(), db.connection_context():  # 15 minutes later
        SigningCredential.update(locked_until=utcnow() - timedelta(seconds=1)).execute()
    enrol(client, headers, pin="246813", liveness=True)
    assert authorize(client, headers, new_request(client, headers)["id"], pin="246813").status_code == 200


def test_a_right_pin_resets_the_count(app, client, signer):
    headers, _ = signer
    for _ in range(4):
        assert_problem(authorize(client, headers, new_request(client, headers)["id"], pin="999990"), 400)
    sign(client, headers)
    body = assert_problem(authorize(client, headers, new_request(client, headers)["id"], pin="999990"), 400)
    assert body["tries_left"] == 4


def test_concurrent_replays_in_threads_sign_once(app, client, signer):
    headers, _ = signer
    for _ in range(3):
        request = new_request(client, headers)
        barrier = threading.Barrier(12)

        def replay(_):
            own = app.test_client()
            barrier.wait()
            return authorize(own, headers, request["id"]).status_code

        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(replay, range(12)))
        assert sorted(codes) == [200] + [409] * 11, codes
    assert len(rows(app, Signature)) == 3
    assert len(rows(app, AuditEvent, AuditEvent.action == "signing.sign")) == 3


_worker: dict = {}


def _init_worker(config: dict) -> None:
    _worker["client"] = create_app(config).test_client()


def _replay(args: tuple[str, dict, float]) -> int:
    request_id, headers, start = args
    time.sleep(max(0.0, start - time.time()))
    return authorize(_worker["client"], headers, request_id).status_code


@pytest.mark.slow
def test_concurrent_replays_from_processes_sign_once(app, client, signer, base_config):
    headers, _ = signer
    context = multiprocessing.get_context("spawn")
    with context.Pool(4, initializer=_init_worker, initargs=(dict(base_config),)) as pool:
        pool.map(_replay, [("warm-up", headers, 0.0)] * 8)
        for _ in range(3):
            request = new_request(client, headers)
            start = time.time() + 0.1
            codes = pool.map(_replay, [(request["id"], headers, start)] * 8, chunksize=1)
            assert sorted(codes) == [200] + [409] * 7, codes
    assert len(rows(app, Signature)) == 3


def test_batch_signs_its_listed_digests_once(make_app, citizen):
    app = make_app(SIGNING_BATCH_MAX=3)
    client = app.test_client()
    enrol(client, citizen)
    docs = [b"one", b"two", b"three"]
    items = [{"title": f"文件{i}", "document_b64": b64(d)} for i, d in enumerate(docs)]
    too_many = client.post(f"{BASE}/batches", json={"items": items + items[:1]}, headers=citizen)
    assert_problem(too_many, 422, "batch_too_large")
    assert_problem(client.post(f"{BASE}/batches", json={"items": []}, headers=citizen), 422)
    batch = client.post(f"{BASE}/batches", json={"items": items}, headers=citizen).get_json()
    assert [i["title"] for i in batch["items"]] == ["文件0", "文件1", "文件2"]
    assert_problem(authorize(client, citizen, batch["items"][0]["id"]), 409, "signing_request_in_batch")
    response = client.post(f"{BASE}/batches/{batch['id']}/authorize", json={"pin": PIN}, headers=citizen)
    assert response.status_code == 200, response.get_json()
    signatures = response.get_json()["signatures"]
    assert len(signatures) == 3
    key = _public_key(signatures[0]["certificate_pem"])
    for doc, sig in zip(docs, signatures):
        assert key.verify(base64.b64decode(sig["signature_b64"]), doc)
    again = client.post(f"{BASE}/batches/{batch['id']}/authorize", json={"pin": PIN}, headers=citizen)
    assert_problem(again, 409, "signing_request_used")
    assert len(rows(app, Signature)) == 3
    assert_problem(client.post(f"{BASE}/batches/sgb_unknown/authorize", json={"pin": PIN}, headers=citizen), 404)


def test_history_is_paginated_newest_first(client, signer):
    headers, _ = signer
    made = [sign(client, headers, f"doc {i}".encode())["signature_id"] for i in range(5)]
    page = client.get(f"{BASE}/signatures?limit=2", headers=headers).get_json()
    seen = [i["signature_id"] for i in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"{BASE}/signatures?limit=2&cursor={page['next_cursor']}", headers=headers).get_json()
        seen += [i["signature_id"] for i in page["items"]]
    assert seen == made[::-1]
    assert_problem(client.get(f"{BASE}/signatures?cursor=%%%", headers=headers), 422, "cursor_invalid")
    assert_problem(client.get(f"{BASE}/signatures?limit=500", headers=headers), 422)


def test_optional_second_factors(make_app, citizen):
    app = make_app(SIGNING_REQUIRE_SMS=True)
    client = app.test_client()
    enrol(client, citizen)
    request = new_request(client, citizen)
    assert_problem(authorize(client, citizen, request["id"]), 400, "sms_code_required")
    assert client.post(f"{BASE}/requests/{request['id']}/sms-code", headers=citizen).status_code == 202
    code = client.get(f"/api/v1/dev/sms-outbox?phone={vectors.PHONES[0]}").get_json()["items"][0]["code"]
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(client.post(f"{BASE}/requests/{request['id']}/authorize", json={"pin": PIN, "sms_code": wrong},
                               headers=citizen), 400, "sms_code_invalid")
    ok = client.post(f"{BASE}/requests/{request['id']}/authorize", json={"pin": PIN, "sms_code": code},
                     headers=citizen)
    assert ok.status_code == 200, ok.get_json()

    strict = make_app(SIGNING_REQUIRE_LIVENESS=True).test_client()
    assert_problem(authorize(strict, citizen, new_request(strict, citizen)["id"]), 403, "liveness_required")
