"""The database: one peewee proxy, a connection per request, versioned migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign
keys on; PostgreSQL uses peewee's pooled database class.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee as pw
from flask import Flask, request
from playhouse.pool import PooledPostgresqlDatabase

from app.errors import ServiceUnavailable

log = logging.getLogger(__name__)

db = pw.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware now; stored as UTC."""
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    """Opaque identifier, e.g. `u_3f9c…` (96 random bits)."""
    return f"{prefix}_{secrets.token_hex(12)}"


class UTCDateTimeField(pw.DateTimeField):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    field_type = "TIMESTAMP"

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


def make_database(url: str, pool_size: int = 20) -> pw.Database:
    """Database from a URL: `sqlite:///path` or `postgresql://user@host:port/name`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("//") else parsed.path)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = url[len("sqlite:///"):]
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return pw.SqliteDatabase(
            path,
            timeout=10,
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1, "synchronous": "normal"},
        )
    if parsed.scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
        )
    raise ValueError(f"unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def init_db(app: Flask) -> None:
    """Bind the proxy and open/close a connection around each request (FlaskDB pattern)."""
    db.initialize(make_database(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"]))

    @app.before_request
    def _connect() -> None:
        if request.endpoint and request.endpoint.startswith("health."):
            return  # probes open (or fail to open) their own connection
        try:
            db.connect(reuse_if_open=True)
        except pw.OperationalError as exc:
            log.error("database unreachable", extra={"error": type(exc).__name__})
            raise ServiceUnavailable("数据库暂时不可用，请稍后再试。", code="database_unavailable") from exc

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()


def migrate(fake: bool = False) -> list[str]:
    """Apply pending migrations from `migrations/`; returns their names."""
    from peewee_migrate import Router

    with db.connection_context():
        router = Router(db, migrate_dir=str(MIGRATIONS_DIR), logger=log)
        pending = router.diff
        if pending:
            router.run(fake=fake)
        return pending
