"""Production refuses the development push channel and channels without their credentials."""
from __future__ import annotations

import pytest

from app.config import ConfigError, check_config, load_settings


def _production(**overrides) -> dict:
    base = {"APP_ENV": "production", "JWT_SIGNING_KEY": "k", "DATA_ENCRYPTION_KEY": "k", "KEYSTORE_KEKS": "k",
            "PLATFORM_CA_CERT": "c", "PLATFORM_CA_KEY": "k", "SMS_ACCESS_KEY_ID": "i", "SMS_ACCESS_KEY_SECRET": "s",
            "SMS_SIGN_NAME": "n", "SMS_TEMPLATE_CODE": "t", "REGISTRY_URL": "u", "REGISTRY_APP_ID": "a",
            "REGISTRY_APP_SECRET": "s", "BIZREG_URL": "u", "BIZREG_APP_ID": "a", "BIZREG_APP_SECRET": "s",
            "WECHAT_APPID": "wx", "WECHAT_SECRET": "s",
            "PKI_BASE_URL": "https://pki.example.gov.cn"}
    return load_settings({**base, **overrides}, environ={})


def test_production_refuses_the_log_push_channel():
    with pytest.raises(ConfigError, match="PUSH_BACKEND"):
        check_config(_production(PUSH_BACKEND="log", PUSH_CHANNELS=""))


def test_production_names_the_missing_push_credentials():
    with pytest.raises(ConfigError) as refused:
        check_config(_production(PUSH_CHANNELS="apns,jpush"))
    assert "APNS_PRIVATE_KEY" in str(refused.value) and "JPUSH_MASTER_SECRET" in str(refused.value)
    assert "FCM_SERVICE_ACCOUNT" not in str(refused.value)


def test_production_with_push_credentials_starts():
    check_config(_production(PUSH_CHANNELS="apns", APNS_TEAM_ID="T", APNS_KEY_ID="K", APNS_PRIVATE_KEY="pem",
                             APNS_TOPIC="cn.gov.yiwang"))
