"""Fixtures for the key store and CA tests: the `openssl` CLI, an openssl-made SM2 CA, and the
production settings that include the crypto secrets.

`production_crypto_secrets(tmp_path)` is importable (`from tests.crypto.conftest import …`) by
other suites that start the app in production."""
from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DISTID = "distid:1234567812345678"
CRYPTO_SECRETS = ("KEYSTORE_KEKS", "PLATFORM_CA_CERT", "PLATFORM_CA_KEY")


def openssl(*args: str, check: bool = True, data: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the openssl CLI; returns the completed process (text output)."""
    result = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=30)
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
    return result


def make_openssl_ca(directory: Path, cn: str = "Test CA") -> tuple[str, str]:
    """An SM2 root made by openssl alone: (certificate PEM, PKCS#8 key PEM)."""
    key, cert = directory / "ca.key", directory / "ca.pem"
    openssl("genpkey", "-algorithm", "SM2", "-out", str(key))
    openssl("req", "-new", "-x509", "-key", str(key), "-sm3", "-sigopt", DISTID, "-subj", f"/CN={cn}",
            "-days", "3650", "-out", str(cert))
    return cert.read_text(), key.read_text()


def new_kek(kid: str) -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(16)).decode()}"


def production_crypto_secrets(directory: Path) -> dict[str, str]:
    """KEYSTORE_KEKS, an openssl-made PLATFORM_CA_CERT / PLATFORM_CA_KEY and the PKI_BASE_URL its
    certificates name."""
    cert, key = make_openssl_ca(directory)
    return {"KEYSTORE_KEKS": new_kek("prod-1"), "PLATFORM_CA_CERT": cert, "PLATFORM_CA_KEY": key,
            "PKI_BASE_URL": "https://pki.yiwang.example.gov.cn"}


def production_settings(directory: Path) -> dict[str, str]:
    """Every secret production needs (same shape as tests/test_platform.py), crypto included."""
    jwt = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode()
    return {
        "APP_ENV": "production", "VAR_DIR": str(directory / "var"),
        "JWT_SIGNING_KEY": jwt, "DATA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SMS_ACCESS_KEY_ID": "LTAI5tPROD", "SMS_ACCESS_KEY_SECRET": "prod-secret",
        "SMS_SIGN_NAME": "易网", "SMS_TEMPLATE_CODE": "SMS_200001",
        "REGISTRY_URL": "http://127.0.0.1:1", "REGISTRY_APP_ID": "yiwang", "REGISTRY_APP_SECRET": "reg-secret",
        "BIZREG_URL": "http://127.0.0.1:1", "BIZREG_APP_ID": "yiwang", "BIZREG_APP_SECRET": "bizreg-secret",
        "WECHAT_APPID": "wxprod0123456789", "WECHAT_SECRET": "wx-prod-secret",
        **production_crypto_secrets(directory),
    }


@pytest.fixture
def crypto_environ(monkeypatch):
    """No crypto or environment setting leaks in from the developer's shell."""
    for key in CRYPTO_SECRETS + ("APP_ENV", "CA_CRL_TTL", "SMS_BACKEND", "REGISTRY_BACKEND", "BIZREG_BACKEND", "WECHAT_BACKEND",
                                 "LIVENESS_BACKEND", "JWT_SIGNING_KEY", "DATA_ENCRYPTION_KEY"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def ctx(crypto_environ, app):
    """The default (testing) app, inside an app context."""
    with app.app_context():
        yield app
