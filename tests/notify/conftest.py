"""Notify fixtures: a citizen with a token, notices queued through the outbox, a worker with a
recording channel and an injectable clock."""
from __future__ import annotations

import threading
from datetime import datetime, time, timedelta, timezone

import pytest

from app.db import db
from notify.outbox import enqueue
from notify.quiet import SHANGHAI
from notify.push.base import PushMessage, PushRetryable, TokenDead
from notify.tasks import NotifyWorker
from tests.helpers import bearer

# Tomorrow 10:00 Beijing time: outside quiet hours, and after any notice queued by the test (the
# outbox stamps rows with the real time).
DAYTIME = datetime.combine(datetime.now(SHANGHAI).date() + timedelta(days=1), time(10, 0),
                           tzinfo=SHANGHAI).astimezone(timezone.utc)


class Clock:
    """An injectable clock; tests move it instead of sleeping."""

    def __init__(self, now: datetime = DAYTIME) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class ScriptedChannel:
    """A push channel that records what it is asked and fails as scripted per token."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, PushMessage]] = []
        self.failures: dict[str, list[Exception]] = {}  # token → exceptions to raise, in turn
        self.dead: set[str] = set()
        self._lock = threading.Lock()

    def send(self, token: str, message: PushMessage) -> None:
        with self._lock:
            if token in self.dead:
                raise TokenDead("Unregistered")
            queued = self.failures.get(token)
            if queued:
                raise queued.pop(0)
            self.sent.append((token, message))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def channels():
    return {p: ScriptedChannel(p) for p in ("apns", "fcm", "hms", "jpush", "wechat", "sms")}


@pytest.fixture
def make_worker(app, channels, clock):
    made = []

    def make(**kw) -> NotifyWorker:
        worker = NotifyWorker(app, channels=kw.pop("channels", channels), clock=kw.pop("clock", clock), **kw)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.pool.shutdown(wait=True)


@pytest.fixture
def citizen(client, login_citizen):
    """A logged-in citizen: {"user_id", "headers"}."""
    answer = login_citizen()
    return {"user_id": answer["user"]["id"], "headers": bearer(answer["access_token"]), "tokens": answer}


@pytest.fixture
def notice(app):
    """Queue a notice through the outbox, as features do (inside a transaction)."""
    counter = iter(range(1, 10**9))

    def make(user_id: str, **kw) -> bool:
        kw.setdefault("kind", "case_status")
        kw.setdefault("title", "办件进度：已受理")
        kw.setdefault("body", "您办理的事项状态更新为：已受理。")
        kw.setdefault("dedupe_key", f"test:{next(counter)}")
        with app.app_context(), db.connection_context(), db.atomic():
            return enqueue(user_id=user_id, **kw)

    return make
