"""The live stream as the Flask route serves it (`make run`, a threaded pool): per-citizen and
per-process caps (issue 14 item 3) and the end of a stream when its session ends (issue 14 item 6).

Streams are read through the test client without buffering; time is moved on the streams' clock
(`NotifyState.monotonic`), never waited for."""
from __future__ import annotations

import json
import os
import time

import pytest
import requests

from app.security.auth import REVOKED_KEY
from bench.server import GunicornServer
from notify.limits import CLOSED_KEY, USER_KEY
from tests import vectors
from tests.helpers import assert_problem, bearer

STREAM = "/api/v1/notifications/stream"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _open(client, headers: dict):
    response = client.get(STREAM, headers=headers, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _read_until_end(response, limit: int = 8) -> dict | None:
    """The `event: end` data, reading at most `limit` chunks (the old stream kept sending keep-alives)."""
    chunks = iter(response.response)
    for _ in range(limit):
        try:
            chunk = next(chunks)
        except StopIteration:
            return None
        chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        if "event: end" in chunk:
            return json.loads(chunk.split("data: ", 1)[1])
    return None


def _session_id(app, token: str) -> str:
    return app.extensions["tokens"].verify(token).session_id


@pytest.fixture
def ticks(app):
    clock = Ticks()
    app.extensions["notify"].monotonic = clock
    return clock


def test_a_fourth_stream_closes_the_citizens_oldest(app, client, citizen):
    """Issue 14 item 3: one citizen cannot hold more than 3 streams; the oldest is told and ends."""
    streams = [_open(client, citizen["headers"]) for _ in range(3)]
    newest = _open(client, citizen["headers"])
    assert _read_until_end(streams[0]) == {"reason": "stream_limit"}
    assert app.extensions["redis"].zcard(USER_KEY.format(citizen["user_id"])) == 3
    for response in streams + [newest]:
        response.close()
    assert app.extensions["redis"].zcard(USER_KEY.format(citizen["user_id"])) == 0
    assert app.extensions["notify"].streams.open == 0


def test_a_full_process_answers_503_with_retry_after_and_the_api_still_answers(make_app, login_citizen):
    """Issue 14 item 3: past STREAM_MAX_PER_PROCESS a stream is refused before the pool is exhausted;
    closing a stream (read or not) gives its slot back."""
    app = make_app(STREAM_MAX_PER_PROCESS=2)
    client = app.test_client()
    people = []
    for phone in vectors.PHONES[:3]:
        assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
        code = client.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"][0]["code"]
        people.append(bearer(client.post("/api/v1/auth/login", json={"phone": phone, "code": code})
                             .get_json()["access_token"]))
    first, second = _open(client, people[0]), _open(client, people[1])
    refused = client.get(STREAM, headers=people[2])
    body = assert_problem(refused, 503, "stream_capacity")
    assert refused.headers["Retry-After"] == "10" and body["retry_after"] == 10
    assert client.get("/api/v1/me", headers=people[2]).status_code == 200
    first.close()  # never read: the slot comes back all the same
    third = _open(client, people[2])
    second.close(), third.close()
    assert app.extensions["notify"].streams.open == 0


def test_logout_ends_the_open_stream_at_once(app, client, citizen):
    """Issue 14 item 6: the revocation message published at logout ends the stream with a final event."""
    response = _open(client, citizen["headers"])
    assert client.post("/api/v1/auth/logout", headers=citizen["headers"]).status_code in (200, 204)
    assert _read_until_end(response) == {"reason": "session_revoked"}
    assert_problem(client.get(STREAM, headers=citizen["headers"]), 401)


def test_the_heartbeat_rechecks_the_session_when_the_message_was_lost(app, client, citizen, ticks):
    """Issue 14 item 6: a revocation without its message (published while the stream's Redis link was
    down) still ends the stream at the next heartbeat."""
    response = _open(client, citizen["headers"])
    app.extensions["redis"].set(REVOKED_KEY.format(_session_id(app, citizen["tokens"]["access_token"])), "1")
    ticks.now += app.config["NOTIFY_SSE_HEARTBEAT"] + 1
    assert _read_until_end(response) == {"reason": "session_revoked"}


def test_a_stream_closed_to_make_room_ends_at_the_heartbeat_if_it_missed_the_message(app, client, citizen, ticks):
    """Issue 14 item 3: a stream closed for a newer one ends even if the close message was lost."""
    response = _open(client, citizen["headers"])
    redis = app.extensions["redis"]
    (member,) = redis.zrange(USER_KEY.format(citizen["user_id"]), 0, -1)
    redis.zrem(USER_KEY.format(citizen["user_id"]), member)
    redis.sadd(CLOSED_KEY.format(citizen["user_id"]), member)
    ticks.now += app.config["NOTIFY_SSE_HEARTBEAT"] + 1
    assert _read_until_end(response) == {"reason": "stream_limit"}
    response.close()  # what the WSGI server does after the last chunk
    assert app.extensions["notify"].streams.open == 0


def test_a_stream_survives_redis_losing_its_leases(app, client, citizen, ticks):
    """A Redis restart without persistence loses every lease: streams take theirs again at the next
    heartbeat instead of ending (and being told to stay away for 10 minutes)."""
    response = _open(client, citizen["headers"])
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry: 3000")
    app.extensions["redis"].flushdb()
    ticks.now += app.config["NOTIFY_SSE_HEARTBEAT"] + 1
    assert next(chunks) == b": keep-alive\n\n"
    assert app.extensions["redis"].zcard(USER_KEY.format(citizen["user_id"])) == 1
    response.close()


def test_openapi_names_the_stream_problems(client):
    stream = client.get("/api/v1/openapi.json").get_json()["paths"][STREAM]["get"]
    assert "503" in stream["responses"] and "stream_capacity" in json.dumps(stream["responses"]["503"])


@pytest.mark.slow
def test_under_gunicorn_streams_take_at_most_half_the_threads(private_redis, make_app, base_config, tmp_path):
    """Issue 14 item 3: gunicorn.conf.py caps streams at half a worker's threads (2 of 4), so a 3rd
    stream is refused with 503 + Retry-After while the API still answers at once."""
    app = make_app(REDIS_URL=private_redis.url)
    client = app.test_client()
    people = []
    for phone in vectors.PHONES[:2]:
        assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
        code = client.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"][0]["code"]
        people.append(bearer(client.post("/api/v1/auth/login", json={"phone": phone, "code": code})
                             .get_json()["access_token"]))
    env = {k: v for k, v in os.environ.items() if k not in ("STREAM_MAX_PER_PROCESS", "PROMETHEUS_MULTIPROC_DIR")}
    env.update({**{k: str(v) for k, v in base_config.items()},  # an environment holds strings
                "REDIS_URL": private_redis.url, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4",
                "AUTO_MIGRATE": "0", "LOG_LEVEL": "WARNING", "NOTIFY_WORKER_IN_PROCESS": "0",
                "NOTIFY_SSE_HEARTBEAT": "1"})  # closed streams are noticed at the next keep-alive
    server = GunicornServer(name="stream-cap", conf="gunicorn.conf.py", app="wsgi:app", env=env,
                            log_path=str(tmp_path / "gunicorn.log"))
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        streams = [requests.get(url + STREAM, headers=people[0], stream=True, timeout=(2, 5)) for _ in range(2)]
        assert [s.status_code for s in streams] == [200, 200]
        refused = requests.get(url + STREAM, headers=people[1], timeout=5)
        assert refused.status_code == 503 and refused.json()["code"] == "stream_capacity"
        assert refused.headers["Retry-After"] == "10"
        started = time.perf_counter()
        assert requests.get(url + "/api/v1/me", headers=people[1], timeout=5).status_code == 200
        assert time.perf_counter() - started < 0.5
        for stream in streams:
            stream.close()
    finally:
        server.stop()
    assert server.strays == []
