"""The notify worker (`flask --app wsgi notify worker`): outbox → inbox + live event → pushes.

Any number of workers may run (processes, threads, machines): rows are leased, and every step is
idempotent, so a worker killed at any point loses nothing — its leases expire and another worker
(or itself, restarted) picks the rows up. Development also runs one inside each gunicorn worker
process (gunicorn.conf.py `post_worker_init`); tests start one explicitly.
"""
from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

import peewee as pw
import redis
from flask import Flask

from app.db import db, unit_of_work, utcnow
from app.errors import REDIS_CLUSTER_OUTAGES
from notify import models
from notify.delivery import DeliverySettings, process_delivery_batch
from notify.ingest import IngestSettings, process_outbox_batch
from notify.push.base import PushChannel

log = logging.getLogger(__name__)


class NotifyWorker:
    """One worker: `run_once()` handles one batch of each stage; `run(stop)` loops until `stop` is set."""

    def __init__(self, app: Flask, *, channels: dict[str, PushChannel] | None = None,
                 clock: Callable[[], datetime] = utcnow, rng: random.Random | None = None) -> None:
        config = app.config
        self.app = app
        self.channels = channels if channels is not None else app.extensions["notify"].channels
        self.clock = clock
        self.rng = rng or random.Random()
        self.poll_interval = float(config["NOTIFY_POLL_INTERVAL"])
        self.backoff_base = float(config["NOTIFY_BACKOFF_BASE"])
        self.backoff_max = float(config["NOTIFY_BACKOFF_MAX"])
        self.ingest = IngestSettings(batch=config["NOTIFY_BATCH"], lease_seconds=config["NOTIFY_LEASE_SECONDS"],
                                     max_attempts=config["NOTIFY_MAX_ATTEMPTS"])
        self.delivery = DeliverySettings(batch=config["NOTIFY_BATCH"], lease_seconds=config["NOTIFY_LEASE_SECONDS"],
                                         max_attempts=config["NOTIFY_MAX_ATTEMPTS"], push_ttl=config["NOTIFY_PUSH_TTL"])
        self.pool = ThreadPoolExecutor(max_workers=config["NOTIFY_PUSH_CONCURRENCY"], thread_name_prefix="push")

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with jitter: base·2^(n-1), capped, times a random factor in [0.5, 1)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(0, attempts - 1))
        return ceiling * (0.5 + self.rng.random() / 2)

    def run_once(self) -> int:
        """One batch of outbox rows and one of deliveries; how many rows were handled."""
        with self.app.app_context(), db.connection_context():
            redis_client = self.app.extensions["redis"]
            handled = process_outbox_batch(redis_client=redis_client, now=self.clock(), settings=self.ingest,
                                           backoff=self.backoff)
            handled += process_delivery_batch(channels=self.channels, cipher=self.app.extensions["pii"],
                                              now=self.clock(), settings=self.delivery, backoff=self.backoff,
                                              pool=self.pool)
        return handled

    def drain(self, max_rounds: int = 10_000) -> int:
        """Run batches until nothing is due (tests, `notify worker --once`); rows handled."""
        total = 0
        for _ in range(max_rounds):
            handled = self.run_once()
            total += handled
            if not handled:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop`; a full batch loops at once, an empty one waits `NOTIFY_POLL_INTERVAL`.
        Database or Redis outages are logged and waited out (backoff up to 5 s), a Redis Cluster's too:
        redis-py's cluster errors (no node reachable, a shard down) are not `RedisError`s."""
        failures = 0
        log.info("notify worker started", extra={"channels": sorted(self.channels)})
        while not stop.is_set():
            try:
                handled = self.run_once()
                failures = 0
            except (pw.OperationalError, pw.InterfaceError, redis.RedisError, *REDIS_CLUSTER_OUTAGES) as exc:
                failures += 1
                log.warning("notify worker: backend unavailable", extra={"error": type(exc).__name__})
                stop.wait(min(5.0, 0.1 * 2 ** failures))
                continue
            if not handled:
                stop.wait(self.poll_interval)
        self.pool.shutdown(wait=True)
        log.info("notify worker stopped")


def start_background_worker(app: Flask) -> threading.Event:
    """Development: a worker thread inside this (server) process; set the returned event to stop it."""
    stop = threading.Event()
    worker = NotifyWorker(app)
    threading.Thread(target=worker.run, args=(stop,), name="notify-worker", daemon=True).start()
    return stop


def replay_dead(*, outbox_id: int | None = None) -> tuple[int, int]:
    """Re-queue dead letters (all, or those of one outbox row): (outbox rows, deliveries)."""
    with unit_of_work():
        return models.requeue_dead(now=utcnow(), outbox_id=outbox_id)


def stats() -> dict[str, dict[str, int]]:
    """Counts by status: outbox rows, deliveries, and push attempts per channel."""
    return models.status_counts()
