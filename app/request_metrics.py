"""The request count and latency of every request, tallied in the process and written to Prometheus'
files at most once a second (issue 20: logging and metrics ≤ 4 % of a request).

In multi-process mode (gunicorn, granian: PROMETHEUS_MULTIPROC_DIR) each `inc`/`observe` takes a lock,
asks the pid and writes an mmap'ed file: three writes a request (the count, the latency's bucket and
its sum), about 2 % of the cheapest request. Here a request adds to a dict under a lock; a flush
writes each (method, endpoint[, status]) once with the whole tally — on the first request a second
or more after the last flush, from a daemon thread when requests stop (so the last second shows
within about two), and at exit. /metrics therefore lags by at most ~2 s, well inside a scrape
interval; a worker killed outright loses at most its last second's tally.

The latency tally is kept per bucket of the histogram and written with `Histogram`'s own value
objects (`_sum`, `_buckets`: prometheus_client's, pinned `<0.27`; tests/kernel/test_request_metrics.py
checks the exposition equals what `observe` would have written).

The business counters (app/business_metrics.py: logins, verifications, signatures, SM2 operations, case
events) go through the same tally (`count`), so a counted request still writes at most once a second.
Its daemon thread also runs the periodic probes registered with `every` (the DB pool and Redis round
trip of an API worker), off the request path.
"""
from __future__ import annotations

import atexit
import bisect
import threading
import time
from typing import Any, Callable

from prometheus_client import Counter, Histogram

FLUSH_EVERY = 1.0  # seconds
_MAX_KEYS = 1024  # a client inventing methods cannot grow the tally (then it is flushed at once)


class RequestTally:
    def __init__(self, requests_counter: Any, latency_histogram: Any) -> None:
        self._requests = requests_counter
        self._latency = latency_histogram
        self._bounds = list(latency_histogram._upper_bounds)  # ends with +Inf
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._times: dict[tuple[str, str], list] = {}  # → [count per bucket..., sum]
        self._other: dict[tuple[Any, tuple[str, ...]], int] = {}  # (counter, label values) → n
        self._periodic: dict[str, list] = {}  # name → [seconds, callable, last run (monotonic)]
        self._last_flush = time.monotonic()
        self._thread: threading.Thread | None = None

    def add(self, method: str, endpoint: str, status: int, seconds: float | None) -> None:
        with self._lock:
            key = (method, endpoint, status)
            self._counts[key] = self._counts.get(key, 0) + 1
            if seconds is not None:
                tally = self._times.get((method, endpoint))
                if tally is None:
                    tally = self._times[(method, endpoint)] = [0] * len(self._bounds) + [0.0]
                tally[bisect.bisect_left(self._bounds, seconds)] += 1  # the first bound ≥ seconds
                tally[-1] += seconds
            due = time.monotonic() - self._last_flush >= FLUSH_EVERY or len(self._counts) + len(self._times) > _MAX_KEYS
        if due:
            self.flush()
        elif self._thread is None:
            self._start_idle_flusher()

    def count(self, counter: Any, labels: tuple[str, ...], n: int = 1) -> None:
        """`counter.labels(*labels).inc(n)`, tallied: written with the next flush."""
        with self._lock:
            key = (counter, labels)
            self._other[key] = self._other.get(key, 0) + n
            due = time.monotonic() - self._last_flush >= FLUSH_EVERY or len(self._other) > _MAX_KEYS
        if due:
            self.flush()
        elif self._thread is None:
            self._start_idle_flusher()

    def every(self, name: str, seconds: float, job: Callable[[], None]) -> None:
        """Run `job` from the flush thread about every `seconds` (the latest registration of `name`
        wins: a test making many apps leaves one probe). The thread starts with the first tally."""
        with self._lock:
            self._periodic[name] = [seconds, job, 0.0]

    def flush(self) -> None:
        with self._lock:
            counts, times, other = self._counts, self._times, self._other
            self._counts, self._times, self._other = {}, {}, {}
            self._last_flush = time.monotonic()
        for (counter, labels), n in other.items():
            counter.labels(*labels).inc(n)
        for (method, endpoint, status), n in counts.items():
            self._requests.labels(method, endpoint, str(status)).inc(n)
        for (method, endpoint), tally in times.items():
            child = self._latency.labels(method, endpoint)
            child._sum.inc(tally[-1])
            for bucket, n in zip(child._buckets, tally):
                if n:
                    bucket.inc(n)

    def _start_idle_flusher(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._idle_flusher, name="metrics-flush", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _idle_flusher(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY)
            if (self._counts or self._times or self._other) and time.monotonic() - self._last_flush >= FLUSH_EVERY:
                self.flush()
            self._run_periodic()

    def _run_periodic(self) -> None:
        now = time.monotonic()
        for entry in list(self._periodic.values()):
            seconds, job, last = entry
            if now - last >= seconds:
                entry[2] = now
                try:
                    job()
                except Exception:  # noqa: BLE001 — a probe must never stop the flushing; it records its own failure
                    pass


# The request metrics of every process (app/health.py exports them; the business counters share the tally).
REQUESTS = Counter("yiwang_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("yiwang_http_request_duration_seconds", "HTTP request latency", ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
TALLY = RequestTally(REQUESTS, LATENCY)  # one per process, as the metrics themselves
