"""OCSP responder (app/crypto/ocsp.py) checked by the openssl CLI: requests made by `openssl ocsp`,
answers verified by `openssl ocsp -respin` (good, revoked with reason and time, unknown), the
nonce echoed, SM3 CertIDs, a tampered answer refused, the SM2 distinguishing-ID trap, the cache."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import ocsp as asn1_ocsp

from app.crypto import ocsp
from app.crypto.sm2 import DEFAULT_ID, SM2PrivateKey
from app.db import utcnow
from tests.crypto.conftest import make_openssl_ca, openssl

LEAF_SUBJECT = {"C": "CN", "O": "YiWang", "CN": "u_ocsp"}


@pytest.fixture
def pki(ctx, tmp_path):
    """The CA certificate and one issued leaf, written as PEM files; the responder's cache empty."""
    ocsp.clear_cache()
    ca = ctx.extensions["ca"]
    (tmp_path / "ca.pem").write_text(ca.certificate_pem())
    leaf = _issue(ca, tmp_path, "leaf")
    yield ca, leaf
    ocsp.clear_cache()


def _issue(ca, tmp_path: Path, name: str):
    issued = ca.issue_certificate(SM2PrivateKey.generate().public_key(), LEAF_SUBJECT, days=30,
                                  key_usage={"digitalSignature"})
    (tmp_path / f"{name}.pem").write_text(issued.pem)
    return issued


def _request(tmp_path: Path, *args: str, name: str = "req.der") -> bytes:
    openssl("ocsp", "-issuer", str(tmp_path / "ca.pem"), *args, "-reqout", str(tmp_path / name))
    return (tmp_path / name).read_bytes()


def _check(tmp_path: Path, response: bytes, *args: str):
    """`openssl ocsp -respin` with the CA as issuer and trust anchor: (exit status, stdout + stderr)."""
    (tmp_path / "resp.der").write_bytes(response)
    result = openssl("ocsp", "-respin", str(tmp_path / "resp.der"), "-CAfile", str(tmp_path / "ca.pem"),
                     "-resp_text", *args, check=False)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def _status_of(tmp_path: Path, response: bytes, cert: str = "leaf.pem"):
    return _check(tmp_path, response, "-issuer", str(tmp_path / "ca.pem"), "-cert", str(tmp_path / cert),
                  "-no_nonce")


def test_good_certificate_verified_by_openssl(pki, tmp_path):
    response = ocsp.respond(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem")))
    status, out = _status_of(tmp_path, response)
    assert status == 0, out
    assert "Response verify OK" in out and "leaf.pem: good" in out
    assert "Signature Algorithm: SM2-with-SM3" in out and "Next Update:" in out


def test_revoked_certificate_with_reason_and_time(pki, tmp_path):
    ca, leaf = pki
    at = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    ca.revoke(leaf.serial, "keyCompromise", at=at)
    status, out = _status_of(tmp_path, ocsp.respond(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem"))))
    assert status == 0, out
    assert "Response verify OK" in out and "leaf.pem: revoked" in out
    assert "Reason: keyCompromise" in out
    assert f"Revocation Time: {at.strftime('%b %e %H:%M:%S %Y')} GMT" in out


def test_unknown_for_a_serial_never_issued_and_for_another_issuer(pki, tmp_path):
    never = ocsp.respond(_request(tmp_path, "-serial", "0x1234567890abcdef"))
    status, out = _check(tmp_path, never, "-issuer", str(tmp_path / "ca.pem"), "-serial", "0x1234567890abcdef",
                         "-no_nonce")
    assert status == 0, out
    assert "Response verify OK" in out and "0x1234567890abcdef: unknown" in out
    # The leaf's serial, but a CertID naming another CA as issuer: not this CA's certificate.
    (tmp_path / "other").mkdir()
    other_pem, _ = make_openssl_ca(tmp_path / "other", "Other CA")
    (tmp_path / "other.pem").write_text(other_pem)
    _, leaf = pki
    openssl("ocsp", "-issuer", str(tmp_path / "other.pem"), "-serial", f"0x{leaf.serial}", "-reqout",
            str(tmp_path / "foreign.der"))
    response = asn1_ocsp.OCSPResponse.load(ocsp.respond((tmp_path / "foreign.der").read_bytes()))
    single = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "unknown"


def test_nonce_is_echoed_and_checked_by_openssl(pki, tmp_path):
    request = _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"))  # openssl adds a nonce by default
    response = ocsp.respond(request)
    status, out = _check(tmp_path, response, "-reqin", str(tmp_path / "req.der"))
    assert status == 0 and "Response verify OK" in out and "Nonce Verify error" not in out, out
    sent = asn1_ocsp.OCSPRequest.load(request)["tbs_request"]["request_extensions"][0]
    data = asn1_ocsp.OCSPResponse.load(response)["response_bytes"]["response"].parsed["tbs_response_data"]
    assert data["response_extensions"][0].dump() == sent.dump()
    # Another request's nonce does not match: openssl notices.
    _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), name="other.der")
    status, out = _check(tmp_path, response, "-reqin", str(tmp_path / "other.der"))
    assert status != 0 and "Nonce Verify error" in out


def test_sm3_cert_ids_and_several_certificates_in_one_request(pki, tmp_path):
    ca, _ = pki
    second = _issue(ca, tmp_path, "second")
    ca.revoke(second.serial, "superseded")
    request = _request(tmp_path, "-sm3", "-cert", str(tmp_path / "leaf.pem"), "-cert", str(tmp_path / "second.pem"))
    cert_ids = [item["req_cert"] for item in asn1_ocsp.OCSPRequest.load(request)["tbs_request"]["request_list"]]
    assert {c["hash_algorithm"]["algorithm"].dotted for c in cert_ids} == {ocsp.SM3_OID}
    status, out = _check(tmp_path, ocsp.respond(request), "-reqin", str(tmp_path / "req.der"), "-sm3",
                         "-issuer", str(tmp_path / "ca.pem"), "-cert", str(tmp_path / "leaf.pem"),
                         "-cert", str(tmp_path / "second.pem"), "-no_nonce")
    assert status == 0, out
    assert "leaf.pem: good" in out and "second.pem: revoked" in out and "Reason: superseded" in out


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def test_a_tampered_response_fails_openssl_verification(pki, tmp_path):
    response = ocsp.respond(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem")))
    assert _status_of(tmp_path, response)[0] == 0
    parsed = asn1_ocsp.OCSPResponse.load(response)
    tbs = parsed["response_bytes"]["response"].parsed["tbs_response_data"].dump()
    at = response.index(tbs) + len(tbs) - 3  # inside nextUpdate, a byte the signature covers
    status, out = _status_of(tmp_path, _flip(response, at))
    assert "Response Verify Failure" in out and "signature failure" in out, out


def test_signed_with_the_default_sm2_id_openssl_refuses_it(pki, tmp_path):
    """The trap the module doc describes: `openssl ocsp` computes Z with an empty ID."""
    ca, _ = pki
    ca_id, ca_cert, sign = ca.ocsp_responder()
    request = asn1_ocsp.OCSPRequest.load(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), "-no_nonce"))
    cert_id = request["tbs_request"]["request_list"][0]["req_cert"]
    found = ocsp.lookup(ca_id, ocsp._issuer_hashes(ca_cert), cert_id)
    now = utcnow().replace(microsecond=0)
    single = [ocsp._single(cert_id, found, now, timedelta(hours=1))]
    wrong = ocsp.build_response(ca_cert=ca_cert, sign=sign, singles=single, now=now, uid=DEFAULT_ID)
    status, out = _status_of(tmp_path, wrong)
    assert "Response Verify Failure" in out, out
    right = ocsp.build_response(ca_cert=ca_cert, sign=sign, singles=single, now=now)
    assert "Response verify OK" in _status_of(tmp_path, right)[1]


@pytest.mark.parametrize("junk", [b"", b"\x30\x03\x0a\x01\x01", b"not der at all", b"\x30" * 40,
                                  b"\x30\x80" + b"\x00" * 10])
def test_malformed_requests_get_malformed_request(ctx, junk):
    response = asn1_ocsp.OCSPResponse.load(ocsp.respond(junk))
    assert response["response_status"].native == "malformed_request"
    assert response["response_bytes"].native is None


def test_more_than_the_limit_of_cert_ids_is_malformed(pki, tmp_path):
    args = [arg for i in range(ocsp.MAX_CERT_IDS + 1) for arg in ("-serial", str(1000 + i))]
    response = asn1_ocsp.OCSPResponse.load(ocsp.respond(_request(tmp_path, *args)))
    assert response["response_status"].native == "malformed_request"


def test_cached_until_revocation_changes_the_answer(pki, tmp_path):
    ca, leaf = pki
    request = _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), "-no_nonce")
    first = ocsp.respond(request)
    assert ocsp.respond(request) == first  # served from the cache: the same signed bytes
    ca.revoke(leaf.serial, "cessationOfOperation")
    after = ocsp.respond(request)
    assert after != first
    status, out = _status_of(tmp_path, after)
    assert status == 0 and "leaf.pem: revoked" in out and "Reason: cessationOfOperation" in out, out
    # With a nonce every answer is fresh (and never cached).
    with_nonce = _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), name="nonce.der")
    assert ocsp.respond(with_nonce) != ocsp.respond(with_nonce)


def test_cache_headers_only_for_cacheable_answers(pki, tmp_path):
    plain = ocsp.respond(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), "-no_nonce"))
    headers = ocsp.http_cache_headers(plain)
    assert headers["Cache-Control"].startswith("max-age=") and "public" in headers["Cache-Control"]
    assert 0 < int(headers["Cache-Control"].split(",")[0].split("=")[1]) <= 3600
    assert headers["Expires"].endswith("GMT") and headers["ETag"].startswith('"')
    assert ocsp.http_cache_headers(ocsp.respond(_request(tmp_path, "-cert", str(tmp_path / "leaf.pem")))) == {}
    assert ocsp.http_cache_headers(ocsp.error_response("malformed_request")) == {}
