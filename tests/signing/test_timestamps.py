"""POST /api/v1/timestamps (RFC 3161 wire form and JSON form) and GET /api/v1/timestamps/tsa.pem: scope,
openssl-made queries, rejections in the protocol, nonce and certReq, 415, the rate limit, the audit."""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms

from app.audit import AuditEvent
from app.crypto import tsa
from app.crypto.sm3 import sm3
from app.db import db
from tests.crypto.conftest import openssl
from tests.helpers import assert_problem, bearer, rows

URL = "/api/v1/timestamps"
DATA = "租赁合同 第一页".encode()
QUERY = {"Content-Type": "application/timestamp-query"}


@pytest.fixture
def stamper(machine_token):
    return bearer(machine_token("timestamps:request"))


def _check(app, token: bytes, **kwargs) -> tsa.TimestampCheck:
    with app.test_request_context(), db.connection_context():
        return tsa.verify_token(token, **kwargs)


def test_scope_is_required_before_anything_else(client, machine_token, verified_citizen):
    body = {"hash_algorithm": "sm3", "hashed_message_hex": sm3(DATA).hex()}
    assert_problem(client.post(URL, json=body), 401)
    assert_problem(client.post(URL, data=b"garbage", headers=QUERY), 401)
    other = bearer(machine_token("signatures:verify"))
    assert_problem(client.post(URL, json=body, headers=other), 403, "insufficient_scope")
    assert_problem(client.post(URL, data=b"x", headers={**other, "Content-Type": "text/plain"}), 403,
                   "insufficient_scope")  # 403 before 415
    citizen = bearer(verified_citizen()["access_token"])
    assert_problem(client.post(URL, json=body, headers=citizen), 403)


def test_wire_form_with_an_openssl_query(app, client, stamper, tmp_path: Path):
    doc, query, reply = tmp_path / "doc", tmp_path / "q.tsq", tmp_path / "r.tsr"
    doc.write_bytes(DATA)
    for digest, hash_oid in (("-sm3", tsa.SM3_OID), ("-sha256", tsa.SHA256_OID)):
        openssl("ts", "-query", "-data", str(doc), digest, "-cert", "-out", str(query))
        response = client.post(URL, data=query.read_bytes(), headers={**stamper, **QUERY})
        assert response.status_code == 200 and response.mimetype == "application/timestamp-reply"
        reply.write_bytes(response.get_data())
        text = openssl("ts", "-reply", "-in", str(reply), "-text").stdout.decode()
        assert "Status: Granted." in text and tsa.POLICY_OID in text
        status, _, token = tsa.response_status(response.get_data())
        check = _check(app, token, data=DATA, hash_oid=hash_oid)
        assert status == "granted" and check.valid, check
    events = rows(app, AuditEvent, AuditEvent.action == "timestamp.issue")
    assert len(events) == 2 and {e.actor_kind for e in events} == {"client"}
    assert sm3(DATA).hex() not in str([e.details for e in events])  # the imprint is not kept


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x00", b"\x30\x80\x00\x00"])
def test_wire_form_garbage_is_a_rejection_in_the_protocol(client, stamper, body):
    response = client.post(URL, data=body, headers={**stamper, **QUERY})
    assert response.status_code == 200 and response.mimetype == "application/timestamp-reply"
    assert tsa.response_status(response.get_data()) == ("rejection", {"bad_data_format"}, None)


def test_wire_form_unsupported_hash_is_bad_alg(client, stamper, tmp_path: Path):
    (tmp_path / "doc").write_bytes(DATA)
    openssl("ts", "-query", "-data", str(tmp_path / "doc"), "-sha1", "-out", str(tmp_path / "q.tsq"))
    response = client.post(URL, data=(tmp_path / "q.tsq").read_bytes(), headers={**stamper, **QUERY})
    assert tsa.response_status(response.get_data()) == ("rejection", {"bad_alg"}, None)
    (tmp_path / "r.tsr").write_bytes(response.get_data())
    text = openssl("ts", "-reply", "-in", str(tmp_path / "r.tsr"), "-text").stdout.decode()
    assert "Status: Rejected." in text and "unrecognized or unsupported algorithm identifier" in text, text


def test_json_form(app, client, stamper):
    for name, imprint, hash_oid in (("sm3", sm3(DATA), tsa.SM3_OID),
                                    ("sha256", hashlib.sha256(DATA).digest(), tsa.SHA256_OID)):
        response = client.post(URL, json={"hash_algorithm": name, "hashed_message_hex": imprint.hex(),
                                          "nonce": 2**63 - 1}, headers=stamper)
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        token = base64.b64decode(answer["token_b64"])
        check = _check(app, token, data=DATA, hash_oid=hash_oid)
        assert check.valid and check.nonce == 2**63 - 1 and answer["policy"] == tsa.POLICY_OID
        assert answer["serial"] == f"{check.serial:x}" and answer["gen_time"]
        assert answer["tsa_certificate_pem"] == client.get(f"{URL}/tsa.pem").get_data(as_text=True)
    bare = client.post(URL, json={"hash_algorithm": "sm3", "hashed_message_hex": sm3(DATA).hex(), "cert_req": False},
                       headers=stamper).get_json()
    token = base64.b64decode(bare["token_b64"])
    assert not asn1_cms.ContentInfo.load(token)["content"]["certificates"].native
    assert _check(app, token, data=DATA).valid
    assert not _check(app, token, data=DATA + b"!").valid


@pytest.mark.parametrize("body", [
    {"hash_algorithm": "sha1", "hashed_message_hex": "ab" * 20},
    {"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 31},
    {"hash_algorithm": "sm3", "hashed_message_hex": "zz" * 32},
    {"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 32, "nonce": -1},
    {"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 32, "nonce": "12"},
    {"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 32, "cert_req": "yes"},
    {"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 32, "extra": 1},
    {"hashed_message_hex": "ab" * 32}, [1, 2],
])
def test_json_form_refuses_what_the_schema_refuses(client, stamper, body):
    assert_problem(client.post(URL, json=body, headers=stamper), 422, "validation_failed")


def test_other_content_types_are_415(client, stamper):
    for content_type in ("text/plain", "application/octet-stream", "application/x-www-form-urlencoded"):
        response = client.post(URL, data=b"abc", headers={**stamper, "Content-Type": content_type})
        assert_problem(response, 415, "unsupported_media_type")


def test_rate_limited_per_client(make_app, machine_token):
    app = make_app(TIMESTAMP_PER_MINUTE=2)
    client = app.test_client()
    token = bearer(machine_token("timestamps:request"))
    for _ in range(2):
        assert client.post(URL, data=b"x", headers={**token, **QUERY}).status_code == 200
    response = client.post(URL, json={"hash_algorithm": "sm3", "hashed_message_hex": "ab" * 32}, headers=token)
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_tsa_certificate_is_public(app, client, tmp_path: Path):
    response = client.get(f"{URL}/tsa.pem")
    assert response.status_code == 200 and response.mimetype == "application/x-pem-file"
    (tmp_path / "tsa.pem").write_bytes(response.get_data())
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "tsa.pem")).stdout.decode()
    assert "Time Stamping" in text and "X509v3 Extended Key Usage: critical" in text
