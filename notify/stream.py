"""The live stream (`GET /notifications/stream`, Server-Sent Events) fed by Redis pub/sub, as the
Flask route serves it (`make run`, tests, a threaded pool); production serves the same stream from
`notify stream-server` (notify/asgi.py), which holds no thread per stream.

The stream subscribes to `notify:user:<id>` before it reads the inbox, so nothing published in
between is missed; `Last-Event-ID` (an inbox entry id) replays what came after it. While idle it
holds a Redis connection and a thread, never a database connection: the database is touched only
to resume — at the start, and after Redis came back from an outage (whatever was published while
it was down is read from the inbox, with an overlap: see `notify.inbox.RESUME_OVERLAP`). Events
are at least once: a client de-duplicates by `id`.
Every heartbeat the stream renews its lease among the citizen's streams and re-checks its session;
a logout, a revoked session or a newer stream past the cap ends it at once (notify/sse.py).
Events are worded in the connection's language (its `Accept-Language`, `lang`), whatever the worker
that published them spoke (notify/inbox.py `for_reader`). The stream ends after `max_seconds`; EventSource reconnects by itself with `Last-Event-ID`.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator

import redis
from flask import Flask

from app.db import db
from app.i18n import DEFAULT
from app.security.auth import session_revoked
from notify import errors
from notify.inbox import entries_after, latest_id
from notify.limits import UserStreamLease
from notify.sse import StreamState, channels, end_event

log = logging.getLogger(__name__)


def session_checker(app: Flask) -> Callable[[str], bool]:
    """`session_id → revoked?` usable outside a request (a stream runs after its request's teardown)."""
    def check(session_id: str) -> bool:
        with app.app_context():
            try:
                return session_revoked(session_id)
            finally:  # the database is asked only after Redis lost its data; never hold it
                if not db.is_closed():
                    db.close()
    return check


def heartbeat_check(lease: UserStreamLease, session_id: str | None,
                    session_check: Callable[[str], bool]) -> str | None:
    """The heartbeat's checks (both servers): the lease still held, the session not revoked; why the
    stream must end, or None."""
    try:
        if not lease.renew():
            return "stream_limit"
        if session_id and session_check(session_id):
            return "session_revoked"
    except redis.RedisError as exc:  # the pub/sub read notices the outage too; checked again next beat
        log.warning("live stream check failed", extra={"error": type(exc).__name__})
    return None


def parse_last_event_id(raw: str) -> int | None:
    """`Last-Event-ID`: empty, or an inbox entry id (422 `last_event_id_invalid` otherwise)."""
    raw = raw.strip()
    if raw and (not raw.isdigit() or len(raw) > 18):
        raise errors.LastEventIdInvalid()
    return int(raw) if raw else None


def lease_ttl(heartbeat: float) -> float:
    """A lease outlives two missed heartbeats."""
    return 3 * heartbeat + 5


def open_stream(app: Flask, *, user_id: str, session_id: str | None, last_event_id: int | None,
                lang: str = DEFAULT) -> NotificationStream:
    """A slot in this process (or 503 `stream_capacity`), a lease among the citizen's streams (the
    oldest beyond `STREAM_MAX_PER_USER` is closed), the subscription and the backlog."""
    state, config = app.extensions["notify"], app.config
    if not state.streams.acquire():
        log.warning("live stream refused: process full", extra={"open": state.streams.open})
        raise errors.StreamCapacity()
    lease = UserStreamLease(redis=app.extensions["redis"], user_id=user_id, cap=config["STREAM_MAX_PER_USER"],
                            ttl=lease_ttl(config["NOTIFY_SSE_HEARTBEAT"]), wall=state.wall)
    try:
        return NotificationStream(user_id=user_id, session_id=session_id, last_event_id=last_event_id,
                                  redis_client=app.extensions["redis"], heartbeat=config["NOTIFY_SSE_HEARTBEAT"],
                                  max_seconds=config["NOTIFY_SSE_MAX_SECONDS"], lease=lease,
                                  session_check=session_checker(app), on_close=state.streams.release,
                                  clock=state.monotonic, lang=lang)
    except OSError as exc:
        raise errors.StreamUnavailable() from exc


class NotificationStream:
    """Set up inside the request (subscription, lease, backlog); iterated after the request's teardown.
    `close()` (the WSGI server calls it, started or not) gives back the lease and the process slot."""

    def __init__(self, *, user_id: str, session_id: str | None, last_event_id: int | None,
                 redis_client: redis.Redis, heartbeat: float, max_seconds: float, lease: UserStreamLease,
                 session_check: Callable[[str], bool], on_close: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic, lang: str = DEFAULT) -> None:
        self.user_id, self.session_id = user_id, session_id
        self.redis = redis_client
        self.heartbeat, self.max_seconds, self.clock = heartbeat, max_seconds, clock
        self.lease, self.session_check, self._on_close = lease, session_check, on_close
        self._closed, self._iterator = False, None
        self.opened_at = clock()  # the heartbeats and the deadline count from here, not from the first read
        try:
            self.pubsub = self._subscribe()
            lease.open()
            if last_event_id is None:
                last, self.backlog = latest_id(user_id), []
            else:
                self.backlog = entries_after(user_id, last_event_id)
                last = max([last_event_id] + [int(i["id"]) for i in self.backlog])
        except BaseException:
            self._release()
            raise
        self.state = StreamState(user_id=user_id, session_id=session_id, stream_id=lease.stream_id, last=last,
                                 lang=lang)

    def _subscribe(self) -> redis.client.PubSub:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(*channels(user_id=self.user_id, session_id=self.session_id))
        self.reconnected = False
        # redis-py reconnects a pub/sub connection by itself (and resubscribes): events published
        # meanwhile are gone, so a reconnect is the cue to read the inbox.
        pubsub.connection.register_connect_callback(self._on_reconnect)
        return pubsub

    def _on_reconnect(self, connection) -> None:
        self.reconnected = True

    def __iter__(self) -> Iterator[str]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def _run(self) -> Iterator[str]:
        try:
            yield "retry: 3000\n\n"
            for item in self.backlog:
                chunk = self.state.emit(item)
                if chunk:
                    yield chunk
            yield from self._live()
        finally:
            self._release()

    def _live(self) -> Iterator[str]:
        deadline, quiet_since = self.opened_at + self.max_seconds, self.opened_at
        next_check = self.opened_at + self.heartbeat
        while self.clock() < deadline:
            try:
                message = self.pubsub.get_message(timeout=min(self.heartbeat, 1.0))
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                yield from self._recover(deadline)
                continue
            if self.reconnected:
                self.reconnected = False
                yield from self._catch_up()
            chunk, reason = self.state.handle(message)
            if reason is None and self.clock() >= next_check:
                next_check = self.clock() + self.heartbeat
                reason = self._check()
            if reason is not None:
                log.info("live stream ended", extra={"reason": reason})
                yield end_event(reason)
                return
            if chunk:
                quiet_since = self.clock()
                yield chunk
            elif self.clock() - quiet_since >= self.heartbeat:
                quiet_since = self.clock()
                yield ": keep-alive\n\n"

    def _check(self) -> str | None:
        return heartbeat_check(self.lease, self.session_id, self.session_check)

    def _recover(self, deadline: float) -> Iterator[str]:
        """Redis went away: resubscribe (keeping the client with heartbeats), then read the inbox."""
        self._close_pubsub()
        delay = 0.2
        while self.clock() < deadline:
            try:
                self.pubsub = self._subscribe()
                break
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                yield ": reconnecting\n\n"
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        else:
            return
        yield from self._catch_up()

    def _catch_up(self) -> Iterator[str]:
        with db.connection_context():
            missed = entries_after(self.user_id, self.state.last)
        log.info("live stream resubscribed", extra={"missed": len(missed)})
        for item in missed:
            chunk = self.state.emit(item)
            if chunk:
                yield chunk

    def _close_pubsub(self) -> None:
        try:
            pubsub = getattr(self, "pubsub", None)
            if pubsub is not None:
                pubsub.close()
        except (redis.RedisError, OSError):
            pass

    def close(self) -> None:
        """End the stream (the WSGI server calls it, whether the body was read or not)."""
        if self._iterator is not None:
            self._iterator.close()
        self._release()

    def _release(self) -> None:
        """Give back the subscription, the lease and the process slot (once)."""
        if self._closed:
            return
        self._closed = True
        self._close_pubsub()
        try:
            if self.lease.member:
                self.lease.release()
        except redis.RedisError:  # the lease expires by itself
            pass
        self._on_close()
