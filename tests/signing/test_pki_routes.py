"""Public PKI routes (signing/pki_routes.py): the CA certificate in DER, OCSP by POST and GET, and
what an OpenSSL client does with a live server: `openssl ocsp -url` and `openssl verify -crl_check
-crl_download` following the certificate's CRL distribution point, before and after a revocation.
Also the certificates' CDP / AIA extensions and the PKI_BASE_URL setting."""
from __future__ import annotations

import base64
import threading
import urllib.parse
from pathlib import Path

import pytest
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem as asn1_pem
from werkzeug.serving import make_server

from app.config import ConfigError, check_config, load_settings
from app.crypto import ocsp
from app.crypto.sm2 import SM2PrivateKey
from tests.crypto.conftest import DISTID, openssl, production_settings
from tests.fixtures.browser import free_port

BASE = "/api/v1/signing"
SUBJECT = {"C": "CN", "O": "YiWang", "CN": "u_pki"}


def _issue(app, tmp_path: Path, name: str = "leaf"):
    with app.app_context():
        issued = app.extensions["ca"].issue_certificate(SM2PrivateKey.generate().public_key(), SUBJECT, days=30,
                                                        key_usage={"digitalSignature"})
    (tmp_path / f"{name}.pem").write_text(issued.pem)
    return issued


def _revoke(app, serial: str, reason: str = "keyCompromise") -> None:
    with app.app_context():
        app.extensions["ca"].revoke(serial, reason)


@pytest.fixture
def pki(app, client, tmp_path):
    ocsp.clear_cache()
    (tmp_path / "ca.pem").write_text(client.get(f"{BASE}/ca.pem").get_data(as_text=True))
    yield app, _issue(app, tmp_path)
    ocsp.clear_cache()


def _request(tmp_path: Path, *args: str) -> bytes:
    openssl("ocsp", "-issuer", str(tmp_path / "ca.pem"), *args, "-reqout", str(tmp_path / "req.der"))
    return (tmp_path / "req.der").read_bytes()


def _openssl_status(tmp_path: Path, response: bytes) -> str:
    (tmp_path / "resp.der").write_bytes(response)
    result = openssl("ocsp", "-respin", str(tmp_path / "resp.der"), "-issuer", str(tmp_path / "ca.pem"),
                     "-cert", str(tmp_path / "leaf.pem"), "-CAfile", str(tmp_path / "ca.pem"), "-no_nonce",
                     check=False)
    return result.stdout.decode() + result.stderr.decode()


def test_ca_certificate_in_der_is_the_pem_one(client):
    pem = client.get(f"{BASE}/ca.pem").get_data()
    answer = client.get(f"{BASE}/ca.cer")
    assert answer.status_code == 200 and answer.mimetype == "application/pkix-cert"
    assert answer.get_data() == asn1_pem.unarmor(pem)[2]


def test_issued_certificates_name_the_crl_ocsp_and_ca_urls(pki, tmp_path):
    text = openssl("x509", "-in", str(tmp_path / "leaf.pem"), "-noout", "-text").stdout.decode()
    origin = pki[0].config["PKI_BASE_URL"]
    assert f"X509v3 CRL Distribution Points: \n                Full Name:\n                  URI:{origin}{BASE}/crl" in text
    assert f"OCSP - URI:{origin}{BASE}/ocsp" in text
    assert f"CA Issuers - URI:{origin}{BASE}/ca.cer" in text
    # The root itself names none (it is the trust anchor).
    root = openssl("x509", "-in", str(tmp_path / "ca.pem"), "-noout", "-text").stdout.decode()
    assert "CRL Distribution Points" not in root and "Authority Information Access" not in root


def test_ocsp_post_good_then_revoked(pki, client, tmp_path):
    app, leaf = pki
    request = _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), "-no_nonce")
    answer = client.post(f"{BASE}/ocsp", data=request, content_type="application/ocsp-request")
    assert answer.status_code == 200 and answer.mimetype == "application/ocsp-response"
    assert answer.headers["Cache-Control"] == "no-store"
    out = _openssl_status(tmp_path, answer.get_data())
    assert "Response verify OK" in out and "leaf.pem: good" in out, out
    _revoke(app, leaf.serial)
    out = _openssl_status(tmp_path, client.post(f"{BASE}/ocsp", data=request,
                                                content_type="application/ocsp-request").get_data())
    assert "Response verify OK" in out and "leaf.pem: revoked" in out and "Reason: keyCompromise" in out, out


@pytest.mark.parametrize("alphabet", ["standard", "urlsafe"])
def test_ocsp_get_with_the_request_in_the_path(pki, client, tmp_path, alphabet):
    request = _request(tmp_path, "-cert", str(tmp_path / "leaf.pem"), "-no_nonce")
    if alphabet == "standard":  # RFC 6960 A.1: base64, then URL-encoded ("/" → %2F, "+" → %2B, "=" → %3D)
        path = urllib.parse.quote(base64.b64encode(request).decode(), safe="")
    else:
        path = base64.urlsafe_b64encode(request).decode().rstrip("=")
    answer = client.get(f"{BASE}/ocsp/{path}")
    assert answer.status_code == 200 and answer.mimetype == "application/ocsp-response"
    assert "public" in answer.headers["Cache-Control"] and answer.headers["ETag"] and answer.headers["Expires"]
    out = _openssl_status(tmp_path, answer.get_data())
    assert "Response verify OK" in out and "leaf.pem: good" in out, out


def test_not_ocsp_gets_malformed_request_or_a_problem(client):
    for answer in (client.get(f"{BASE}/ocsp/not*base64"), client.get(f"{BASE}/ocsp/AAAA"),
                   client.post(f"{BASE}/ocsp", data=b"\x30\x03\x0a\x01\x01", content_type="application/ocsp-request"),
                   client.post(f"{BASE}/ocsp", data=b"", content_type="application/ocsp-request")):
        assert answer.status_code == 200 and answer.mimetype == "application/ocsp-response"
        assert asn1_ocsp.OCSPResponse.load(answer.get_data())["response_status"].native == "malformed_request"
        assert answer.headers["Cache-Control"] == "no-store"
    wrong_type = client.post(f"{BASE}/ocsp", data=b"\x30\x00", content_type="application/octet-stream")
    assert wrong_type.status_code == 415 and wrong_type.json["code"] == "unsupported_media_type"


def test_openapi_states_the_public_pki_routes(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"][f"{BASE}/ocsp"]["post"]
    assert post["security"] == [] and "application/ocsp-request" in post["requestBody"]["content"]
    assert "application/ocsp-response" in post["responses"]["200"]["content"]
    assert spec["paths"][f"{BASE}/ocsp/{{encoded}}"]["get"]["security"] == []
    assert "application/pkix-cert" in spec["paths"][f"{BASE}/ca.cer"]["get"]["responses"]["200"]["content"]


# --- A live server: what OpenSSL does on its own with the URLs in the certificate -----------------

@pytest.fixture
def live(make_app, tmp_path):
    """The app behind a real HTTP server whose address is the PKI_BASE_URL its certificates name."""
    port = free_port()
    app = make_app(PKI_BASE_URL=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ocsp.clear_cache()
    with app.app_context():
        (tmp_path / "ca.pem").write_text(app.extensions["ca"].certificate_pem())
    yield app, f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)
    ocsp.clear_cache()


def test_openssl_ocsp_client_against_the_live_server(live, tmp_path):
    app, origin = live
    leaf = _issue(app, tmp_path)
    url = f"{origin}{BASE}/ocsp"
    query = ["ocsp", "-issuer", str(tmp_path / "ca.pem"), "-cert", str(tmp_path / "leaf.pem"), "-url", url,
             "-CAfile", str(tmp_path / "ca.pem"), "-resp_text"]
    result = openssl(*query, check=False)  # with a nonce (openssl's default): checked against its request
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0 and "Response verify OK" in out and "leaf.pem: good" in out, out
    assert "Nonce Verify error" not in out and "OCSP Nonce" in out
    _revoke(app, leaf.serial, "affiliationChanged")
    result = openssl(*query, check=False)
    out = result.stdout.decode() + result.stderr.decode()
    assert "Response verify OK" in out and "leaf.pem: revoked" in out and "Reason: affiliationChanged" in out, out


def test_openssl_verify_downloads_the_crl_from_the_distribution_point(live, tmp_path):
    app, _ = live
    leaf = _issue(app, tmp_path)
    verify = ["verify", "-vfyopt", DISTID, "-crl_check", "-crl_download", "-CAfile", str(tmp_path / "ca.pem"),
              str(tmp_path / "leaf.pem")]
    result = openssl(*verify, check=False)
    assert result.returncode == 0 and b"leaf.pem: OK" in result.stdout, result.stderr.decode()
    _revoke(app, leaf.serial)
    result = openssl(*verify, check=False)
    assert result.returncode != 0 and b"certificate revoked" in result.stdout + result.stderr


# --- PKI_BASE_URL -----------------------------------------------------------------------------------

def test_production_needs_an_https_pki_base_url(tmp_path):
    settings = production_settings(tmp_path)
    check_config(load_settings(settings, environ={}))
    for value, problem in (("", "PKI_BASE_URL is not set"), ("http://pki.example.gov.cn", "must be an https URL"),
                           ("https://", "must be an https URL")):
        with pytest.raises(ConfigError, match=problem):
            check_config(load_settings({**settings, "PKI_BASE_URL": value}, environ={}))
    assert load_settings({"APP_ENV": "development"}, environ={})["PKI_BASE_URL"] == "http://127.0.0.1:8000"


def test_the_example_configmap_sets_an_https_pki_base_url():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    path = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "configmap.yaml"
    config = next(d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "ConfigMap")["data"]
    assert urllib.parse.urlsplit(config["PKI_BASE_URL"]).scheme == "https"


def test_doctor_shows_where_certificates_point(app):
    from app.doctor import run_checks

    with app.app_context():
        check = next(c for c in run_checks(app) if c.name == "pki")
    assert check.status == "warn" and "not https" in check.message  # the development default
    assert f"{app.config['PKI_BASE_URL']}/api/v1/signing/{{crl,ocsp,ca.cer}}" in check.message
