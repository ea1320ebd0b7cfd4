"""`flask doctor`: the table, and exit status 1 on what would stop a production start."""
from __future__ import annotations

import peewee as pw
import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from app import create_app
from app.config import DEFAULTS
from app.db import db
from tests.crypto.conftest import production_settings


def test_healthy_test_installation_passes(runner):
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("config", "keys", "database", "redis", "migrations", "audit chain", "notify outbox"):
        assert name in result.output
    assert "FAIL" not in result.output
    assert "all applied" in result.output
    # Testing settings use development adapters: reported as what production would refuse, not fatal.
    assert "WARN" in result.output and "production would refuse" in result.output


def test_production_without_secrets_fails_and_names_them(make_app):
    app = make_app()
    app.config.update(APP_ENV="production", DATA_ENCRYPTION_KEY="", SMS_BACKEND="outbox")
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "JWT_SIGNING_KEY" in result.output and "SMS_BACKEND" in result.output
    assert "failed: config" in result.output
    # each problem on a line of its own under the check (issue 14 item 26)
    assert "- DATA_ENCRYPTION_KEY is not set (a secret production needs)" in result.output
    assert "- SMS_BACKEND=outbox is a development adapter" in result.output


def test_unloadable_key_fails(make_app):
    app = make_app()
    app.config["DATA_ENCRYPTION_KEY"] = "c2hvcnQ="  # base64 of 5 bytes
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "keys" in result.output and "32 bytes" in result.output


def test_pending_migration_is_reported(runner, app):
    with app.app_context(), db.connection_context():
        db.execute_sql("DELETE FROM migratehistory WHERE name = '013_audit_chain'")
    try:
        result = runner.invoke(args=["doctor"])
    finally:
        with app.app_context(), db.connection_context():
            db.execute_sql("INSERT INTO migratehistory (name, migrated_at) VALUES ('013_audit_chain', CURRENT_TIMESTAMP)")
    assert result.exit_code == 1
    assert "013_audit_chain" in result.output


def test_unreachable_redis_and_database_fail(make_app, monkeypatch):
    app = make_app()

    def refuse(*args, **kwargs):
        raise ConnectionError("refused")

    monkeypatch.setattr(app.extensions["redis"], "ping", refuse)
    monkeypatch.setattr(db.obj, "execute_sql", lambda *a, **k: (_ for _ in ()).throw(pw.OperationalError("down")))
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "unreachable: ConnectionError" in result.output and "unreachable: OperationalError" in result.output
    assert "migrations" not in result.output  # skipped without a database


# --- a production configuration so wrong that the app cannot be built --------------------------

PRODUCTION_SECRETS = ("JWT_SIGNING_KEY", "DATA_ENCRYPTION_KEY", "KEYSTORE_KEKS", "PLATFORM_CA_CERT", "PLATFORM_CA_KEY",
                      "SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE",
                      "REGISTRY_URL", "REGISTRY_APP_ID", "REGISTRY_APP_SECRET", "BIZREG_URL", "BIZREG_APP_ID",
                      "BIZREG_APP_SECRET", "WECHAT_APPID", "WECHAT_SECRET")


@pytest.fixture
def flask_doctor(monkeypatch, base_config):
    """`flask --app wsgi doctor` as an operator runs it: the app built from the environment
    (FlaskGroup → create_app()), the given variables set and nothing else leaking in."""
    def run(**environ: str):
        for key in DEFAULTS:
            monkeypatch.delenv(key, raising=False)
        for key in ("VAR_DIR", "DATABASE_URL", "REDIS_URL"):
            monkeypatch.setenv(key, base_config[key] or "")
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        return CliRunner().invoke(FlaskGroup(create_app=create_app), ["doctor"])

    return run


def _listed(output: str) -> list[str]:
    return [line.strip()[2:] for line in output.splitlines() if line.startswith("  - ")]


def test_production_configuration_errors_are_listed_without_a_traceback(flask_doctor):
    """Issue 14 item 26: `flask doctor` on a production configuration error printed a Python
    traceback (the app could not be built). Now: exit status 1 and every problem on its own line."""
    result = flask_doctor(APP_ENV="production", SMS_BACKEND="outbox")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "ConfigError" not in result.output
    assert "refusing to start in production" in result.output
    listed = _listed(result.output)
    for key in set(PRODUCTION_SECRETS) - {"SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME",
                                          "SMS_TEMPLATE_CODE"}:
        assert f"{key} is not set (a secret production needs)" in listed, key
    assert "SMS_BACKEND=outbox is a development adapter" in listed


def test_unreadable_setting_values_are_listed_without_echoing_them(flask_doctor):
    """Issue 14 item 26: a value of the wrong type (int("…") in load_settings) was a traceback too."""
    result = flask_doctor(APP_ENV="staging", ACCESS_TOKEN_TTL="fifteen-minutes", DB_POOL_SIZE="x")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert set(_listed(result.output)) == {"ACCESS_TOKEN_TTL must be an integer", "DB_POOL_SIZE must be an integer",
                                           "APP_ENV must be one of development, production, testing, not 'staging'"}
    assert "fifteen-minutes" not in result.output


def test_a_malformed_key_is_named_without_a_traceback(flask_doctor, tmp_path):
    """Issue 14 item 26: a production key that does not parse is named, its value never shown."""
    settings = production_settings(tmp_path)
    settings["DATA_ENCRYPTION_KEY"] = "c2hvcnQ="  # base64 of 5 bytes
    result = flask_doctor(**{k: v for k, v in settings.items() if k != "VAR_DIR"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "DATA_ENCRYPTION_KEY must be base64 of 32 bytes" in result.output
    assert "c2hvcnQ=" not in result.output and "PRIVATE KEY" not in result.output
