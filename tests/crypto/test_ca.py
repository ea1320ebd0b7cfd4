"""Platform CA: root and leaf certificates checked by the openssl CLI, revocation, CRL,
CLI commands, production configuration."""
from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from asn1crypto import crl as asn1_crl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from app import create_app
from app.audit import AuditEvent
from app.config import ConfigError
from app.crypto import x509
from app.crypto.ca_models import CaCrl, CertificateRecord, PlatformCa
from app.crypto.errors import (
    CertificateAlreadyRevoked, CertificateNotFound, InvalidCertificateRequest, InvalidRevocationReason,
)
from app.crypto.keystore_models import KeyRecord
from app.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from app.db import utcnow
from tests.crypto.conftest import DISTID, make_openssl_ca, openssl, production_settings

SIGNING = {"digitalSignature", "nonRepudiation"}


def _write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def _verify(tmp_path: Path, ca_pem: str, leaf: str | bytes) -> subprocess.CompletedProcess:
    ca = _write(tmp_path / "ca.pem", ca_pem)
    cert = _write(tmp_path / "leaf.pem", leaf)
    return openssl("verify", "-vfyopt", DISTID, "-CAfile", ca, cert, check=False)


def _text(tmp_path: Path, pem: str) -> str:
    return openssl("x509", "-noout", "-text", "-in", _write(tmp_path / "show.pem", pem)).stdout.decode()


def _issue(ca, **kw):
    key = SM2PrivateKey.generate()
    subject = kw.pop("subject", {"C": "CN", "O": "YiWang", "CN": "u_test"})
    return key, ca.issue_certificate(key.public_key(), subject, days=kw.pop("days", 365),
                                     key_usage=kw.pop("key_usage", SIGNING), **kw)


def test_root_certificate(ctx, tmp_path):
    ca = ctx.extensions["ca"]
    pem = ca.certificate_pem()
    text = _text(tmp_path, pem)
    assert "Signature Algorithm: SM2-with-SM3" in text and "ASN1 OID: SM2" in text
    assert "CA:TRUE" in text and "Certificate Sign, CRL Sign" in text
    result = _verify(tmp_path, pem, pem)
    assert result.returncode == 0, result.stderr
    cert = asn1_x509.Certificate.load(ca.certificate_der())
    assert cert.ca and cert.self_signed == "maybe" and cert.key_identifier == cert.authority_key_identifier
    assert cert.basic_constraints_value is not None
    assert {e["extn_id"].native: e["critical"].native for e in cert["tbs_certificate"]["extensions"]} == {
        "basic_constraints": True, "key_usage": True, "key_identifier": False, "authority_key_identifier": False}
    assert 0 < cert.serial_number < 2 ** 159
    assert cert["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    row = PlatformCa.get(PlatformCa.slot == "active")
    key = KeyRecord.get_by_id(row.key_id)
    assert (row.source, key.purpose, key.owner, key.status) == ("generated", "ca", "platform", "active")
    assert [e.action for e in AuditEvent.select()].count("ca.install") == 1


def test_the_root_is_created_once(ctx, make_app):
    first = ctx.extensions["ca"].certificate_pem()
    again = make_app().extensions["ca"]  # another process starting on the same database
    assert again.certificate_pem() == first
    assert PlatformCa.select().count() == 1 and KeyRecord.select().count() == 1


def test_leaf_certificate_passes_openssl(ctx, tmp_path):
    ca = ctx.extensions["ca"]
    key, issued = _issue(ca, subject={"C": "CN", "O": "YiWang", "OU": "云签", "CN": "张三", "serialNumber": "YW-0001"},
                         extended_key_usage=("email_protection",))
    result = _verify(tmp_path, ca.certificate_pem(), issued.pem)
    assert result.returncode == 0 and b"leaf.pem: OK" in result.stdout, result.stderr
    text = _text(tmp_path, issued.pem)
    assert "CA:FALSE" in text and "Digital Signature, Non Repudiation" in text
    assert "E-mail Protection" in text
    assert issued.serial.upper() in text.replace(":", "").upper()
    cert = asn1_x509.Certificate.load(issued.der)
    root = asn1_x509.Certificate.load(ca.certificate_der())
    assert cert.serial_number == int(issued.serial, 16) and 0 < cert.serial_number < 2 ** 159
    assert len(cert["tbs_certificate"]["serial_number"].contents) <= 20
    assert cert.authority_key_identifier == root.key_identifier and cert.key_identifier
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    assert cert["tbs_certificate"]["extensions"][0]["critical"].native is True  # basicConstraints
    assert cert.public_key.dump() == key.public_key().public_bytes_der()
    assert cert.subject.native["common_name"] == "张三" and cert.issuer == root.subject
    assert (issued.not_after - issued.not_before) == timedelta(days=365)
    assert cert.not_valid_before == issued.not_before and cert.not_valid_after == issued.not_after
    row = CertificateRecord.get_by_id(issued.serial)
    assert (row.status, row.pem, row.ca) == ("good", issued.pem, PlatformCa.get().id)
    assert ca.status(issued.serial)["status"] == "good"
    assert ("ca.issue", issued.serial) in {(e.action, e.target) for e in AuditEvent.select()}
    serials = {_issue(ca)[1].serial for _ in range(5)} | {issued.serial}
    assert len(serials) == 6  # random serials


def test_altered_leaf_fails_openssl(ctx, tmp_path):
    ca = ctx.extensions["ca"]
    _, issued = _issue(ca)
    der = bytearray(issued.der)
    der[-5] ^= 0x01  # inside the signature's s
    bad = asn1_pem.armor("CERTIFICATE", bytes(der)).decode()
    assert _verify(tmp_path, ca.certificate_pem(), bad).returncode != 0
    der = bytearray(issued.der)
    der[der.index("u_test".encode())] ^= 0x01  # the subject inside the signed part
    assert _verify(tmp_path, ca.certificate_pem(), asn1_pem.armor("CERTIFICATE", bytes(der))).returncode != 0


@pytest.mark.parametrize("kw", [
    {"key_usage": {"keyCertSign"}}, {"key_usage": set()}, {"key_usage": {"sign"}},
    {"days": 0}, {"days": 20 * 365}, {"subject": {"XX": "bad"}}, {"subject": {}}, {"subject": {"C": "中国"}},
    {"subject": {"C": "CHN"}}, {"subject": {"CN": ""}}, {"subject": {"CN": "x" * 65}},
    {"subject": {"serialNumber": "号"}},
])
def test_invalid_certificate_requests(ctx, kw):
    with pytest.raises(InvalidCertificateRequest):
        _issue(ctx.extensions["ca"], **kw)
    assert CertificateRecord.select().count() == 0


def _crl(tmp_path: Path, der: bytes) -> str:
    return openssl("crl", "-inform", "DER", "-noout", "-text", "-in", _write(tmp_path / "crl.der", der)).stdout.decode()


def _check_crl_signature(tmp_path: Path, der: bytes, ca_der: bytes) -> None:
    """A CRL is signed with the empty SM2 signer ID (x509.CRL_SIGNER_ID: what OpenSSL 3.0's CRL
    check uses); checked with `openssl pkeyutl -verify` without a distid over the tbsCertList, and
    with SM2PublicKey.verify."""
    crl = asn1_crl.CertificateList.load(der)
    tbs, sig = crl["tbs_cert_list"].dump(), crl["signature"].native
    public = SM2PublicKey.from_der(asn1_x509.Certificate.load(ca_der).public_key.dump())
    assert public.verify(sig, tbs, uid=b"")
    pub = _write(tmp_path / "ca-pub.pem", public.public_bytes_pem())
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
                 "-in", _write(tmp_path / "tbs.der", tbs), "-sigfile", _write(tmp_path / "sig.der", sig), check=False)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    bad = bytearray(tbs)
    bad[-3] ^= 1
    assert not public.verify(sig, bytes(bad), uid=b"")


def _verify_with_crl(tmp_path: Path, ca_pem: str, crl_der: bytes, leaf: str) -> subprocess.CompletedProcess:
    crl_pem = _write(tmp_path / "crl.pem", asn1_pem.armor("X509 CRL", crl_der))
    return openssl("verify", "-crl_check", "-CRLfile", crl_pem, "-CAfile", _write(tmp_path / "ca.pem", ca_pem),
                   "-vfyopt", DISTID, _write(tmp_path / "leaf.pem", leaf), check=False)


def test_openssl_verify_checks_the_crl(ctx, tmp_path):
    """Issue 14 item 27: `openssl verify -crl_check` (OpenSSL 3.0) failed with "CRL signature
    failure" for every certificate, because OpenSSL checks a CRL's SM2 signature with an empty
    signer ID and the CRL was signed with the default one. Now a good certificate verifies OK
    and a revoked one is reported revoked, before and after a revocation."""
    ca = ctx.extensions["ca"]
    _, good = _issue(ca)
    _, lost = _issue(ca)
    before = _verify_with_crl(tmp_path, ca.certificate_pem(), ca.current_crl(), lost.pem)
    assert before.returncode == 0 and b": OK" in before.stdout, before.stdout + before.stderr
    ca.revoke(lost.serial, "keyCompromise")
    crl = ca.current_crl()
    ok = _verify_with_crl(tmp_path, ca.certificate_pem(), crl, good.pem)
    assert ok.returncode == 0 and b": OK" in ok.stdout, ok.stdout + ok.stderr
    revoked = _verify_with_crl(tmp_path, ca.certificate_pem(), crl, lost.pem)
    assert revoked.returncode != 0
    assert b"certificate revoked" in revoked.stdout + revoked.stderr
    assert b"CRL signature failure" not in revoked.stdout + revoked.stderr


def test_revocation_and_crl(ctx, tmp_path):
    ca = ctx.extensions["ca"]
    empty = ca.current_crl()
    assert ca.current_crl() == empty  # no change: the stored CRL is served, not re-signed
    text = _crl(tmp_path, empty)
    assert "No Revoked Certificates" in text and "X509v3 CRL Number" in text
    _check_crl_signature(tmp_path, empty, ca.certificate_der())
    _, kept = _issue(ca)
    _, lost = _issue(ca)
    _, old = _issue(ca)
    at = utcnow().replace(microsecond=0) - timedelta(hours=2)
    ca.revoke(lost.serial, "keyCompromise", at=at, actor=("admin", "s_9"))
    ca.revoke(old.serial.upper(), "superseded")
    assert ca.status(lost.serial) == {"status": "revoked", "revoked_at": at, "reason": "keyCompromise",
                                      "not_after": lost.not_after}
    assert ca.status(kept.serial)["status"] == "good"
    assert ca.status("0abc")["status"] == "unknown"
    der = ca.current_crl()
    text = _crl(tmp_path, der)
    assert "Version 2" in text and "Signature Algorithm: SM2-with-SM3" in text
    assert lost.serial.upper() in text and old.serial.upper() in text and kept.serial.upper() not in text
    assert "Key Compromise" in text and "Superseded" in text
    _check_crl_signature(tmp_path, der, ca.certificate_der())
    parsed = asn1_crl.CertificateList.load(der)
    assert parsed.crl_number_value.native == 2 and parsed.authority_key_identifier == \
        asn1_x509.Certificate.load(ca.certificate_der()).key_identifier
    entries = {e["user_certificate"].native: e for e in parsed["tbs_cert_list"]["revoked_certificates"]}
    assert entries[int(lost.serial, 16)]["revocation_date"].native == at
    assert entries[int(lost.serial, 16)].crl_reason_value.native == "key_compromise"
    assert (parsed["tbs_cert_list"]["next_update"].native - parsed["tbs_cert_list"]["this_update"].native
            == timedelta(seconds=ctx.config["CA_CRL_TTL"]))
    assert ca.current_crl() == der
    with pytest.raises(CertificateAlreadyRevoked):
        ca.revoke(lost.serial, "superseded")
    with pytest.raises(InvalidRevocationReason):
        ca.revoke(kept.serial, "key_compromise")
    with pytest.raises(InvalidRevocationReason):
        ca.revoke(kept.serial, "certificateHold")
    with pytest.raises(CertificateNotFound):
        ca.revoke("0abc", "superseded")
    with pytest.raises(CertificateNotFound):
        ca.revoke("not hex", "superseded")
    audit = [e for e in AuditEvent.select() if e.action == "ca.revoke"]
    assert {e.target for e in audit} == {lost.serial, old.serial} and "s_9" in {e.actor_id for e in audit}


def test_a_stored_crl_signed_with_the_default_id_is_reissued(ctx, tmp_path):
    """Issue 14 item 27: a CRL stored before the fix (signed with the default SM2 ID) is not served
    again: the next request re-issues one that `openssl verify -crl_check` accepts."""
    ca = ctx.extensions["ca"]
    _, good = _issue(ca)
    stored = CaCrl.get(CaCrl.number == asn1_crl.CertificateList.load(ca.current_crl()).crl_number_value.native)
    tbs = asn1_crl.CertificateList.load(bytes(stored.der))["tbs_cert_list"]
    key_id = PlatformCa.get(PlatformCa.slot == "active").key_id
    old = x509.assemble_crl(tbs, ctx.extensions["keystore"].sign(key_id, tbs.dump())).dump()
    CaCrl.update(der=old).where(CaCrl.id == stored.id).execute()
    fresh = ca.current_crl()
    assert asn1_crl.CertificateList.load(fresh).crl_number_value.native == stored.number + 1
    ok = _verify_with_crl(tmp_path, ca.certificate_pem(), fresh, good.pem)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_crl_is_reissued_when_half_its_validity_passed(make_app, crypto_environ):
    app = make_app(CA_CRL_TTL=2)
    with app.app_context():
        ca = app.extensions["ca"]
        first = asn1_crl.CertificateList.load(ca.current_crl())
        with time_machine.travel(utcnow() + timedelta(seconds=1.1)):  # past half of the 2 s validity
            second = asn1_crl.CertificateList.load(ca.current_crl())
        assert second.crl_number_value.native == first.crl_number_value.native + 1


def test_cli(ctx, tmp_path):
    runner = ctx.test_cli_runner()
    shown = runner.invoke(args=["ca", "show"])
    assert shown.exit_code == 0 and shown.stdout == ctx.extensions["ca"].certificate_pem()
    out = tmp_path / "crl.der"
    result = runner.invoke(args=["ca", "crl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == ctx.extensions["ca"].current_crl()
    assert runner.invoke(args=["ca", "crl", "--out", str(tmp_path / "crl.pem"), "--pem"]).exit_code == 0
    assert "BEGIN X509 CRL" in (tmp_path / "crl.pem").read_text()
    rewrap = runner.invoke(args=["keys", "rewrap"])
    assert rewrap.exit_code == 0 and "rewrapped 0 key(s)" in rewrap.output and "kek-1: 1" in rewrap.output


# --- Production ----------------------------------------------------------------------------------

def test_production_requires_crypto_secrets(base_config, crypto_environ, tmp_path):
    settings = production_settings(tmp_path)
    for missing in ("KEYSTORE_KEKS", "PLATFORM_CA_CERT", "PLATFORM_CA_KEY"):
        with pytest.raises(ConfigError) as info:
            create_app({**base_config, **settings, missing: ""})
        assert missing in str(info.value)


def test_production_refuses_a_bad_ca(base_config, crypto_environ, tmp_path):
    settings = production_settings(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = make_openssl_ca(tmp_path / "other")
    for bad in ({"PLATFORM_CA_KEY": other_key}, {"PLATFORM_CA_CERT": "not a certificate"},
                {"PLATFORM_CA_KEY": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
                {"KEYSTORE_KEKS": "k1:short"}):
        with pytest.raises(ConfigError):
            create_app({**base_config, **settings, **bad})


def test_production_imports_the_configured_ca(make_app, crypto_environ, tmp_path):
    settings = production_settings(tmp_path)
    app = make_app(**settings)
    with app.app_context():
        ca = app.extensions["ca"]
        assert asn1_x509.Certificate.load(ca.certificate_der()).dump() == \
            asn1_x509.Certificate.load(asn1_pem.unarmor(settings["PLATFORM_CA_CERT"].encode())[2]).dump()
        _, issued = _issue(ca)
        result = _verify(tmp_path, settings["PLATFORM_CA_CERT"], issued.pem)
        assert result.returncode == 0, result.stderr
        row = PlatformCa.get(PlatformCa.slot == "active")
        key = KeyRecord.get_by_id(row.key_id)
        assert (row.source, key.purpose, key.kek_id) == ("configured", "ca", "prod-1")
        configured_key = SM2PrivateKey.from_pem(settings["PLATFORM_CA_KEY"])
        assert bytes(key.public_key_der) == configured_key.public_key().public_bytes_der()
        _check_crl_signature(tmp_path, ca.current_crl(), ca.certificate_der())
    again = make_app(**settings).extensions["ca"]  # restart: nothing imported twice
    with app.app_context():
        assert again.certificate_der() == ca.certificate_der()
        assert KeyRecord.select().count() == 1 and PlatformCa.select().count() == 1
    assert not (tmp_path / "var" / "keys").exists()  # no development key material in production


def test_production_ca_renewal_and_replacement(make_app, crypto_environ, tmp_path):
    settings = production_settings(tmp_path)
    app = make_app(**settings)
    with app.app_context():
        app.extensions["ca"].certificate_der()  # first use imports the configured CA
        first_key = KeyRecord.get().id
    # renewed certificate, same key: the key stays in use
    key_file = _write(tmp_path / "same.key", settings["PLATFORM_CA_KEY"])
    renewed = openssl("req", "-new", "-x509", "-key", key_file, "-sm3", "-sigopt", DISTID, "-subj", "/CN=Test CA",
                      "-days", "3650").stdout.decode()
    app = make_app(**{**settings, "PLATFORM_CA_CERT": renewed})
    with app.app_context():
        _, issued = _issue(app.extensions["ca"])
        assert _verify(tmp_path, renewed, issued.pem).returncode == 0
        assert PlatformCa.get(PlatformCa.slot == "active").key_id == first_key
        assert KeyRecord.get_by_id(first_key).status == "active" and PlatformCa.select().count() == 2
    # another CA altogether: the old CA key is disabled
    (tmp_path / "new").mkdir()
    cert, key = make_openssl_ca(tmp_path / "new", cn="Next CA")
    app = make_app(**{**settings, "PLATFORM_CA_CERT": cert, "PLATFORM_CA_KEY": key})
    with app.app_context():
        _, issued = _issue(app.extensions["ca"])
        assert _verify(tmp_path, cert, issued.pem).returncode == 0
        assert KeyRecord.get_by_id(first_key).status == "disabled"
        assert PlatformCa.get(PlatformCa.slot == "active").key_id != first_key
