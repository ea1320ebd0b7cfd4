"""Production start-up: required secrets named, development adapters and routes refused."""
from __future__ import annotations

import base64
import secrets
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import create_app
from app.config import ConfigError
from tests.crypto.conftest import production_crypto_secrets
from tests.helpers import assert_problem

PRODUCTION_SECRETS = (
    "JWT_SIGNING_KEY", "DATA_ENCRYPTION_KEY",
    "SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE",
    "REGISTRY_URL", "REGISTRY_APP_ID", "REGISTRY_APP_SECRET",
    "WECHAT_APPID", "WECHAT_SECRET",
    "BIZREG_URL", "BIZREG_APP_ID", "BIZREG_APP_SECRET",
    "KEYSTORE_KEKS", "PLATFORM_CA_CERT", "PLATFORM_CA_KEY",
)


# --- Production start-up -----------------------------------------------------------------------

def _jwt_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _production_secrets() -> dict:
    return {
        "JWT_SIGNING_KEY": _jwt_pem(),
        "DATA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SMS_ACCESS_KEY_ID": "LTAI5tPROD", "SMS_ACCESS_KEY_SECRET": "prod-secret",
        "SMS_SIGN_NAME": "易网", "SMS_TEMPLATE_CODE": "SMS_200001",
        "REGISTRY_URL": "http://127.0.0.1:1", "REGISTRY_APP_ID": "yiwang", "REGISTRY_APP_SECRET": "reg-secret",
        "WECHAT_APPID": "wxprod0123456789", "WECHAT_SECRET": "wx-prod-secret",
        "BIZREG_URL": "http://127.0.0.1:1", "BIZREG_APP_ID": "yiwang", "BIZREG_APP_SECRET": "bizreg-secret",
        **production_crypto_secrets(Path(tempfile.mkdtemp(prefix="yiwang-ca-"))),
    }


@pytest.fixture
def clean_environ(monkeypatch):
    for key in PRODUCTION_SECRETS + ("APP_ENV", "SMS_BACKEND", "REGISTRY_BACKEND", "WECHAT_BACKEND",
                                     "LIVENESS_BACKEND", "BIZREG_BACKEND"):
        monkeypatch.delenv(key, raising=False)


def test_production_refuses_to_start_without_secrets(base_config, clean_environ):
    with pytest.raises(ConfigError) as info:
        create_app({**base_config, "APP_ENV": "production"})
    message = str(info.value)
    for key in PRODUCTION_SECRETS:
        assert key in message, key


def test_production_names_exactly_what_is_missing(base_config, clean_environ):
    config = {**base_config, **_production_secrets(), "APP_ENV": "production"}
    del config["WECHAT_SECRET"]
    with pytest.raises(ConfigError) as info:
        create_app(config)
    assert "WECHAT_SECRET" in str(info.value)
    assert "JWT_SIGNING_KEY" not in str(info.value) and "SMS_ACCESS_KEY_ID" not in str(info.value)


def test_production_refuses_development_adapters(base_config, clean_environ):
    config = {**base_config, **_production_secrets(), "APP_ENV": "production", "SMS_BACKEND": "outbox"}
    with pytest.raises(ConfigError) as info:
        create_app(config)
    assert "SMS_BACKEND" in str(info.value)


def test_production_starts_without_dev_routes(make_app, clean_environ, tmp_path):
    app = make_app(APP_ENV="production", VAR_DIR=str(tmp_path), **_production_secrets())
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert_problem(client.get("/api/v1/dev/sms-outbox?phone=13800138000"), 404, "not_found")
    assert_problem(client.post("/api/v1/dev/liveness/lv_x/complete", json={"passed": True}), 404, "not_found")
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not any(p.startswith("/api/v1/dev/") for p in paths)
    assert not (tmp_path / "keys").exists()  # no development key material generated
    assert_problem(client.get("/api/v1/me"), 401, "unauthorized")
