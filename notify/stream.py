"""The live stream (`GET /notifications/stream`, Server-Sent Events) fed by Redis pub/sub.

The stream subscribes to `notify:user:<id>` before it reads the inbox, so nothing published in
between is missed; `Last-Event-ID` (an inbox entry id) replays what came after it. While idle it
holds a Redis connection and a thread, never a database connection: the database is touched only
to resume — at the start, and after Redis came back from an outage (whatever was published while
it was down is read from the inbox, with an overlap: see `notify.inbox.RESUME_OVERLAP`). Events
are at least once: a client de-duplicates by `id`.
The stream ends after `max_seconds`; EventSource reconnects by itself with `Last-Event-ID`.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Iterator

import redis

from app.db import db
from notify.inbox import entries_after, latest_id
from notify.ingest import CHANNEL

log = logging.getLogger(__name__)


def _event(item: dict) -> str:
    return f"id: {item['id']}\nevent: notification\ndata: {json.dumps(item, ensure_ascii=False, separators=(',', ':'))}\n\n"


class NotificationStream:
    """Set up inside the request (subscription, backlog); iterated after the request's teardown."""

    def __init__(self, *, user_id: str, last_event_id: int | None, redis_client: redis.Redis,
                 heartbeat: float, max_seconds: float) -> None:
        self.user_id = user_id
        self.redis = redis_client
        self.heartbeat = heartbeat
        self.max_seconds = max_seconds
        self.pubsub = self._subscribe()
        if last_event_id is None:
            self.last, self.backlog = latest_id(user_id), []
        else:
            self.backlog = entries_after(user_id, last_event_id)
            self.last = max([last_event_id] + [int(i["id"]) for i in self.backlog])
        self.sent: set[int] = set()

    def _subscribe(self) -> redis.client.PubSub:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(CHANNEL.format(self.user_id))
        self.reconnected = False
        # redis-py reconnects a pub/sub connection by itself (and resubscribes): events published
        # meanwhile are gone, so a reconnect is the cue to read the inbox.
        pubsub.connection.register_connect_callback(self._on_reconnect)
        return pubsub

    def _on_reconnect(self, connection) -> None:
        self.reconnected = True

    def _emit(self, item: dict) -> str | None:
        entry_id = int(item["id"])
        if entry_id in self.sent:
            return None
        self.sent.add(entry_id)
        self.last = max(self.last, entry_id)
        return _event(item)

    def __iter__(self) -> Iterator[str]:
        try:
            yield "retry: 3000\n\n"
            for item in self.backlog:
                chunk = self._emit(item)
                if chunk:
                    yield chunk
            yield from self._live()
        finally:
            self._close()

    def _live(self) -> Iterator[str]:
        deadline = time.monotonic() + self.max_seconds
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            try:
                message = self.pubsub.get_message(timeout=min(self.heartbeat, 1.0))
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                yield from self._recover(deadline)
                continue
            if self.reconnected:
                self.reconnected = False
                yield from self._catch_up()
            if message is not None and message.get("type") == "message":
                chunk = self._emit(json.loads(message["data"]))
                if chunk:
                    quiet_since = time.monotonic()
                    yield chunk
            elif time.monotonic() - quiet_since >= self.heartbeat:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"

    def _recover(self, deadline: float) -> Iterator[str]:
        """Redis went away: resubscribe (keeping the client with heartbeats), then read the inbox."""
        self._close()
        delay = 0.2
        while time.monotonic() < deadline:
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
            missed = entries_after(self.user_id, self.last)
        log.info("live stream resubscribed", extra={"missed": len(missed)})
        for item in missed:
            chunk = self._emit(item)
            if chunk:
                yield chunk

    def _close(self) -> None:
        try:
            self.pubsub.close()
        except (redis.RedisError, OSError):
            pass
