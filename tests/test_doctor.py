"""`flask doctor`: the table, and exit status 1 on what would stop a production start."""
from __future__ import annotations

import peewee as pw

from app.db import db


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
