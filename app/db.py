"""The database: one peewee proxy, a connection per request, versioned migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, foreign
keys on and immediate (write-locking) transactions; PostgreSQL uses peewee's pooled database class.
"""
from __future__ import annotations

import base64
import fcntl
import functools
import logging
import os
import secrets
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import unquote, urlparse

import peewee as pw
from flask import Flask, request
from peewee_migrate import Router
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from app.errors import BACKEND_RETRY_AFTER, ServiceUnavailable
from app.i18n import N_

log = logging.getLogger(__name__)

db = pw.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware now; stored as UTC."""
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    """Opaque identifier, e.g. `u_k3xq…` (120 random bits, lowercase base32).

    Not hex: one hex id in a thousand holds an 11-digit run starting 13–19, which log masking
    takes for a phone number, so the id is mangled in the logs (and trips the tests' log scan).
    """
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(15)).decode().lower()}"


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


class QueuedWriterSqliteDatabase(PooledSqliteDatabase):
    """SQLite admits one writer at a time, and a writer that finds the lock taken polls for it,
    sleeping 1–100 ms between tries (its busy handler). Here writers of every process on the file
    queue on an flock(2) of `<file>.writers` instead, and wake the moment the writer ahead commits."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._queue_path = f"{database}.writers"
        self._queue_fd: int | None = None
        self._queue_pid = 0
        self._thread_lock = threading.Lock()
        self._held = threading.local()

    def _queue_file(self) -> int:
        if self._queue_pid != os.getpid():  # after fork: a lock on an inherited fd would be shared
            self._queue_fd = os.open(self._queue_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._queue_pid = os.getpid()
        return self._queue_fd

    def begin(self, lock_type=None):
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._queue_file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        self._held.value = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if getattr(self._held, "value", False):
            self._held.value = False
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)
            self._thread_lock.release()

    def commit(self):
        try:
            return super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._release()


def make_database(url: str, pool_size: int = 20) -> pw.Database:
    """Database from a URL: `sqlite:///path` or `postgresql://user@host:port/name`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("//") else parsed.path)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = url[len("sqlite:///"):]
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # BEGIN IMMEDIATE: a transaction that reads and then writes (claim a refresh token, count a
        # failed login) takes the write lock up front and waits its turn; a deferred BEGIN fails at
        # once with "database is locked" when another writer committed after its first read.
        # Pooled: a request returns its connection instead of closing it, which saves reopening,
        # re-running the pragmas and the WAL checkpoint SQLite does when its last connection closes.
        return QueuedWriterSqliteDatabase(
            path,
            max_connections=pool_size,
            stale_timeout=600,
            timeout=10,
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1, "synchronous": "normal"},
            lock_type="IMMEDIATE",
            # A pooled connection is handed to whichever thread asks next (threaded workers, tests);
            # peewee keeps one connection per thread at a time, so sharing across threads is safe.
            check_same_thread=False,
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
            # A host that silently drops packets must not hold a request until gunicorn's 30 s
            # timeout: give up connecting after 5 s, and notice a dead peer mid-query by keepalives.
            connect_timeout=5, keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
        )
    raise ValueError(f"unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def init_db(app: Flask) -> None:
    """Bind the proxy and open/close a connection around each request (FlaskDB pattern)."""
    db.initialize(make_database(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"]))

    @app.before_request
    def _connect() -> None:
        endpoint = request.endpoint
        if endpoint and endpoint.startswith("health."):
            return  # probes open (or fail to open) their own connection
        try:
            db.obj.connect(reuse_if_open=True)  # the proxied database itself: one attribute lookup less
        except pw.OperationalError as exc:
            log.error("database unreachable", extra={"error": type(exc).__name__})
            raise ServiceUnavailable(N_("数据库暂时不可用，请稍后再试。"), code="database_unavailable",
                                     headers={"Retry-After": str(BACKEND_RETRY_AFTER)}) from exc

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        database = db.obj
        if not database.is_closed():
            database.close()


def migrate(fake: bool = False) -> list[str]:
    """Apply pending migrations from `migrations/`; returns their names."""
    with db.connection_context():
        router = Router(db, migrate_dir=str(MIGRATIONS_DIR), logger=log)
        pending = router.diff
        if pending:
            router.run(fake=fake)
        return pending


# --- The unit of work -------------------------------------------------------------------------
# Every write a feature makes happens inside `with unit_of_work() as uow:`: one transaction, committed
# once at the end of the block and rolled back on any error; what must happen only if the rows are
# durable (a push, a pub/sub message, a cache invalidation, a stream closed) is handed to
# `uow.after_commit(fn, ...)` (or the module-level `after_commit`) and runs after the commit, never
# after a rollback. Units nest: an inner unit is a savepoint, and its callbacks wait for the
# outermost commit (they are dropped if the inner savepoint rolls back).


class UnitOfWork:
    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], Any]] = []

    def after_commit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` once the outermost unit has committed (never on a rollback)."""
        self._callbacks.append(functools.partial(fn, *args, **kwargs))

    def _run_callbacks(self) -> None:
        """Every callback runs, in order; the first error is raised after all have run (the rows are
        committed either way: a failed publish is for the caller to see, not to undo)."""
        first: BaseException | None = None
        for callback in self._callbacks:
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 — the others still run; the first is raised
                log.warning("after-commit callback failed", extra={"error": type(exc).__name__})
                first = first or exc
        self._callbacks.clear()
        if first is not None:
            raise first


_current_unit: ContextVar[UnitOfWork | None] = ContextVar("yiwang_unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """One transaction: commits once when the block ends, rolls back on any error, then runs the
    `after_commit` callbacks (only after a successful commit of the outermost unit)."""
    parent = _current_unit.get()
    unit = UnitOfWork()
    token = _current_unit.set(unit)
    try:
        with db.atomic():
            yield unit
    finally:
        _current_unit.reset(token)
    if parent is not None:
        parent._callbacks.extend(unit._callbacks)  # they wait for the outermost commit
    else:
        unit._run_callbacks()


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Defer `fn` to the commit of the unit of work in progress; with none in progress, run it now
    (the caller's writes, if any, are already committed)."""
    unit = _current_unit.get()
    if unit is None:
        fn(*args, **kwargs)
    else:
        unit.after_commit(fn, *args, **kwargs)


def in_unit_of_work() -> bool:
    return _current_unit.get() is not None


# --- Hot-path statements --------------------------------------------------------------------
# peewee builds each statement's SQL in Python on every call (0.2–0.5 ms a statement, measured
# in bench/); the statements on the hot paths (login, refresh, audit, presentation, counter
# verification) use SQL built once per shape. `where`/`equal` values must not be None (= NULL).

_sql_cache: dict[tuple, str] = {}


def _placeholder() -> str:
    return "%s" if isinstance(db.obj, pw.PostgresqlDatabase) else "?"


def execute(sql: str, params: list | tuple = ()) -> Any:
    """Run a hand-written statement (written with `?` placeholders) on either dialect; the cursor."""
    if _placeholder() != "?":
        sql = sql.replace("?", "%s")
    return db.execute_sql(sql, params)


def insert_row(model: type[pw.Model], *, ignore_conflict: bool = False, **values) -> pw.Model | None:
    """INSERT one row (defaults filled like `Model.create`) and return the model instance.

    With `ignore_conflict`, a row that would break a unique constraint is skipped
    (ON CONFLICT DO NOTHING, no savepoint needed) and None is returned."""
    fields = model._meta.fields
    for name, field in fields.items():
        if name not in values and field.default is not None:
            values[name] = field.default() if callable(field.default) else field.default
    key = ("insert", model, tuple(values), ignore_conflict, _placeholder())  # per dialect: tests switch databases
    sql = _sql_cache.get(key)
    if sql is None:
        columns = ", ".join(f'"{fields[name].column_name}"' for name in values)
        marks = ", ".join([_placeholder()] * len(values))
        # raw SQL: the prepared-statement builder itself (models.py calls it on hot paths)
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
        _sql_cache[key] = sql = sql + (" ON CONFLICT DO NOTHING" if ignore_conflict else "")
    cursor = db.execute_sql(sql, [fields[name].db_value(value) for name, value in values.items()])
    if ignore_conflict and cursor.rowcount == 0:
        return None
    row = model(**values)
    row._dirty.clear()
    return row


def select_one(model: type[pw.Model], field: pw.Field, value) -> pw.Model | None:
    """SELECT the row whose `field` equals `value` (a unique column), or None."""
    return select_where(model, **{field.name: value})


def select_where(model: type[pw.Model], **equal) -> pw.Model | None:
    """SELECT the first row whose fields equal the given values (all of them), or None."""
    fields = model._meta.fields
    key = ("select", model, tuple(equal), _placeholder())
    sql = _sql_cache.get(key)
    if sql is None:
        columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
        where = " AND ".join(f'"{fields[name].column_name}" = {_placeholder()}' for name in equal)
        # raw SQL: the prepared-statement builder itself (models.py calls it on hot paths)
        sql = _sql_cache[key] = f'SELECT {columns} FROM "{model._meta.table_name}" WHERE {where} LIMIT 1'
    found = db.execute_sql(sql, [fields[name].db_value(value) for name, value in equal.items()]).fetchone()
    if found is None:
        return None
    row = model(**{f.name: f.python_value(v) for f, v in zip(model._meta.sorted_fields, found)})
    row._dirty.clear()
    return row


def update_where(model: type[pw.Model], where: dict[str, Any], **values) -> int:
    """UPDATE the rows whose fields equal `where` (all of them) to `values`; the number changed.

    A conditional update (`where` naming the state it leaves) is how a row changes state once:
    of concurrent callers exactly one sees 1."""
    fields = model._meta.fields
    key = ("update", model, tuple(values), tuple(where), _placeholder())
    sql = _sql_cache.get(key)
    if sql is None:
        assignments = ", ".join(f'"{fields[name].column_name}" = {_placeholder()}' for name in values)
        condition = " AND ".join(f'"{fields[name].column_name}" = {_placeholder()}' for name in where)
        # raw SQL: the prepared-statement builder itself (models.py calls it on hot paths)
        sql = _sql_cache[key] = f'UPDATE "{model._meta.table_name}" SET {assignments} WHERE {condition}'
    params = [fields[name].db_value(value) for name, value in values.items()]
    params += [fields[name].db_value(value) for name, value in where.items()]
    return db.execute_sql(sql, params).rowcount
