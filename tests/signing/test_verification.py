"""Third-party verification: the report matrix (valid, tampered document, bad signature, revoked,
foreign CA, expired, malformed), scope, rate limit, audit."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from asn1crypto import keys as asn1_keys

from app.audit import AuditEvent
from app.crypto import x509
from app.crypto.ca import keystore, platform_ca
from app.crypto.sm2 import N, SM2PrivateKey
from app.crypto.sm2.der import TAG_SEQUENCE, encode_integer, encode_tlv
from app.db import db, utcnow
from signing.enrolment import subject_for
from tests import vectors
from tests.crypto.conftest import make_openssl_ca, openssl
from tests.helpers import assert_problem, rows
from tests.signing.conftest import DOCUMENT, VERIFY, b64, revoke, sign


def _der(r: int, s: int) -> bytes:
    return encode_tlv(TAG_SEQUENCE, encode_integer(r) + encode_integer(s))


def _check(client, verifier, signed, document=DOCUMENT, **changes):
    body = {"document_b64": b64(document), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"], **changes}
    response = client.post(VERIFY, json=body, headers=verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_valid_signature_passes(app, client, signer, verifier):
    headers, _ = signer
    signed = sign(client, headers)
    report = _check(client, verifier, signed)
    assert (report["indication"], report["sub_indication"], report["valid"]) == ("TOTAL_PASSED", None, True)
    assert report["signer"] == {"name_masked": "张*", "id_number_masked": "3401**********1232"}
    assert report["certificate"]["serial"] == signed["certificate_serial"]
    assert report["certificate"]["status"] == "good" and "YiWang" in report["certificate"]["issuer"]
    assert report["checked_at"]
    e_report = _check(client, verifier, signed, document_b64=None, e_hex=signed["e_hex"])
    assert e_report["indication"] == "TOTAL_PASSED"
    events = rows(app, AuditEvent, AuditEvent.action == "signing.verify")
    assert len(events) == 2 and events[0].actor_kind == "client"
    assert vectors.ZHANG_SAN[1] not in str(report)


def test_tampered_document_is_a_hash_failure(client, signer, verifier):
    signed = sign(client, signer[0])
    report = _check(client, verifier, signed, document=DOCUMENT + b"\x00")
    assert (report["indication"], report["sub_indication"], report["valid"]) == ("TOTAL_FAILED", "HASH_FAILURE",
                                                                                  False)


def test_bad_signatures(client, signer, verifier):
    signed = sign(client, signer[0])
    der = bytearray(base64.b64decode(signed["signature_b64"]))
    der[-1] ^= 0x01  # s changed: still DER, no longer valid
    report = _check(client, verifier, signed, signature_b64=b64(bytes(der)))
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")
    for broken in (_der(N, 1), _der(0, 5), _der(1, -1), base64.b64decode(signed["signature_b64"]) + b"\0",
                   b"\x30\x00", b"garbage"):
        report = _check(client, verifier, signed, signature_b64=b64(broken))
        assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE"), broken


def test_revoked_certificate_is_indeterminate(client, signer, verifier):
    headers, _ = signer
    signed = sign(client, headers)
    assert revoke(client, headers).status_code == 200
    report = _check(client, verifier, signed)
    assert (report["indication"], report["sub_indication"], report["valid"]) == ("INDETERMINATE", "REVOKED_NO_POE",
                                                                                  False)
    assert report["certificate"]["status"] == "revoked"
    assert report["certificate"]["revocation_reason"] == "keyCompromise"


def _impostor_certificate(app) -> tuple[SM2PrivateKey, str]:
    """A certificate naming the platform CA as issuer but signed by another key."""
    with app.app_context(), db.connection_context():
        ca_cert = x509.load_certificate(platform_ca().certificate_pem())
    fake_ca, key = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    spki = asn1_keys.PublicKeyInfo.load(key.public_key().public_bytes_der())
    now = utcnow()
    tbs = x509.build_tbs_certificate(
        serial=x509.random_serial(), issuer=ca_cert.subject, subject=x509.build_name(subject_for(*vectors.ZHANG_SAN)),
        spki=spki, not_before=now, not_after=now + timedelta(days=30),
        extensions=x509.certificate_extensions(ca=False, key_usage={"digitalSignature"},
                                               subject_key_id=x509.key_identifier(spki),
                                               authority_key_id=ca_cert.key_identifier))
    cert = x509.assemble_certificate(tbs, fake_ca.sign(tbs.dump()))
    return key, x509.to_pem("CERTIFICATE", cert.dump())


def test_foreign_ca_is_never_passed(app, client, verifier, tmp_path):
    key, pem = _impostor_certificate(app)
    signature = key.sign(DOCUMENT)
    report = _check(client, verifier, {"signature_b64": b64(signature), "certificate_pem": pem})
    assert (report["indication"], report["sub_indication"], report["valid"]) == (
        "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", False)
    assert report["certificate"]["status"] == "unknown"
    # A self-signed CA made by OpenSSL, its own key signing the document.
    ca_pem, _ = make_openssl_ca(tmp_path, cn="Other CA")
    (tmp_path / "doc").write_bytes(DOCUMENT)
    openssl("pkeyutl", "-sign", "-inkey", str(tmp_path / "ca.key"), "-rawin", "-digest", "sm3", "-pkeyopt",
            "distid:1234567812345678", "-in", str(tmp_path / "doc"), "-out", str(tmp_path / "sig"))
    report = _check(client, verifier, {"signature_b64": b64((tmp_path / "sig").read_bytes()),
                                       "certificate_pem": ca_pem})
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


def test_expired_certificate_is_out_of_bounds(app, client, verifier):
    with app.test_request_context(), db.connection_context():
        key = keystore().generate(purpose="signing", owner="u_expired")
        cert = platform_ca().issue_certificate(key.public_key(), subject_for(*vectors.LI_SI), days=1,
                                               key_usage={"digitalSignature"},
                                               not_before=utcnow() - timedelta(days=3))
        signature = keystore().sign(key.key_id, DOCUMENT)
    report = _check(client, verifier, {"signature_b64": b64(signature), "certificate_pem": cert.pem})
    assert (report["indication"], report["sub_indication"], report["valid"]) == (
        "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE", False)
    assert report["certificate"]["status"] == "expired"
    assert report["signer"]["name_masked"] == "李*"


@pytest.mark.parametrize("change", [
    {"signature_b64": "!!!"}, {"document_b64": "%%%"}, {"certificate_pem": "not a certificate"},
    {"certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    {"certificate_pem": base64.b64encode(b"\x30\x82\xff\xff").decode()}, {"e_hex": "ab" * 32},
    {"signature_b64": None}, {"signature_b64": 5}, {"document_b64": None}, {"unexpected": 1},
    {"certificate_pem": "x" * 20000},
])
def test_malformed_input_is_a_400_problem(client, signer, verifier, change):
    signed = sign(client, signer[0])
    body = {"document_b64": b64(DOCUMENT), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"], **change}
    assert_problem(client.post(VERIFY, json=body, headers=verifier), 400)


def test_garbage_bodies_are_400(client, verifier):
    for data in ("", "[]", "{", "null", '"x"'):
        response = client.post(VERIFY, data=data, headers=verifier, content_type="application/json")
        assert_problem(response, 400)


def test_only_clients_with_the_scope_verify(client, signer, machine_token):
    headers, _ = signer
    signed = sign(client, headers)
    body = {"document_b64": b64(DOCUMENT), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"]}
    assert_problem(client.post(VERIFY, json=body), 401)
    assert_problem(client.post(VERIFY, json=body, headers=headers), 403)
    other = {"Authorization": f"Bearer {machine_token('licences:issue')}"}
    assert_problem(client.post(VERIFY, json=body, headers=other), 403, "insufficient_scope")


def test_verification_is_rate_limited_per_client(make_app, machine_token):
    app = make_app(SIGNATURE_VERIFY_PER_MINUTE=2)
    client = app.test_client()
    body = {"e_hex": "ab" * 32, "signature_b64": b64(b"\x30\x00"), "certificate_pem": "x"}
    token = {"Authorization": f"Bearer {machine_token('signatures:verify')}"}
    for _ in range(2):
        assert client.post(VERIFY, json=body, headers=token).status_code == 400
    response = client.post(VERIFY, json=body, headers=token)
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
