"""Interoperability with the OpenSSL 3 CLI (skipped where `openssl` is absent)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.crypto.sm2 import DEFAULT_ID, SM2PrivateKey, SM2PublicKey
from tests.crypto.vectors import BACKENDS, CUSTOM_UID

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
UIDS = [DEFAULT_ID, CUSTOM_UID]


def _openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([OPENSSL, *map(str, args)], input=stdin, capture_output=True, timeout=30, check=False)


def _distid(uid: bytes) -> str:
    return f"distid:{uid.decode()}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("uid", UIDS)
def test_openssl_verifies_our_signatures(backend: str, uid: bytes, tmp_path: Path) -> None:
    key = SM2PrivateKey.generate(backend)
    (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes_pem())
    for i, msg in enumerate([b"", b"message digest", bytes(range(256)) * 40]):
        (tmp_path / "msg").write_bytes(msg)
        (tmp_path / "sig.der").write_bytes(key.sign(msg, uid=uid))
        res = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin", "-digest", "sm3",
                       "-pkeyopt", _distid(uid), "-in", tmp_path / "msg", "-sigfile", tmp_path / "sig.der")
        assert res.returncode == 0 and b"Verified Successfully" in res.stdout, (i, res.stderr)
        other = CUSTOM_UID if uid == DEFAULT_ID else DEFAULT_ID
        res = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin", "-digest", "sm3",
                       "-pkeyopt", _distid(other), "-in", tmp_path / "msg", "-sigfile", tmp_path / "sig.der")
        assert res.returncode != 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("uid", UIDS)
def test_we_verify_openssl_signatures(backend: str, uid: bytes, tmp_path: Path) -> None:
    key_pem = tmp_path / "key.pem"
    assert _openssl("genpkey", "-algorithm", "SM2", "-out", key_pem).returncode == 0
    pub = SM2PrivateKey.from_pem(key_pem.read_bytes(), backend).public_key()
    for msg in (b"", b"hello from openssl", b"x" * 5000):
        (tmp_path / "msg").write_bytes(msg)
        res = _openssl("pkeyutl", "-sign", "-inkey", key_pem, "-rawin", "-digest", "sm3",
                       "-pkeyopt", _distid(uid), "-in", tmp_path / "msg")
        assert res.returncode == 0, res.stderr
        assert pub.verify(res.stdout, msg, uid=uid)
        assert not pub.verify(res.stdout, msg + b".", uid=uid)


@pytest.mark.parametrize("backend", BACKENDS)
def test_openssl_keys_load_and_match(backend: str, tmp_path: Path) -> None:
    key_pem = tmp_path / "key.pem"
    assert _openssl("genpkey", "-algorithm", "SM2", "-out", key_pem).returncode == 0
    key = SM2PrivateKey.from_pem(key_pem.read_bytes(), backend)
    assert key.private_bytes_pem() == key_pem.read_bytes()  # byte-identical PKCS#8
    pub_pem = _openssl("pkey", "-in", key_pem, "-pubout").stdout
    assert SM2PublicKey.from_pem(pub_pem, backend) == key.public_key()
    assert key.public_key().public_bytes_pem() == pub_pem
    sec1 = _openssl("ec", "-in", key_pem).stdout  # OpenSSL 3.0 labels it "SM2 PRIVATE KEY"
    assert SM2PrivateKey.from_pem(sec1, backend).private_scalar() == key.private_scalar()


@pytest.mark.parametrize("backend", BACKENDS)
def test_openssl_reads_our_keys(backend: str, tmp_path: Path) -> None:
    key = SM2PrivateKey.generate(backend)
    (tmp_path / "key.pem").write_bytes(key.private_bytes_pem())
    (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes_pem())
    res = _openssl("pkey", "-in", tmp_path / "key.pem")
    assert res.returncode == 0 and res.stdout == key.private_bytes_pem()
    res = _openssl("pkey", "-in", tmp_path / "key.pem", "-pubout")
    assert res.returncode == 0 and res.stdout == key.public_key().public_bytes_pem()
    res = _openssl("pkey", "-pubin", "-in", tmp_path / "pub.pem", "-text", "-noout")
    assert res.returncode == 0 and b"SM2" in res.stdout
    (tmp_path / "msg").write_bytes(b"round trip")
    res = _openssl("pkeyutl", "-sign", "-inkey", tmp_path / "key.pem", "-rawin", "-digest", "sm3",
                   "-pkeyopt", _distid(DEFAULT_ID), "-in", tmp_path / "msg")
    assert res.returncode == 0 and key.public_key().verify(res.stdout, b"round trip")
