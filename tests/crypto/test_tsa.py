"""The time-stamping authority's core (app/crypto/tsa.py): tokens issued and checked, the wire protocol's
rejections, tampering, the TSA certificate revoked or expired, and what the openssl CLI reads of it all."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from asn1crypto import cms as asn1_cms
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509

from app.crypto import cms, platform_keys, tsa
from app.crypto.ca import keystore, platform_ca
from app.crypto.sm3 import sm3
from app.db import db, utcnow
from tests.crypto.conftest import openssl

DATA = "合同正文 proof of existence".encode()


@pytest.fixture
def ctx(app):
    with app.test_request_context(), db.connection_context():
        yield app


def _request(imprint: bytes, hash_oid: str = tsa.SM3_OID, **fields) -> bytes:
    return tsp.TimeStampReq({"version": "v1", "message_imprint": {"hash_algorithm": {"algorithm": hash_oid},
                                                                  "hashed_message": imprint}, **fields}).dump()


def _flip(token: bytes, needle: bytes, offset: int = 0) -> bytes:
    at = token.index(needle) + offset
    assert token.count(needle) == 1, "the tampered part must be unique in the token"
    return token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1:]


def test_round_trip_sm3_and_sha256(ctx):
    for hash_oid, imprint in ((tsa.SM3_OID, sm3(DATA)), (tsa.SHA256_OID, hashlib.sha256(DATA).digest())):
        token = tsa.timestamp(imprint, hash_oid=hash_oid, nonce=12345)
        check = tsa.verify_token(token, data=DATA, hash_oid=hash_oid)
        assert check.valid and check.reason is None, check
        assert check.policy == tsa.POLICY_OID and check.hash_oid == hash_oid and check.nonce == 12345
        assert check.tsa_status == "good" and check.tsa_serial and 0 < check.serial < 2**160
        assert abs((check.gen_time - utcnow()).total_seconds()) < 5 and check.gen_time.microsecond == 0
        assert tsa.verify_token(token, imprint=imprint, hash_oid=hash_oid).valid
    # each token its own serial; the TSTInfo is what RFC 3161 asks for
    info = asn1_cms.ContentInfo.load(token)["content"]
    tst = info["encap_content_info"]["content"].parsed
    assert info["encap_content_info"]["content_type"].dotted == tsa.ID_CT_TST_INFO
    assert tst["version"].native == "v1" and tst["accuracy"].native["seconds"] == 1
    assert tst["tsa"].chosen == asn1_x509.Certificate.load(platform_keys.current("tsa").certificate_der).subject
    assert tst["gen_time"].contents.endswith(b"Z") and b"." not in tst["gen_time"].contents
    serials = {tsa.verify_token(tsa.timestamp(sm3(DATA))).serial for _ in range(5)}
    assert len(serials) == 5
    signed_attributes = cms.parse(token).signed_attributes_der
    assert bytes.fromhex("060b2a864886f70d010910022f") in signed_attributes  # signingCertificateV2 (RFC 5816)


def test_the_tsa_certificate_has_the_critical_time_stamping_eku(ctx, tmp_path):
    key = platform_keys.current("tsa")
    cert = asn1_x509.Certificate.load(key.certificate_der)
    eku = next(e for e in cert["tbs_certificate"]["extensions"] if e["extn_id"].native == "extended_key_usage")
    assert eku["critical"].native is True and eku["extn_value"].native == ["time_stamping"]
    (tmp_path / "tsa.pem").write_text(key.certificate_pem)
    (tmp_path / "ca.pem").write_text(platform_ca().certificate_pem())
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "tsa.pem")).stdout.decode()
    assert "X509v3 Extended Key Usage: critical" in text and "Time Stamping" in text
    ok = openssl("verify", "-vfyopt", "distid:1234567812345678", "-purpose", "timestampsign",
                 "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "tsa.pem"))
    assert ok.stdout.strip().endswith(b"OK")


def test_nonce_and_cert_req_through_the_wire(ctx):
    status, failures, token = tsa.response_status(tsa.respond(_request(sm3(DATA), nonce=2**64 + 7, cert_req=True)))
    assert (status, failures) == ("granted", set())
    check = tsa.verify_token(token, data=DATA)
    assert check.valid and check.nonce == 2**64 + 7
    assert asn1_cms.ContentInfo.load(token)["content"]["certificates"].native
    # certReq absent: no certificates in the token (RFC 3161 §2.4.1), still checkable by the signer's serial
    _, _, bare = tsa.response_status(tsa.respond(_request(sm3(DATA))))
    assert not asn1_cms.ContentInfo.load(bare)["content"]["certificates"].native
    assert tsa.verify_token(bare, data=DATA).valid


@pytest.mark.parametrize(("request_der", "failure"), [
    (b"", "bad_data_format"),
    (b"\x30\x03\x02\x01\x01", "bad_data_format"),
    (b"not a request at all", "bad_data_format"),
    (_request(b"\x00" * 20, "1.3.14.3.2.26"), "bad_alg"),  # SHA-1
    (_request(b"\x00" * 64, "2.16.840.1.101.3.4.2.3"), "bad_alg"),  # SHA-512
    (_request(b"\x00" * 31), "bad_data_format"),
    (_request(b"\x00" * 32, req_policy="1.2.3.4"), "unaccepted_policy"),
    (_request(b"\x00" * 32, nonce=-1), "bad_request"),
    (_request(b"\x00" * 32, nonce=2**300), "bad_request"),
    (_request(b"\x00" * 32, extensions=[{"extn_id": "1.2.3", "extn_value": b"x"}]), "unaccepted_extensions"),
    (_request(b"\x00" * 32) + b"\x00", "bad_data_format"),  # trailing bytes
])
def test_rejections_carry_their_failure_info(ctx, request_der, failure):
    status, failures, token = tsa.response_status(tsa.respond(request_der))
    assert (status, failures, token) == ("rejection", {failure}, None)


def test_version_2_is_a_bad_request(ctx):
    der = bytearray(_request(sm3(DATA)))
    assert der[2:5] == b"\x02\x01\x01"
    der[4] = 2
    assert tsa.response_status(tsa.respond(bytes(der)))[:2] == ("rejection", {"bad_request"})


def test_tampered_tokens_are_invalid(ctx):
    imprint = sm3(DATA)
    token = tsa.timestamp(imprint)
    tst = asn1_cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    gen_time = tst["gen_time"].contents  # e.g. b"20261206130553Z"
    assert tsa.verify_token(_flip(token, gen_time, 11)).reason == "signature_invalid"  # a minute digit
    assert tsa.verify_token(_flip(token, imprint, 5)).reason == "signature_invalid"
    signature = cms.parse(token).signature
    assert tsa.verify_token(_flip(token, signature, len(signature) - 3)).reason == "signature_invalid"
    assert tsa.verify_token(token, data=DATA + b"!").reason == "imprint_mismatch"
    assert tsa.verify_token(token, imprint=hashlib.sha256(DATA).digest(), hash_oid=tsa.SHA256_OID).reason == \
        "imprint_mismatch"
    for garbage in (b"", b"\x30\x00", token[:-1], token + b"\x00", b"\x04\x02ab"):
        assert tsa.verify_token(garbage).reason == "format"
    assert tsa.verify_token(token, data=DATA).valid


def _token_signed_by(key_id: str, certificate_der: bytes, imprint: bytes) -> bytes:
    """A TSTInfo like ours, signed by another key (the same cms.sign the TSA uses)."""
    real = asn1_cms.ContentInfo.load(tsa.timestamp(imprint))["content"]["encap_content_info"]["content"].parsed
    signer = cms.Signer(certificate_der=certificate_der, sign=lambda m: keystore().sign(key_id, m))
    return cms.sign(real.dump(), signer=signer, detached=False, profile=cms.PROFILE_PKCS7,
                    content_type=tsa.ID_CT_TST_INFO)


def test_a_certificate_without_the_eku_or_from_another_ca_is_refused(ctx):
    other = platform_keys.current("disclosure")  # our CA, digitalSignature, no timeStamping EKU
    token = _token_signed_by(other.key_id, other.certificate_der, sm3(DATA))
    assert tsa.verify_token(token, data=DATA).reason == "not_tsa_certificate"
    # a certificate with the same subject and EKU, self-signed instead of issued by the platform CA
    tsa_key = platform_keys.current("tsa")
    cert = asn1_x509.Certificate.load(tsa_key.certificate_der)
    tbs = cert["tbs_certificate"]
    forged = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": cert["signature_algorithm"],
                                    "signature_value": keystore().sign(tsa_key.key_id, tbs.dump())}).dump()
    check = tsa.verify_token(_token_signed_by(tsa_key.key_id, forged, sm3(DATA)), data=DATA)
    assert (check.valid, check.reason, check.tsa_status) == (False, "untrusted_tsa", "unknown")


def test_revoked_tsa_certificate_fails_closed(ctx):
    token = tsa.timestamp(sm3(DATA))
    key = platform_keys.current("tsa")
    serial = tsa.verify_token(token).tsa_serial
    assert tsa.verify_token(token, data=DATA).valid
    later = utcnow() + timedelta(days=1)  # revoked after the token's genTime: still not valid (fail closed)
    platform_ca().revoke(serial, "keyCompromise", at=later)
    check = tsa.verify_token(token, data=DATA)
    assert (check.valid, check.reason, check.tsa_status) == (False, "tsa_certificate_revoked", "revoked")
    assert check.tsa_revoked_at.replace(tzinfo=None) == later.replace(microsecond=0, tzinfo=None)
    assert key.kid  # the key itself: rotation gives a new certificate that stamps again
    fresh = platform_keys.rotate("tsa")
    assert fresh.kid != key.kid and tsa.verify_token(tsa.timestamp(sm3(DATA)), data=DATA).valid


def test_expired_tsa_certificate(ctx):
    token = tsa.timestamp(sm3(DATA))
    not_after = platform_keys.current("tsa").not_after
    assert tsa.verify_token(token, data=DATA).valid
    with time_machine.travel(not_after + timedelta(days=1), tick=False):
        check = tsa.verify_token(token, data=DATA)
    assert (check.valid, check.reason, check.tsa_status) == (False, "tsa_certificate_expired", "expired")
    assert check.gen_time < not_after  # valid when stamped, expired now


def test_openssl_reads_our_replies(ctx, tmp_path: Path):
    """`openssl ts -query` (SM3 and SHA-256) is accepted; `openssl ts -reply -text` reads the answer."""
    doc = tmp_path / "doc"
    doc.write_bytes(DATA)
    for digest in ("-sm3", "-sha256"):
        query, reply = tmp_path / f"q{digest}.tsq", tmp_path / f"r{digest}.tsr"
        openssl("ts", "-query", "-data", str(doc), digest, "-cert", "-out", str(query))
        reply.write_bytes(tsa.respond(query.read_bytes()))
        text = openssl("ts", "-reply", "-in", str(reply), "-text").stdout.decode()
        assert "Status: Granted." in text and f"Policy OID: {tsa.POLICY_OID}" in text, text
        assert ("Hash Algorithm: sm3" if digest == "-sm3" else "Hash Algorithm: sha256") in text
        assert "Accuracy: 0x01 seconds" in text and "Nonce: 0x" in text
        nonce = openssl("ts", "-query", "-in", str(query), "-text").stdout.decode().split("Nonce: ")[1].split()[0]
        assert f"Nonce: {nonce}" in text  # echoed
        token = tsa.response_status(reply.read_bytes())[2]
        assert tsa.verify_token(token, data=DATA, hash_oid=tsa.SM3_OID if digest == "-sm3" else tsa.SHA256_OID).valid
    # a rejection is read too
    bad = tmp_path / "bad.tsr"
    bad.write_bytes(tsa.respond(b"garbage"))
    text = openssl("ts", "-reply", "-in", str(bad), "-text").stdout.decode()
    assert "Status: Rejected." in text and "the data submitted has the wrong format" in text, text


class _NoZKeystore:
    """The key store, signing e = SM3(signed attributes) itself, without Z (what OpenSSL 3.0's PKCS7 code
    verifies: it hashes, then hands the digest to SM2 as e — no distinguishing ID at all)."""

    def __init__(self, real):
        self.real = real

    def sign(self, key_id, message):
        return self.real.sign_digest(key_id, sm3(message))


def test_openssl_ts_verify_fails_only_on_the_sm2_id(ctx, tmp_path: Path, monkeypatch):
    """What OpenSSL 3.0 cannot do: `openssl ts -verify` of our SM2 tokens. Its chain check hands no SM2
    ID to the certificate's signature (like X509_CRL_verify, see app/crypto/x509.py), and its PKCS7
    code (PKCS7_signatureVerify) hashes the signed attributes with SM3 and verifies SM2 over that
    digest as e — no Z at all — while RFC 5652 / GM/T 0009 sign Z ‖ attributes with the default ID
    1234567812345678 (as app/crypto/cms does for PROFILE_PKCS7). Everything else in the token is as
    OpenSSL expects: the same token signed Z-less passes with the TSA certificate as trust anchor,
    EKU (critical timeStamping), ESS signingCertificateV2 (SM3), imprint and nonce checks included.
    Check our tokens with `verify_token` instead."""
    doc, query, reply = tmp_path / "doc", tmp_path / "q.tsq", tmp_path / "r.tsr"
    doc.write_bytes(DATA)
    (tmp_path / "tsa.pem").write_text(platform_keys.current("tsa").certificate_pem)
    (tmp_path / "ca.pem").write_text(platform_ca().certificate_pem())
    openssl("ts", "-query", "-data", str(doc), "-sha256", "-cert", "-out", str(query))
    reply.write_bytes(tsa.respond(query.read_bytes()))
    chain = ("-CAfile", str(tmp_path / "ca.pem"), "-untrusted", str(tmp_path / "tsa.pem"))
    anchored = ("-CAfile", str(tmp_path / "tsa.pem"), "-partial_chain")  # the TSA certificate as trust anchor
    failed = openssl("ts", "-verify", "-in", str(reply), "-queryfile", str(query), *chain, check=False)
    assert failed.returncode != 0 and b"certificate signature failure" in failed.stderr
    failed = openssl("ts", "-verify", "-in", str(reply), "-queryfile", str(query), *anchored, check=False)
    assert failed.returncode != 0 and b"PKCS7_signatureVerify:signature failure" in failed.stderr
    monkeypatch.setattr(tsa, "keystore", lambda: _NoZKeystore(keystore()))
    reply.write_bytes(tsa.respond(query.read_bytes()))
    ok = openssl("ts", "-verify", "-in", str(reply), "-queryfile", str(query), *anchored)
    assert b"Verification: OK" in ok.stdout
    ok = openssl("ts", "-verify", "-in", str(reply), "-data", str(doc), *anchored)
    assert b"Verification: OK" in ok.stdout
    doc.write_bytes(DATA + b"!")  # and OpenSSL does check the imprint
    assert openssl("ts", "-verify", "-in", str(reply), "-data", str(doc), *anchored, check=False).returncode != 0
    # our own check refuses the Z-less signature (RFC 5652 profile: Z with the default ID)
    assert tsa.verify_token(tsa.response_status(reply.read_bytes())[2]).reason == "signature_invalid"


def test_garbage_never_raises(ctx):
    """Truncations and bit flips of a request and of a token: an answer every time, never an exception."""
    import random
    rng = random.Random(18)
    request_der = _request(sm3(DATA), nonce=99, cert_req=True)
    token = tsa.timestamp(sm3(DATA), nonce=99)
    for _ in range(60):
        cut = rng.randrange(len(request_der))
        flipped = bytearray(request_der)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        for der in (request_der[:cut], bytes(flipped)):
            status, failures, _ = tsa.response_status(tsa.respond(der))
            assert status in ("granted", "rejection") and (status == "granted") == (not failures)
        cut = rng.randrange(len(token))
        flipped = bytearray(token)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        for der in (token[:cut], bytes(flipped)):
            check = tsa.verify_token(der, data=DATA)
            assert not check.valid or der == token
