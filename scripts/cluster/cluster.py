"""`Cluster`: the whole deployment on one machine, as production shapes it (README "Scaling out").

- PostgreSQL: the machine's server (CLUSTER_PG_URL, default postgresql://postgres@127.0.0.1:5432/),
  a database of the cluster's own (dropped and created at `up`, dropped at `down`), migrated once
  by `flask db upgrade` before any node starts (AUTO_MIGRATE=0 on the nodes, as deploy/k8s does).
- Redis Cluster: six `redis-server --cluster-enabled yes`, three masters with one replica each.
- API nodes ("api1".."apiN"): `python serve.py` (granian) beside its own
  `flask notify stream-server`; `workers` outbox workers (`flask notify worker`).
- HAProxy in front (scripts/cluster/haproxy.py): health-checked, round robin, SSE to the stream servers.

Every process gets the same environment (`env`): APP_ENV=development (its adapters: SMS outbox,
log push, table registry), but the key material that development would generate per VAR_DIR
(JWT signing key, data key, key-store KEKs) generated once here and given to all, so a token
one node signs is good on every other and a row one node encrypts every other reads. Each
process has a VAR_DIR of its own (its Prometheus directory, its logs), as pods would.

The Redis part is scripts/cluster/redis_nodes.py; the tests' data (`citizen`, `machine`, `clerk`,
`licence`, `query`) scripts/cluster/fixtures.py; HAProxy (its configuration, process and stats socket)
scripts/cluster/haproxy.py.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import psycopg2
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scripts.cluster import procs
from scripts.cluster.fixtures import Fixtures
from scripts.cluster.haproxy import HAPROXY, Balancer
from scripts.cluster.redis_nodes import REDIS_CLI, REDIS_SERVER, RedisNodes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_WORKDIR = os.path.join(ROOT, "var", "cluster")
STATE_FILE = "cluster.json"
PG_URL = os.environ.get("CLUSTER_PG_URL", "postgresql://postgres@127.0.0.1:5432/")

# Settings every process gets beyond development's defaults. The per-IP limits on SMS and logins
# are raised as in tests/faults/conftest.py (every test client is 127.0.0.1, and the fixtures log
# in through the balancer); SMS_RESEND_COOLDOWN is 1 s so a test can reach the per-phone hourly
# limit in seconds (the cooldown itself stays a per-phone limit, counted in Redis like the others).
CLUSTER_SETTINGS = {
    "APP_ENV": "development",
    "AUTO_MIGRATE": "0",
    "NOTIFY_WORKER_IN_PROCESS": "0",  # the outbox has workers of its own here
    "METRICS_PORT": "0",
    "LOG_LEVEL": "WARNING",
    "TRUSTED_PROXIES": "1",  # HAProxy's X-Forwarded-For names the client
    "DB_POOL_SIZE": "8",
    "SMS_PER_IP_HOUR": "100000",
    "LOGIN_PER_IP_MINUTE": "100000",
    "SMS_RESEND_COOLDOWN": "1",
    "PRESENTATION_TTL": "600",
    "WEB_CONCURRENCY": "1",  # a 2-core machine: three nodes of one worker each
}


def available() -> list[str]:
    """What is missing to run a cluster here (empty: everything is)."""
    return [path for path in (REDIS_SERVER, REDIS_CLI, HAPROXY) if not os.access(path, os.X_OK)]


def _pg_admin():
    parsed = urlparse(PG_URL)
    conn = psycopg2.connect(host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432,
                            user=parsed.username or "postgres", password=parsed.password,
                            dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


def _database_url(name: str) -> str:
    return urlparse(PG_URL)._replace(path=f"/{name}").geturl()


def _generated_secrets() -> dict[str, str]:
    """Key material development would otherwise generate per VAR_DIR: once per cluster, for all."""
    jwt = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode()
    return {"JWT_SIGNING_KEY": jwt,
            "DATA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "KEYSTORE_KEKS": "kek-1:" + base64.b64encode(secrets.token_bytes(16)).decode()}


@dataclass
class Node:
    """One API node: granian on `api_port` and its stream server on `stream_port`."""

    name: str
    api_port: int
    stream_port: int
    var_dir: str
    proc: subprocess.Popen | None = None
    stream_proc: subprocess.Popen | None = None
    pids: list[int] = field(default_factory=list)  # process groups (from cluster.json when not ours)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def stream_url(self) -> str:
        return f"http://127.0.0.1:{self.stream_port}"

    @property
    def alive(self) -> bool:
        """Both processes running."""
        if self.proc is not None and self.stream_proc is not None:
            return self.proc.poll() is None and self.stream_proc.poll() is None
        return bool(self.pids) and all(procs.alive(pid) for pid in self.pids)


class Cluster(RedisNodes, Balancer, Fixtures):
    def __init__(self, workdir: str | None = None, database: str = "yiwang_cluster", api_nodes: int = 3,
                 workers: int = 2, settings: dict[str, str] | None = None) -> None:
        self.workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
        self.database = database
        self.api_nodes, self.worker_count = api_nodes, workers
        self.database_url = _database_url(database)
        self.nodes: list[Node] = []
        self.workers: list[subprocess.Popen] = []
        self.redis_ports: list[int] = []
        self.redis_procs: dict[int, subprocess.Popen] = {}
        self.haproxy_proc: subprocess.Popen | None = None
        self.lb_port = 0
        self.redis_url = ""
        self.env: dict[str, str] = {}
        self._settings = dict(settings or {})
        self._app = None

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    @property
    def socket_path(self) -> str:
        return os.path.join(self.workdir, "haproxy.sock")

    def up(self) -> Cluster:
        missing = available()
        if missing:
            raise RuntimeError(f"cannot start a cluster: missing {', '.join(missing)}")
        state = os.path.join(self.workdir, STATE_FILE)
        if os.path.exists(state):  # a previous cluster still recorded there: stop it first
            stop_recorded(self.workdir)
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(os.path.join(self.workdir, "logs"), exist_ok=True)
        started = time.monotonic()
        try:
            self._database()
            self._redis_cluster()
            self._environment()
            self._migrate()
            self._allocate_nodes()
            for i in range(len(self.nodes)):
                self._spawn_node(i)
            for i in range(self.worker_count):
                self._spawn_worker(i)
            self._save()
            for i in range(len(self.nodes)):
                self._wait_node_or_move(i, timeout=90)
            self._haproxy()
            self._save()
            self.wait_lb(timeout=30)
        except BaseException:
            self._save()
            self.down()
            raise
        self.started_in = time.monotonic() - started
        return self

    def down(self) -> None:
        """Stop everything this cluster started, drop its database, remove its work directory."""
        self.release_connections()
        if self.haproxy_proc is not None:
            procs.stop_group(self.haproxy_proc.pid, self.haproxy_proc, timeout=5)
        for worker in self.workers:
            procs.stop_group(worker.pid, worker, timeout=10)
        for node in self.nodes:
            for proc in (node.proc, node.stream_proc):
                if proc is not None:
                    procs.stop_group(proc.pid, proc, timeout=10)
        for proc in self.redis_procs.values():
            procs.stop_group(proc.pid, proc, timeout=5)
        _drop_database(self.database)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- PostgreSQL ----------------------------------------------------------------------------

    def _database(self) -> None:
        _drop_database(self.database)
        admin = _pg_admin()
        try:
            admin.cursor().execute(f'CREATE DATABASE "{self.database}"')
        finally:
            admin.close()

    def _migrate(self) -> None:
        self.flask("db", "upgrade", var_dir=os.path.join(self.workdir, "var", "migrate"))
        # the development CA is created on first use: once here, not by three nodes racing for it
        self.flask("ca", "show", var_dir=os.path.join(self.workdir, "var", "migrate"))

    # --- the environment -----------------------------------------------------------------------

    def _environment(self) -> None:
        base = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "VAR_DIR", "BIND")}
        self.env = {**base, **CLUSTER_SETTINGS, **_generated_secrets(), "DATABASE_URL": self.database_url,
                    "REDIS_URL": self.redis_url, "PYTHONUNBUFFERED": "1", **self._settings}

    def _process_env(self, var_dir: str, **extra: str) -> dict[str, str]:
        os.makedirs(var_dir, exist_ok=True)
        return {**self.env, "VAR_DIR": var_dir, **extra}

    def flask(self, *args: str, var_dir: str | None = None, timeout: float = 180) -> str:
        """`flask --app wsgi <args>` with the cluster's environment; its stdout (raises on failure)."""
        env = self._process_env(var_dir or os.path.join(self.workdir, "var", "cli"))
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
        return result.stdout

    # --- API nodes, stream servers, workers ----------------------------------------------------

    def _allocate_nodes(self) -> None:
        taken = set(self.redis_ports) | {p + 10_000 for p in self.redis_ports}
        ports = procs.free_ports(2 * self.api_nodes + 1, taken=taken)
        self.lb_port = ports.pop()
        for i in range(self.api_nodes):
            name = f"api{i + 1}"
            self.nodes.append(Node(name, ports[2 * i], ports[2 * i + 1],
                                   os.path.join(self.workdir, "var", name)))

    def _spawn_node(self, i: int) -> None:
        node = self.nodes[i]
        logs = os.path.join(self.workdir, "logs")
        node.proc = procs.spawn([sys.executable, "serve.py"], cwd=ROOT,
                                env=self._process_env(node.var_dir, BIND=f"127.0.0.1:{node.api_port}"),
                                log_path=os.path.join(logs, f"{node.name}.log"))
        node.stream_proc = procs.spawn(
            [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "stream-server", "--host", "127.0.0.1",
             "--port", str(node.stream_port)], cwd=ROOT,
            env=self._process_env(node.var_dir + "-stream"),
            log_path=os.path.join(logs, f"{node.name}-stream.log"))
        node.pids = [node.proc.pid, node.stream_proc.pid]

    def _spawn_worker(self, i: int) -> None:
        name = f"worker{i + 1}"
        proc = procs.spawn([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"], cwd=ROOT,
                           env=self._process_env(os.path.join(self.workdir, "var", name)),
                           log_path=os.path.join(self.workdir, "logs", f"{name}.log"))
        self.workers.append(proc)

    def _wait_node(self, i: int, timeout: float = 60) -> None:
        node = self.nodes[i]

        def ready() -> bool:
            return all(requests.get(url + "/readyz", timeout=2).status_code == 200
                       for url in (node.api_url, node.stream_url))

        def failed() -> str | None:
            for proc, log in ((node.proc, node.name), (node.stream_proc, f"{node.name}-stream")):
                if proc is not None and proc.poll() is not None:
                    return f"{log} exited {proc.returncode}\n" + procs.log_tail(
                        os.path.join(self.workdir, "logs", f"{log}.log"))
            return None
        procs.wait_until(ready, timeout, f"{node.name} ready", failed)

    def _wait_node_or_move(self, i: int, timeout: float, attempts: int = 3) -> None:
        """Wait for node i; when a process exited (its port taken meanwhile), start it on new ports."""
        for attempt in range(attempts):
            try:
                self._wait_node(i, timeout)
                return
            except RuntimeError as exc:
                if attempt == attempts - 1 or "in use" not in str(exc).lower():
                    raise
            node = self.nodes[i]
            for proc in (node.proc, node.stream_proc):
                if proc is not None:
                    procs.stop_group(proc.pid, proc, timeout=5)
            node.api_port, node.stream_port = procs.free_ports(2, taken=self._ports_in_use())
            self._spawn_node(i)
            self._save()

    def _ports_in_use(self) -> set[int]:
        return (set(self.redis_ports) | {p + 10_000 for p in self.redis_ports}
                | {p for n in self.nodes for p in (n.api_port, n.stream_port)} | {self.lb_port})

    def kill_node(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Signal node i's API (all its granian processes) and its stream server."""
        node = self.nodes[i]
        for proc in (node.proc, node.stream_proc):
            if proc is not None and (proc.poll() is None or procs.our_group_alive(proc.pid)):
                procs.kill_group(proc.pid, sig)
        if sig == signal.SIGKILL:
            for proc in (node.proc, node.stream_proc):
                if proc is not None:
                    proc.wait()

    def start_node(self, i: int, timeout: float = 60) -> None:
        """Start node i again (same ports) and wait until HAProxy has it UP."""
        node = self.nodes[i]
        for proc in (node.proc, node.stream_proc):
            if proc is not None:
                procs.stop_group(proc.pid, proc)
        self._spawn_node(i)
        self._save()
        self._wait_node(i, timeout)
        procs.wait_until(lambda: self.haproxy_servers().get(f"api/{node.name}") == "UP"
                         and self.haproxy_servers().get(f"stream/{node.name}") == "UP", 15,
                         f"haproxy sees {node.name} UP")

    # --- the record (cluster.json) ------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "lb_url": self.lb_url,
            "database_url": self.database_url, "database": self.database,
            "redis_url": self.redis_url, "redis_ports": self.redis_ports,
            "nodes": [{"name": n.name, "api_url": n.api_url, "stream_url": n.stream_url, "pids": n.pids,
                       "var_dir": n.var_dir} for n in self.nodes],
            "pids": [p.pid for p in self._processes()],
            "haproxy_socket": self.socket_path,
            "workdir": self.workdir,
            "logs": os.path.join(self.workdir, "logs"),
        }

    def _processes(self) -> list[subprocess.Popen]:
        """The processes of the cluster as it stands (a restarted node or Redis node: its new process)."""
        found = [self.haproxy_proc] if self.haproxy_proc is not None else []
        found += [p for n in self.nodes for p in (n.proc, n.stream_proc) if p is not None]
        return found + self.workers + list(self.redis_procs.values())

    def _save(self) -> None:
        if not os.path.isdir(self.workdir):
            return
        path = os.path.join(self.workdir, STATE_FILE)
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(self.describe(), fh, indent=2)
        os.replace(path + ".tmp", path)

def _drop_database(name: str) -> None:
    try:
        admin = _pg_admin()
    except psycopg2.Error as exc:
        logging.getLogger(__name__).warning("cannot reach PostgreSQL to drop %s: %s", name, exc)
        return
    try:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def stop_recorded(workdir: str | None = None) -> dict[str, Any] | None:
    """`down` from another process: stop the process groups cluster.json names, drop the database,
    remove the work directory. The record (None when there was none)."""
    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    path = os.path.join(workdir, STATE_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    ours = [pid for pid in record.get("pids", []) if procs.our_group_alive(pid)]
    for pid in ours:
        procs.kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(procs.our_group_alive(pid) for pid in ours):
        time.sleep(0.2)
    for pid in ours:
        if procs.our_group_alive(pid):
            procs.kill_group(pid, signal.SIGKILL)
    if record.get("database"):
        _drop_database(record["database"])
    shutil.rmtree(workdir, ignore_errors=True)
    return record
