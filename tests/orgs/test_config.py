"""BIZREG_* settings: production never uses the development business registry, and needs the gateway's
credentials; development and tests default to the dev table."""
from __future__ import annotations

import pytest

from app.config import ConfigError, check_config, load_settings
from orgs.adapters.bizreg import DevBusinessRegistry, HttpBusinessRegistry


def _production(**overrides):
    return load_settings({"APP_ENV": "production", **overrides}, environ={})


def test_production_refuses_the_dev_registry():
    with pytest.raises(ConfigError) as info:
        check_config(_production(BIZREG_BACKEND="dev"))
    assert "BIZREG_BACKEND=dev is a development adapter" in str(info.value)


def test_production_defaults_to_http_and_names_its_secrets():
    settings = _production()
    assert settings["BIZREG_BACKEND"] == "http"
    with pytest.raises(ConfigError) as info:
        check_config(settings)
    for key in ("BIZREG_URL", "BIZREG_APP_ID", "BIZREG_APP_SECRET"):
        assert f"{key} is not set" in str(info.value)


def test_testing_uses_the_dev_table(app):
    assert app.config["BIZREG_BACKEND"] == "dev" and isinstance(app.extensions["orgs_bizreg"], DevBusinessRegistry)


def test_http_backend_is_built_from_the_settings(make_app):
    app = make_app(BIZREG_BACKEND="http", BIZREG_URL="http://127.0.0.1:9/gw", BIZREG_APP_ID="a", BIZREG_APP_SECRET="s")
    registry = app.extensions["orgs_bizreg"]
    assert isinstance(registry, HttpBusinessRegistry) and registry.base_url == "http://127.0.0.1:9/gw"
