"""Issue 21: `yiwang_sse_connections` — the stream server's open streams, up when one opens and down
when it closes (notify/asgi.py), served by `notify stream-server` on its METRICS_PORT."""
from __future__ import annotations

import time

from prometheus_client import REGISTRY

from tests import vectors
from tests.notify.test_stream_server import RunningStreamServer, Sse, _login


def connections() -> float | None:
    return REGISTRY.get_sample_value("yiwang_sse_connections", {})


def _until(expected: float) -> float | None:
    deadline = time.monotonic() + 5
    while connections() != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return connections()


def test_the_sse_gauge_follows_the_open_streams(app, client):
    a, b = _login(client, vectors.PHONES[0]), _login(client, vectors.PHONES[1])
    with RunningStreamServer(app) as server:
        first, second = Sse(server.url, a["headers"]), Sse(server.url, b["headers"])
        assert _until(2) == 2
        first.close()
        assert _until(1) == 1
        second.close()
        assert _until(0) == 0
