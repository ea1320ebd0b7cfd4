"""The stream server (`flask --app wsgi notify stream-server`): `GET /api/v1/notifications/stream`
on asyncio, so an open stream costs a coroutine and a Redis subscription, not a server thread.

It is the same stream as the Flask route (notify/stream.py), for the same client: the bearer token is
checked by the API's own `auth_required` (signature, session revocation, proxy tokens refused) in a
request context built from the ASGI request, `Last-Event-ID` replays from the inbox, the citizen's
3-stream cap and the process cap (`STREAM_MAX_PER_PROCESS`, 503 `stream_capacity` + `Retry-After`)
hold, every heartbeat renews the lease and re-checks the session, and a logout ends it. Problems are
rendered by the API's error handler (problem+json, Chinese or English). Blocking calls — the token
check, the lease, the database reads at the start and after a Redis outage — run in the default
thread pool; waiting for events does not. Also serves `/healthz` and `/readyz` for the probes.
"""
from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import peewee as pw
import redis
import redis.asyncio as aredis
from flask import Flask
from redis.asyncio.sentinel import Sentinel

from app.business_metrics import gauge
from app.db import db
from app.errors import NotFound
from app.i18n import negotiate
from app.redis import CLUSTER_SCHEME, SENTINEL_SCHEME
from app.security.auth import auth_required, current_principal
from app.security.tokens import Principal
from notify import errors
from notify.inbox import entries_after, latest_id
from notify.limits import UserStreamLease
from notify.sse import StreamState, channels, end_event
from notify.stream import heartbeat_check, lease_ttl, parse_last_event_id, session_checker

log = logging.getLogger(__name__)

STREAM_PATH = "/api/v1/notifications/stream"
_SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no")]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@auth_required()
def _stream_principal() -> Principal:
    """The route's own check (citizen, not a proxy), run in a request context made from the ASGI scope."""
    return current_principal()


def async_redis(app: Flask) -> aredis.Redis:
    """An asyncio client for the API's Redis (`REDIS_URL`), for subscriptions. Under Cluster it talks
    to one node: a classic PUBLISH on any node reaches the subscribers on every node."""
    url, sync = app.config["REDIS_URL"], app.extensions["redis"]
    scheme = url.partition("://")[0]
    # one connection per open stream (its subscription): redis.asyncio's pools stop at 100 by default
    options = {"decode_responses": True, "health_check_interval": 30, "socket_connect_timeout": 5,
               "max_connections": max(100, int(app.config["STREAM_MAX_PER_PROCESS"]) + 32)}
    if not url:  # the embedded server: its unix socket
        return aredis.Redis(unix_socket_path=sync.connection_pool.connection_kwargs["path"], **options)
    if scheme == SENTINEL_SCHEME:
        pool = sync.connection_pool
        nodes = [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
                 for s in pool.sentinel_manager.sentinels]
        credentials = {k: pool.connection_kwargs[k] for k in ("username", "password", "db")
                       if pool.connection_kwargs.get(k) is not None}
        return Sentinel(nodes, socket_timeout=5).master_for(pool.service_name, **credentials, **options)
    if scheme == CLUSTER_SCHEME:
        node = sync.get_default_node()
        kwargs = node.redis_connection.connection_pool.connection_kwargs
        return aredis.Redis(host=node.host, port=node.port, username=kwargs.get("username"),
                            password=kwargs.get("password"), **options)
    return aredis.from_url(url, **options)


class _Link:
    """Whether a stream's Redis connection was made again (a connect callback, held by the stream)."""

    def __init__(self) -> None:
        self.reconnected = False

    def on_connect(self, connection) -> None:
        self.reconnected = True


@dataclass
class _Opened:
    principal: Principal
    last_event_id: int | None
    headers: dict[str, str]


class StreamServer:
    """The ASGI application. `serve()` in notify/cli.py runs it under uvicorn."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.state = app.extensions["notify"]
        self.redis = async_redis(app)
        self.check_session = session_checker(app)
        gauge("yiwang_sse_connections").set(self.state.streams.open)  # exported from the start (0)

    async def __call__(self, scope: dict, receive: Callable, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        if scope["path"] == "/healthz":
            await _plain(send, 200, {"status": "ok"})
        elif scope["path"] == "/readyz":
            await self._ready(send)
        elif scope["path"] != STREAM_PATH or scope["method"] not in ("GET", "HEAD"):
            await self._problem(send, NotFound(), headers)
        else:
            await self._serve(headers, receive, send)

    async def _lifespan(self, receive: Callable, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # token checks, leases and inbox reads run here: more than the default 6 on 2 cores
                asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(16, thread_name_prefix="stream"))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.redis.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ready(self, send: Send) -> None:
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=2)
        except (redis.RedisError, OSError, asyncio.TimeoutError):
            await _plain(send, 503, {"status": "unavailable", "redis": "down"})
            return
        await _plain(send, 200, {"status": "ok", "open_streams": self.state.streams.open})

    # --- one stream -----------------------------------------------------------------------------

    async def _serve(self, headers: dict[str, str], receive: Callable, send: Send) -> None:
        opened = await asyncio.to_thread(self._authorize, headers)
        if isinstance(opened, Exception):
            await self._problem(send, opened, headers)
            return
        if not self.state.streams.acquire():
            log.warning("live stream refused: process full", extra={"open": self.state.streams.open})
            await self._problem(send, errors.StreamCapacity(), headers)
            return
        connections = gauge("yiwang_sse_connections")
        connections.set(self.state.streams.open)
        try:
            pump = asyncio.create_task(self._stream(opened, send))
            gone = asyncio.create_task(_disconnected(receive))
            done, pending = await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task is pump and task.exception() is not None:
                    raise task.exception()
        finally:
            self.state.streams.release()
            connections.set(self.state.streams.open)

    def _authorize(self, headers: dict[str, str]) -> _Opened | Exception:
        """The principal and Last-Event-ID, or what refuses them (rendered as the API renders it: a
        problem, 503 + Retry-After when Redis or the database is down)."""
        # A fresh app context (and so its own `g`): the thread starts from a copy of the loop's context,
        # which under `flask … stream-server` holds the CLI's app context, shared by every request.
        with self.app.app_context(), self.app.test_request_context(STREAM_PATH, headers=headers):
            try:
                principal = _stream_principal()
                return _Opened(principal, parse_last_event_id(headers.get("last-event-id", "")), headers)
            except Exception as exc:  # noqa: BLE001 — handed to the API's error handlers, which log the unexpected
                return exc
            finally:
                if not db.is_closed():
                    db.close()

    def _backlog(self, user_id: str, last_event_id: int | None) -> tuple[int, list[dict]]:
        with self.app.app_context(), db.connection_context():
            if last_event_id is None:
                return latest_id(user_id), []
            backlog = entries_after(user_id, last_event_id)
            return max([last_event_id] + [int(i["id"]) for i in backlog]), backlog

    def _missed(self, user_id: str, after: int) -> list[dict]:
        with self.app.app_context(), db.connection_context():
            return entries_after(user_id, after)

    async def _stream(self, opened: _Opened, send: Send) -> None:
        config, user_id, session_id = self.app.config, opened.principal.id, opened.principal.session_id
        heartbeat, clock = float(config["NOTIFY_SSE_HEARTBEAT"]), self.state.monotonic
        lease = UserStreamLease(redis=self.app.extensions["redis"], user_id=user_id, cap=config["STREAM_MAX_PER_USER"],
                                ttl=lease_ttl(heartbeat), wall=self.state.wall)
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            try:
                await pubsub.subscribe(*channels(user_id=user_id, session_id=session_id))
                await asyncio.to_thread(lease.open)
                last, backlog = await asyncio.to_thread(self._backlog, user_id, opened.last_event_id)
            except (redis.RedisError, OSError, pw.PeeweeException) as exc:
                log.warning("live stream not opened", extra={"error": type(exc).__name__})
                await self._problem(send, errors.StreamUnavailable(), opened.headers)
                return
            state = StreamState(user_id=user_id, session_id=session_id, stream_id=lease.stream_id, last=last,
                                lang=negotiate(opened.headers.get("accept-language")))  # events in its language
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            await _chunk(send, "retry: 3000\n\n")
            for item in backlog:
                chunk = state.emit(item)
                if chunk:
                    await _chunk(send, chunk)
            await self._live(pubsub, state, lease, opened, send, heartbeat, clock)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await _quietly(pubsub.aclose())
            if lease.member:
                await _quietly(asyncio.to_thread(lease.release))

    async def _live(self, pubsub, state: StreamState, lease: UserStreamLease, opened: _Opened, send: Send,
                    heartbeat: float, clock: Callable[[], float]) -> None:
        deadline = clock() + float(self.app.config["NOTIFY_SSE_MAX_SECONDS"])
        quiet_since, next_check = clock(), clock() + heartbeat
        link, lost, delay = _Link(), False, 0.2
        # redis-py reconnects a pub/sub connection by itself (and resubscribes): events published
        # meanwhile are gone, so a reconnect is the cue to read the inbox
        pubsub.connection.register_connect_callback(link.on_connect)
        while clock() < deadline:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(heartbeat, 1.0))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if not lost:
                    log.warning("live stream lost Redis", extra={"error": type(exc).__name__})
                lost = True
                await _chunk(send, ": reconnecting\n\n")  # keeps the client while the next read reconnects
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if lost or link.reconnected:
                lost, delay, link.reconnected = False, 0.2, False
                for item in await asyncio.to_thread(self._missed, opened.principal.id, state.last):
                    chunk = state.emit(item)
                    if chunk:
                        await _chunk(send, chunk)
            chunk, reason = state.handle(message)
            if reason is None and clock() >= next_check:
                next_check = clock() + heartbeat
                reason = await asyncio.to_thread(heartbeat_check, lease, opened.principal.session_id,
                                                 self.check_session)
            if reason is not None:
                log.info("live stream ended", extra={"reason": reason})
                await _chunk(send, end_event(reason))
                return
            if chunk:
                quiet_since = clock()
                await _chunk(send, chunk)
            elif clock() - quiet_since >= heartbeat:
                quiet_since = clock()
                await _chunk(send, ": keep-alive\n\n")

    async def _problem(self, send: Send, exc: Exception, headers: dict[str, str]) -> None:
        status, response_headers, body = await asyncio.to_thread(self._render, exc, headers)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    def _render(self, exc: Exception, headers: dict[str, str]) -> tuple[int, list, bytes]:
        """The API's own problem+json for `exc` (its handlers, its language choice)."""
        with self.app.app_context(), self.app.test_request_context(STREAM_PATH, headers=headers):
            response = self.app.make_response(self.app.handle_user_exception(exc))
            return (response.status_code, [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                           for k, v in response.headers.items()], response.get_data())


async def _chunk(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _plain(send: Send, status: int, body: dict) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _disconnected(receive: Callable) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _quietly(awaitable: Awaitable) -> None:
    try:
        await awaitable
    except (redis.RedisError, OSError):  # closing after an outage; the lease expires by itself
        pass
