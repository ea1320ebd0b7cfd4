"""Verifying CMS SignedData (GM/T 0010) with proof of existence (issue 18): attached and detached forms,
both sides of a revocation (the timestamp before it passes, one after it fails — made by moving the app
clock), a tampered timestamp token and a revoked TSA certificate (no PoE: REVOKED_NO_POE), an expired
certificate saved by its timestamp, malformed input."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine

from app.crypto import cms, platform_keys, tsa, x509
from app.crypto.ca import keystore, platform_ca
from app.crypto.sm3 import sm3
from app.db import db, utcnow
from signing.enrolment import subject_for
from tests import vectors
from tests.helpers import assert_problem
from tests.signing.conftest import DOCUMENT, VERIFY, b64


class Made:
    """A test-made signer (key in the key store, certificate from the platform CA: not a platform signature)."""

    def __init__(self, app, *, days: int = 30, not_before=None):
        with app.test_request_context(), db.connection_context():
            self.key = keystore().generate(purpose="signing", owner="u_cms_test")
            self.cert = platform_ca().issue_certificate(self.key.public_key(), subject_for(*vectors.LI_SI), days=days,
                                                        key_usage={"digitalSignature"}, not_before=not_before)
        self.app = app

    def signed(self, document: bytes = DOCUMENT, *, detached: bool = False, stamp: bool = True) -> bytes:
        """A GM/T 0010 SignedData over `document`, with a signature timestamp from the platform TSA now."""
        with self.app.test_request_context(), db.connection_context():
            cert_der = x509.load_certificate(self.cert.pem.encode()).dump()
            signer = cms.Signer.from_key_store(cert_der, keystore(), self.key.key_id)
            der = cms.sign(document, signer=signer, detached=detached, profile=cms.PROFILE_GM)
            if stamp:
                der = cms.add_unsigned_attribute(der, cms.OID_TIMESTAMP_TOKEN,
                                                 tsa.timestamp(sm3(cms.parse(der).signature)))
            return der

    def revoke(self, reason: str = "keyCompromise") -> None:
        with self.app.test_request_context(), db.connection_context():
            platform_ca().revoke(self.cert.serial, reason)


def check(client, verifier, der: bytes, status: int = 200, headers=None, **fields) -> dict:
    response = client.post(VERIFY, json={"cms_b64": b64(der), **fields}, headers={**verifier, **(headers or {})})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _result(report: dict) -> tuple:
    return report["indication"], report["sub_indication"], report["valid"]


def test_attached_signed_data_with_timestamp_passes(app, client, verifier):
    made = Made(app)
    report = check(client, verifier, made.signed())
    assert _result(report) == ("TOTAL_PASSED", None, True)
    assert report["format"] == "CMS GM/T 0010" and report["cms"]["detached"] is False
    stamp = report["timestamp"]
    assert stamp["valid"] and stamp["used_as_poe"] and stamp["tsa_status"] == "good" and stamp["reason"] is None
    assert report["poe_time"] == stamp["gen_time"] == report["revocation"]["poe_time"]
    assert report["revocation"]["status_at_poe"] == "good"
    assert report["digest"]["match"] is True and report["digest"]["source"] == "attached"
    assert report["signer"] == {"name_masked": "李*", "id_number_masked": report["signer"]["id_number_masked"]}
    assert report["certificate"]["serial"] == made.cert.serial
    assert [c["role"] for c in report["certificate_chain"]] == ["signer", "ca"]
    assert report["certificate_chain"][0]["serial"] == made.cert.serial  # the same hex as `certificate.serial`
    assert vectors.LI_SI[0] not in str(report) and vectors.LI_SI[1] not in str(report)
    assert report["sm2"]["distinguishing_id"] == "1234567812345678"
    assert any("gmssl cmsverify" in r["command"] for r in report["recheck"])
    assert any("-crl_check" in r["command"] for r in report["recheck"])


def test_detached_forms(app, client, verifier):
    made = Made(app)
    der = made.signed(detached=True)
    assert _result(check(client, verifier, der, document_b64=b64(DOCUMENT)))[0] == "TOTAL_PASSED"
    by_digest = check(client, verifier, der, document_sm3_hex=sm3(DOCUMENT).hex())
    assert _result(by_digest)[0] == "TOTAL_PASSED" and by_digest["digest"]["source"] == "document_sm3_hex"
    bare = check(client, verifier, der)
    assert _result(bare) == ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND", False)
    assert bare["article_13"][3]["verdict"] == "not_established" and bare["article_13"][2]["verdict"] == "met"
    changed = check(client, verifier, der, document_b64=b64(DOCUMENT + b"\x00"))
    assert _result(changed) == ("TOTAL_FAILED", "HASH_FAILURE", False)
    assert [c["verdict"] for c in changed["article_13"]][2:] == ["met", "not_met"]
    wrong_digest = check(client, verifier, der, document_sm3_hex=sm3(b"another").hex())
    assert _result(wrong_digest)[1] == "HASH_FAILURE"


def test_tampered_signature_value_is_a_crypto_failure(app, client, verifier):
    made = Made(app)
    der = bytearray(made.signed(stamp=False))
    signature = cms.parse(bytes(der)).signature
    at = bytes(der).index(signature)
    der[at + len(signature) - 1] ^= 0x01  # the last byte of s
    report = check(client, verifier, bytes(der))
    assert _result(report)[:2] == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")
    assert report["article_13"][2]["verdict"] == "not_met"


def test_timestamp_before_revocation_keeps_the_signature_valid(app, client, verifier):
    made = Made(app)
    der = made.signed()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        made.revoke()
        report = check(client, verifier, der)
    assert _result(report) == ("TOTAL_PASSED", None, True)
    revocation = report["revocation"]
    assert revocation["status_now"] == "revoked" and revocation["status_at_poe"] == "good"
    assert revocation["poe_time"] < revocation["revoked_at"]
    assert "时间戳" in revocation["note"]
    assert report["certificate"]["status"] == "revoked"


def test_timestamp_after_revocation_fails(app, client, verifier):
    made = Made(app)
    made.revoke()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):  # signed and time-stamped after the revocation
        der = made.signed()
        report = check(client, verifier, der)
    assert _result(report) == ("TOTAL_FAILED", "REVOKED", False)
    assert report["revocation"]["status_at_poe"] == "revoked"
    assert report["timestamp"]["valid"] is True  # the timestamp is fine: it proves the signature came too late
    assert report["article_13"][0]["verdict"] == "not_met"  # keyCompromise before the signature


def test_revoked_without_a_usable_timestamp_is_indeterminate(app, client, verifier):
    made = Made(app)
    unstamped = made.signed(stamp=False)
    stamped = made.signed()
    token = cms.parse(stamped).unsigned_attributes[cms.OID_TIMESTAMP_TOKEN][0]
    broken = bytearray(token)
    broken[-1] ^= 0x01  # the TSA's signature value ends the token; the unsigned attribute is not signed
    tampered = stamped.replace(token, bytes(broken))
    assert cms.verify(tampered).ok  # the SignedData itself still verifies
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        made.revoke()
        assert _result(check(client, verifier, unstamped))[:2] == ("INDETERMINATE", "REVOKED_NO_POE")
        report = check(client, verifier, tampered)
    assert _result(report)[:2] == ("INDETERMINATE", "REVOKED_NO_POE")
    assert report["timestamp"]["valid"] is False and report["timestamp"]["used_as_poe"] is False
    assert report["timestamp"]["reason"] == "signature_invalid"
    assert report["revocation"]["poe_source"] == "none"


def test_timestamp_of_a_revoked_tsa_certificate_is_not_poe(app, client, verifier):
    made = Made(app)
    der = made.signed()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        with app.test_request_context(), db.connection_context():
            tsa_cert = x509.load_certificate(platform_keys.current("tsa").certificate_pem.encode())
            platform_ca().revoke(x509.serial_hex(tsa_cert.serial_number), "keyCompromise")
        made.revoke("superseded")
        report = check(client, verifier, der)
    assert _result(report)[:2] == ("INDETERMINATE", "REVOKED_NO_POE")
    stamp = report["timestamp"]
    assert (stamp["valid"], stamp["reason"], stamp["tsa_status"]) == (False, "tsa_certificate_revoked", "revoked")
    assert stamp["tsa_revoked_at"] and stamp["used_as_poe"] is False


def test_expired_certificate_with_poe_passes(app, client, machine_token):
    made = Made(app, days=1)
    stamped, unstamped = made.signed(), made.signed(stamp=False)
    with time_machine.travel(utcnow() + timedelta(days=3)):
        verifier = {"Authorization": f"Bearer {machine_token('signatures:verify')}"}
        report = check(client, verifier, stamped)
        without = check(client, verifier, unstamped)
    assert _result(report) == ("TOTAL_PASSED", None, True)
    assert report["certificate"]["status"] == "expired"
    assert _result(without)[:2] == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


@pytest.mark.parametrize("fields", [
    {"cms_b64": "!!!"}, {"cms_b64": b64(b"\x30\x03\x02\x01\x01")}, {"cms_b64": b64(b"garbage")},
    {"signature_b64": b64(b"\x30\x00")}, {"e_hex": "ab" * 32}, {"document_b64": b64(DOCUMENT), "document_sm3_hex": "ab" * 32},
    {"document_sm3_hex": "xyz"}, {"document_b64": "%%%"},
])
def test_malformed_cms_input_is_a_400_problem(app, client, verifier, fields):
    der = Made(app).signed(stamp=False)
    body = {"cms_b64": b64(der), **fields}
    assert_problem(client.post(VERIFY, json=body, headers=verifier), 400, "verification_input_invalid")


def test_certificate_pem_must_be_the_signed_datas(app, client, verifier):
    made, other = Made(app), Made(app)
    der = made.signed(stamp=False)
    assert _result(check(client, verifier, der, certificate_pem=made.cert.pem))[0] == "TOTAL_PASSED"
    assert_problem(client.post(VERIFY, json={"cms_b64": b64(der), "certificate_pem": other.cert.pem}, headers=verifier),
                   400, "verification_input_invalid")
    assert_problem(client.post(VERIFY, json={"document_sm3_hex": "ab" * 32}, headers=verifier), 400)


def test_raw_answers_keep_their_shape(client, signer, verifier):
    """The raw form answers as before (tests/signing/test_verification.py), with the report beside it."""
    from tests.signing.conftest import sign

    signed = sign(client, signer[0])
    body = {"document_b64": b64(DOCUMENT), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"]}
    report = client.post(VERIFY, json=body, headers=verifier).get_json()
    assert report["format"] == "raw SM2" and report["timestamp"] is None and report["cms"] is None
    assert report["report_id"] and base64.b64decode(report["report_cms_b64"])


def test_a_gmssl_signed_data_is_read_but_its_self_signed_certificate_chains_nowhere(client, verifier, gmssl, tmp_path):
    """GmSSL's own `cmssign` (no signed attributes, its self-signed certificate): the report names the
    format and the signer, but the chain is not the platform's and art. 13 (1)–(2) cannot be established."""
    key, cert, signed = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "s.pem"
    gmssl.run("sm2keygen", "-pass", "P@ss-1", "-out", str(key), "-pubout", str(tmp_path / "pub.pem"))
    gmssl.run("certgen", "-C", "CN", "-O", "GmSSL interop", "-CN", "gmssl-signer", "-days", "30", "-key", str(key),
              "-pass", "P@ss-1", "-key_usage", "digitalSignature", "-out", str(cert))
    (tmp_path / "doc").write_bytes(DOCUMENT)
    gmssl.run("cmssign", "-key", str(key), "-pass", "P@ss-1", "-cert", str(cert), "-in", str(tmp_path / "doc"),
              "-out", str(signed))
    report = check(client, verifier, gmssl.read_pem(signed))
    assert _result(report) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", False)
    assert report["format"] == "CMS GM/T 0010" and report["cms"]["detached"] is False
    assert report["platform_signature"] is False
    assert [c["verdict"] for c in report["article_13"]][:3] == ["not_established"] * 3
    assert report["certificate_chain"][0]["subject"] == "C=CN, O=GmSSL interop, CN=g****-s*****"  # CN masked as a name
