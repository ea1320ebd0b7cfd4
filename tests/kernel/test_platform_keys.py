"""Platform signing keys (app/crypto/platform_keys.py): created on first use with a certificate from
the platform CA, signatures the openssl CLI verifies, rotation keeps the old key findable, the CLI."""
from __future__ import annotations

import base64
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from asn1crypto import x509 as asn1_x509

from app.crypto import platform_keys
from app.crypto.keystore_models import KeyRecord
from app.crypto.sm3 import sm3_hex
from app.db import utcnow

DISTID = "distid:1234567812345678"


def openssl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["openssl", *args], capture_output=True, timeout=30)
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _files(tmp_path: Path, ctx, key, data: bytes, signature: bytes) -> dict[str, str]:
    paths = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "cert.pem", "msg": tmp_path / "msg",
             "sig": tmp_path / "sig.der"}
    paths["ca"].write_text(ctx.extensions["ca"].certificate_pem())
    paths["cert"].write_text(key.certificate_pem)
    paths["msg"].write_bytes(data)
    paths["sig"].write_bytes(signature)
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.parametrize("purpose", platform_keys.PURPOSES)
def test_openssl_verifies_the_certificate_and_a_signature(ctx, tmp_path, purpose):
    data = "信任列表 payload {\"a\":1}".encode()
    kid, signature = platform_keys.sign(purpose, data)
    key = platform_keys.current(purpose)
    assert kid == key.kid == sm3_hex(key.public_key_der())[:16]
    f = _files(tmp_path, ctx, key, data, signature)
    # the certificate chains to the platform CA, for digital signatures only
    assert openssl("verify", "-vfyopt", DISTID, "-CAfile", f["ca"], f["cert"]).stdout.strip().endswith(b"OK")
    text = openssl("x509", "-noout", "-text", "-in", f["cert"]).stdout.decode()
    assert "Digital Signature" in text and "Certificate Sign" not in text and f"OU = {purpose}" in text
    # the signature, with the standard signer ID, from the certificate alone
    openssl("x509", "-pubkey", "-noout", "-in", f["cert"], "-out", str(tmp_path / "pub.pem"))
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                 "-pkeyopt", DISTID, "-in", f["msg"], "-sigfile", f["sig"])
    assert b"Signature Verified Successfully" in ok.stdout
    ok = openssl("dgst", "-sm3", "-verify", str(tmp_path / "pub.pem"), "-sigopt", DISTID, "-signature", f["sig"],
                 f["msg"])
    assert b"Verified OK" in ok.stdout
    # a changed byte is refused by the same command
    Path(f["msg"]).write_bytes(data + b" ")
    bad = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                  "-pkeyopt", DISTID, "-in", f["msg"], "-sigfile", f["sig"], check=False)
    assert bad.returncode != 0


def test_one_key_per_purpose_created_once(ctx):
    first = {p: platform_keys.current(p).kid for p in platform_keys.PURPOSES}
    assert len(set(first.values())) == len(platform_keys.PURPOSES)
    assert {p: platform_keys.current(p).kid for p in platform_keys.PURPOSES} == first
    rows = KeyRecord.select().where(KeyRecord.owner == "platform", KeyRecord.purpose.startswith("platform-"))
    assert sorted(r.purpose for r in rows) == sorted(f"platform-{p}" for p in platform_keys.PURPOSES)
    with pytest.raises(ValueError):
        platform_keys.current("everything")


def test_rotation_keeps_the_old_key_verifiable(ctx):
    kid_old, sig_old = platform_keys.sign("presentation", b"old")
    new = platform_keys.rotate("presentation")
    assert new.kid != kid_old
    kid_new, _ = platform_keys.sign("presentation", b"new")
    assert kid_new == new.kid
    old = platform_keys.by_kid(kid_old)
    assert old is not None and old.status == "retired" and old.public_key.verify(sig_old, b"old")
    assert not old.public_key.verify(sig_old, b"olD")
    published = {k["kid"]: k for k in platform_keys.published() if k["purpose"] == "presentation"}
    assert published[kid_old]["status"] == "retired" and published[kid_new]["status"] == "active"
    assert base64.b64decode(published[kid_new]["public_key"]) == new.public_key_der()
    assert published[kid_new]["not_after"].endswith("+08:00")
    assert platform_keys.by_kid("0" * 16) is None and platform_keys.by_kid("short") is None


def test_a_retired_key_disappears_when_its_certificate_expires(ctx):
    old = platform_keys.current("disclosure")
    platform_keys.rotate("disclosure")
    with time_machine.travel(old.not_after + timedelta(seconds=5), tick=False):
        assert platform_keys.by_kid(old.kid) is None
        assert old.kid not in {k["kid"] for k in platform_keys.published()}
        # the current key's certificate expired at the same moment or later: a fresh one on use
        fresh = platform_keys.current("disclosure")
        assert fresh.not_after > utcnow()


def test_the_certificate_names_the_purpose_and_expires_before_the_ca(ctx):
    key = platform_keys.current("trust-list")
    cert = asn1_x509.Certificate.load(key.certificate_der)
    ca = asn1_x509.Certificate.load(ctx.extensions["ca"].certificate_der())
    assert cert.issuer == ca.subject and not cert.ca
    assert cert.subject.native["organizational_unit_name"] == "trust-list"
    assert cert.not_valid_after <= ca.not_valid_after
    assert cert.key_usage_value.native == {"digital_signature"}


def test_cli_rotate_platform(app, runner):
    with app.app_context():
        before = platform_keys.current("trust-list").kid
    result = runner.invoke(args=["keys", "rotate-platform", "trust-list"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after = platform_keys.current("trust-list").kid
        assert after != before and after in result.output
        assert platform_keys.by_kid(before).status == "retired"
    assert runner.invoke(args=["keys", "rotate-platform", "nonsense"]).exit_code != 0
