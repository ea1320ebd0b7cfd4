"""The asyncio stream server (`flask --app wsgi notify stream-server`, notify/asgi.py) under uvicorn,
in-process on a free port: many concurrent streams on one thread, replay, the caps, the end on
logout, and an API that stays fast while the stream process is full (issue 14 items 3 and 6)."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests
import uvicorn

from app.db import db, unit_of_work
from app.security.tokens import Principal
from notify.asgi import StreamServer
from notify.limits import USER_KEY
from notify.service import enqueue
from notify.tasks import NotifyWorker
from tests import vectors
from tests.fakes.redis_cluster import LocalCluster, LocalSentinel, available
from tests.fakes.server import FakeServer
from tests.helpers import bearer, latest_code

STREAM = "/api/v1/notifications/stream"


class RunningStreamServer:
    """uvicorn serving `StreamServer(app)` in a thread, on a socket bound before it starts (no waiting
    for it to come up: connections queue in the backlog), inside an app context as `flask notify
    stream-server` runs it."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(StreamServer(app), lifespan="on", log_config=None, access_log=False,
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.app = app
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.app.app_context():  # the CLI's: every worker thread starts from a copy of it
            self.server.run(sockets=[self.sock])

    def __enter__(self) -> "RunningStreamServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class Sse:
    """One open stream read line by line (a 5 s read timeout bounds a test that would hang)."""

    def __init__(self, url: str, headers: dict, last_event_id: str | None = None) -> None:
        extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.response = requests.get(url + STREAM, headers={**headers, **extra}, stream=True, timeout=(2, 5))
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next_event(self) -> tuple[str, dict, str | None]:
        kind = data = event_id = None
        for line in self.lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line == "" and kind:
                return kind, data, event_id
        raise AssertionError("the stream ended without an event")

    def close(self) -> None:
        self.response.close()


def _login(client, phone: str) -> dict:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    answer = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)}).get_json()
    return {"user_id": answer["user"]["id"], "headers": bearer(answer["access_token"])}


def test_concurrent_streams_replay_fan_out_caps_and_logout(app, client, notice, make_worker):
    a, b = _login(client, vectors.PHONES[0]), _login(client, vectors.PHONES[1])
    for n in range(2):
        notice(a["user_id"], title=f"通知 {n}")
    worker = make_worker()
    worker.drain()
    newest = client.get("/api/v1/notifications", headers=a["headers"]).get_json()["items"][0]["id"]
    with RunningStreamServer(app) as server:
        a1 = Sse(server.url, a["headers"], last_event_id="1")
        replayed = [a1.next_event()[2] for _ in range(2)]
        assert replayed[-1] == newest and len(set(replayed)) == 2
        a2, b1, b2 = Sse(server.url, a["headers"]), Sse(server.url, b["headers"]), Sse(server.url, b["headers"])
        notice(a["user_id"], title="实时通知")
        worker.drain()
        for stream in (a1, a2):
            kind, data, _ = stream.next_event()
            assert kind == "notification" and data["title"] == "实时通知"
        b3, b4 = Sse(server.url, b["headers"]), Sse(server.url, b["headers"])  # a 4th for b: b1 is closed
        assert b1.next_event()[:2] == ("end", {"reason": "stream_limit"})
        assert client.post("/api/v1/auth/logout", headers=a["headers"]).status_code in (200, 204)
        for stream in (a1, a2):
            assert stream.next_event()[:2] == ("end", {"reason": "session_revoked"})
        refused = requests.get(server.url + STREAM, headers=a["headers"], timeout=5)
        assert refused.status_code == 401 and refused.json()["code"] == "token_invalid"
        invalid = requests.get(server.url + STREAM, headers={**b["headers"], "Last-Event-ID": "x"}, timeout=5)
        assert invalid.status_code == 422 and invalid.headers["Content-Type"].startswith("application/problem+json")
        assert invalid.json()["code"] == "last_event_id_invalid"
        anonymous = requests.get(server.url + STREAM, headers={"Accept-Language": "en"}, timeout=5)
        assert anonymous.status_code == 401 and anonymous.json()["detail"] == "Please sign in first."
        for stream in (a1, a2, b1, b2, b3, b4):
            stream.close()


def test_many_streams_share_one_thread_and_a_full_process_leaves_the_api_fast(make_app):
    """60 open streams on one server thread (plus its small pool); past STREAM_MAX_PER_PROCESS the
    stream server answers 503 stream_capacity with Retry-After while the API answers GET /me at once."""
    app = make_app(STREAM_MAX_PER_PROCESS=60)
    client = app.test_client()
    citizen = _login(client, vectors.PHONES[0])
    tokens = app.extensions["tokens"]
    # session-less citizen tokens for 20 made-up people: 3 streams each, within the per-citizen cap
    people = [bearer(tokens.issue(Principal("citizen", f"u_load{n:04d}"))[0]) for n in range(20)]
    threads_before = threading.active_count()
    with RunningStreamServer(app) as server, FakeServer(app) as api:
        streams = [Sse(server.url, headers) for headers in people for _ in range(3)]
        assert all(s.response.status_code == 200 for s in streams)
        assert threading.active_count() <= threads_before + 2 + 16  # uvicorn's loop, the API server, the pool
        refused = requests.get(server.url + STREAM, headers=citizen["headers"], timeout=5)
        assert refused.status_code == 503 and refused.json()["code"] == "stream_capacity"
        assert refused.headers["Retry-After"] == "10"
        started = time.perf_counter()
        me = requests.get(api.url + "/api/v1/me", headers=citizen["headers"], timeout=5)
        assert me.status_code == 200 and time.perf_counter() - started < 0.5
        ready = requests.get(server.url + "/readyz", timeout=5).json()
        assert ready == {"status": "ok", "open_streams": 60}
        for stream in streams:
            stream.close()
        # a client that goes away gives its slot and its lease back (asked again until the server saw it)
        for _ in range(500):
            if requests.get(server.url + "/readyz", timeout=5).json()["open_streams"] == 0:
                break
        assert requests.get(server.url + "/readyz", timeout=5).json()["open_streams"] == 0
        assert not any(app.extensions["redis"].exists(USER_KEY.format(f"u_load{n:04d}")) for n in range(20))


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/nope"])
def test_stream_server_health_and_unknown_paths(app, path):
    with RunningStreamServer(app) as server:
        response = requests.get(server.url + path, timeout=5)
    if path == "/healthz":
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    else:
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_stream_on_the_stream_server_outlives_a_redis_restart(private_redis, make_app):
    """Redis killed and started again (empty) under an open stream: a new stream is refused with 503 +
    Retry-After meanwhile; the open one keeps its client, then delivers from the inbox what was
    published while Redis was down."""
    app = make_app(REDIS_URL=private_redis.url, NOTIFY_SSE_HEARTBEAT=1)  # after private_redis: torn down first
    citizen = _login(app.test_client(), vectors.PHONES[0])
    with RunningStreamServer(app) as server:
        stream = Sse(server.url, citizen["headers"])
        private_redis.stop()
        down = requests.get(server.url + STREAM, headers=citizen["headers"], timeout=10)
        assert down.status_code == 503 and down.headers["Retry-After"] and "problem+json" in down.headers["Content-Type"]
        with app.app_context(), db.connection_context(), unit_of_work():
            enqueue(user_id=citizen["user_id"], kind="case_status", title="断线期间的通知", body="已受理。",
                    dedupe_key="outage:1")
        worker = NotifyWorker(app, channels={})
        try:
            worker.drain()  # the inbox entry is written; its live event is lost with Redis
        finally:
            worker.pool.shutdown(wait=True)
        private_redis.start()
        kind, data, _ = stream.next_event()
        assert kind == "notification" and data["title"] == "断线期间的通知"
        stream.close()


@pytest.fixture
def build_app(app_on_redis):
    """An app on `redis_url` (a real Cluster or Sentinel) with its own migrated SQLite database."""
    return app_on_redis


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cluster", "sentinel"])
def test_the_stream_server_on_a_redis_cluster_and_behind_sentinel(build_app, kind):
    """The asyncio client is made from REDIS_URL's other forms too: a live notice arrives, a 4th
    stream closes the oldest (the lease script on the cluster) and logout ends the stream."""
    if not available():
        pytest.skip("no /usr/bin/redis-server (and redis-cli)")
    with (LocalCluster() if kind == "cluster" else LocalSentinel(service="yiwang", db=2)) as redis_server:
        app = build_app(redis_server.url)
        citizen = _login(app.test_client(), vectors.PHONES[0])
        with RunningStreamServer(app) as server:
            streams = [Sse(server.url, citizen["headers"]) for _ in range(4)]
            assert streams[0].next_event()[:2] == ("end", {"reason": "stream_limit"})
            with app.app_context(), db.connection_context(), unit_of_work():
                enqueue(user_id=citizen["user_id"], kind="case_status", title="集群上的通知", body="已受理。",
                        dedupe_key=f"{kind}:1")
            worker = NotifyWorker(app, channels={})
            try:
                worker.drain()
            finally:
                worker.pool.shutdown(wait=True)
            assert streams[3].next_event()[1]["title"] == "集群上的通知"
            assert app.test_client().post("/api/v1/auth/logout", headers=citizen["headers"]).status_code in (200, 204)
            assert streams[3].next_event()[:2] == ("end", {"reason": "session_revoked"})
            for stream in streams:
                stream.close()
