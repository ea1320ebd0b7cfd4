"""Fault-test rig: the real app under gunicorn (2 worker processes) on a database of its own and a
private redis-server, prepared in-process through the test client, then driven over HTTP from
threads while a backend is broken underneath it.

The database is a SQLite file in the test's directory, or on PostgreSQL (TEST_DATABASE_URL) a fresh
database `faults_<random>` on the same server, dropped afterwards: the suite's own tables are never
touched, and neither is anyone's Redis.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import psycopg2
import pytest
import requests

from app import create_app
from app.db import db, execute, migrate
from bench.server import GunicornServer
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import PROBLEM, bearer, latest_code
from tests.issuers.registry import ALL_TYPES, fresh_uscc
from tests.wallet.conftest import CLERK_PASSWORD, ISSUE, issue_body

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ON_POSTGRES = urlparse(TEST_DATABASE_URL).scheme in ("postgres", "postgresql")

# Limits a few threads on 127.0.0.1 would otherwise reach in seconds (not what these tests are about).
GENEROUS_LIMITS = {"SMS_PER_IP_HOUR": "100000", "LOGIN_PER_IP_MINUTE": "100000", "PRESENTATION_TTL": "600"}


def pg_admin(url: str):
    parsed = urlparse(url)
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username,
                            password=parsed.password, dbname=parsed.path.lstrip("/") or "postgres")
    conn.autocommit = True
    return conn


@pytest.fixture
def fault_database(tmp_path):
    """The URL of an empty database of this test's own."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path}/faults.db"
        return
    name = f"faults_{secrets.token_hex(4)}"
    admin = pg_admin(TEST_DATABASE_URL)
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        yield urlparse(TEST_DATABASE_URL)._replace(path=f"/{name}").geturl()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class Answer:
    """One HTTP exchange as a client saw it (status 0: no answer at all)."""

    actor: str
    what: str
    started: float
    ended: float
    status: int
    code: str | None = None
    retry_after: str | None = None
    mimetype: str | None = None
    body: Any = None


class Recorder:
    """Makes requests and keeps every answer, with monotonic start and end times."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    def call(self, session: requests.Session, actor: str, what: str, method: str, path: str,
             **kwargs) -> Answer:
        started = time.monotonic()
        try:
            response = session.request(method, self.base_url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            answer = Answer(actor, what, started, time.monotonic(), 0, code=type(exc).__name__)
        else:
            body = None
            if response.headers.get("content-type", "").split(";")[0] in ("application/json", PROBLEM):
                body = response.json()
            answer = Answer(actor, what, started, time.monotonic(), response.status_code,
                            code=body.get("code") if isinstance(body, dict) else None,
                            retry_after=response.headers.get("Retry-After"),
                            mimetype=response.headers.get("content-type", "").split(";")[0], body=body)
        with self._lock:
            self.answers.append(answer)
        return answer

    def of(self, what: str | None = None, between: tuple[float, float] | None = None) -> list[Answer]:
        """The answers to `what` (all when None) made wholly inside `between`."""
        with self._lock:
            found = list(self.answers)
        if what is not None:
            found = [a for a in found if a.what == what]
        if between is not None:
            found = [a for a in found if a.started >= between[0] and a.ended <= between[1]]
        return found


def wait_for(predicate: Callable[[], bool], seconds: float, message: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {message}")
        time.sleep(0.05)


class Rig:
    """One deployment: settings, an in-process app to prepare data, and the gunicorn server."""

    def __init__(self, tmp_path, database_url: str, redis_url: str) -> None:
        self.var_dir = str(tmp_path / "var")
        self.log_path = str(tmp_path / "gunicorn.log")
        self.database_url, self.redis_url = database_url, redis_url
        self.config = {"APP_ENV": "testing", "VAR_DIR": self.var_dir, "DATABASE_URL": database_url,
                       "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", **GENEROUS_LIMITS}
        self.server: GunicornServer | None = None
        self._app = None

    # --- preparing data in-process (the same database, Redis and key directory) -------------------

    @property
    def app(self):
        if self._app is None:
            self._app = create_app(dict(self.config))
            migrate()
        return self._app

    def cli(self, *args: str) -> str:
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def citizen(self, person: tuple[str, str], phone: str) -> dict[str, str]:
        """A citizen at L2 (registry entry, SMS login, real name): bearer headers."""
        client = self.app.test_client()
        self.cli("registry", "add", "--name", person[0], "--id-number", person[1])
        assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
        login = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
        assert login.status_code == 200, login.get_json()
        headers = bearer(login.get_json()["access_token"])
        verified = client.post("/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                               headers=headers)
        assert verified.status_code == 200, verified.get_json()
        return headers

    def machine(self, scopes: str) -> dict[str, str]:
        out = self.cli("clients", "create", "--name", f"faults {scopes}", "--scopes", scopes)
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        if "licences:issue" in scopes.split():  # an issuing client acts for a registered department
            code = fresh_uscc()
            added = self.cli("issuers", "add", "--uscc", code, "--name", "故障测试发证机关", "--region", "340100",
                             "--types", ",".join(ALL_TYPES))
            self.cli("issuers", "bind-client", added.split()[1], creds["client_id"])
        response = self.app.test_client().post("/api/v1/oauth/token", data={
            "grant_type": "client_credentials", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    def licence(self, issuer: dict[str, str], person: tuple[str, str], reference: str) -> str:
        response = self.app.test_client().post(ISSUE, json=issue_body(person, reference=reference), headers=issuer)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def clerk(self, username: str = "clerk.faults") -> dict[str, str]:
        self.cli("staff", "create", "--username", username, "--password", CLERK_PASSWORD, "--role", "counter",
                 "--hall", "H1")
        response = self.app.test_client().post("/api/v1/auth/staff-login",
                                               json={"username": username, "password": CLERK_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a hand-written statement (`?` placeholders), on the rig's own database."""
        with self.app.app_context(), db.connection_context():
            return execute(sql, params).fetchall()

    def release_connections(self) -> None:
        """Close the in-process app's pooled connections (before a database is dropped)."""
        if self._app is not None and hasattr(db.obj, "close_all"):
            db.obj.close_all()

    # --- serving -----------------------------------------------------------------------------------

    def serve(self, **settings: str) -> GunicornServer:
        env = {**os.environ, **self.config, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4", "AUTO_MIGRATE": "0",
               **settings}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.server = GunicornServer(name="faults", conf="gunicorn.conf.py", app="wsgi:app", env=env,
                                     log_path=self.log_path)
        self.server.start()
        return self.server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> list[str]:
        """Stop the server; what it left behind (nothing, when it stopped cleanly)."""
        if self.server is None:
            return []
        self.server.stop()
        strays, self.server = self.server.strays, None
        return strays

    def server_log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""


@pytest.fixture
def rig(tmp_path, fault_database, private_redis):
    # urllib3 logs request lines at DEBUG, phone-number query strings included (the log scan's concern)
    urllib3_log = logging.getLogger("urllib3")
    level = urllib3_log.level
    urllib3_log.setLevel(logging.INFO)
    made = Rig(tmp_path, fault_database, private_redis.url)
    try:
        yield made
    finally:
        made.stop()
        made.release_connections()
        urllib3_log.setLevel(level)


def unhandled_errors(log_text: str) -> list[str]:
    """Log lines of errors the app did not expect (a 500, a traceback)."""
    found = []
    for line in log_text.splitlines():
        if "Traceback" in line or "unhandled error" in line or '"status": 500' in line:
            found.append(line[:400])
        else:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (record.get("exc") or record.get("status") == 500):
                found.append(line[:400])
    return found
