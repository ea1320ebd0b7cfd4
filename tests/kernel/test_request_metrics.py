"""Request metrics tallied in the process and flushed (app/request_metrics.py, issue 20): what reaches
Prometheus is what `Counter.inc` and `Histogram.observe` per request would have written."""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from app import request_metrics
from app.request_metrics import RequestTally

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = [("GET", "/a", 200, 0.004), ("GET", "/a", 200, 0.005), ("GET", "/a", 404, 0.0051),
            ("POST", "/b", 201, 0.3), ("POST", "/b", 201, 12.0), ("GET", "/a", 200, None), ("GET", "/a", 500, 1.0)]


def _pair():
    registry = CollectorRegistry()
    counter = Counter("t_requests_total", "r", ["method", "endpoint", "status"], registry=registry)
    histogram = Histogram("t_latency_seconds", "l", ["method", "endpoint"], buckets=BUCKETS, registry=registry)
    return registry, counter, histogram


def _exposition(registry) -> list[str]:
    return sorted(line for line in generate_latest(registry).decode().splitlines()
                  if line and not line.startswith("#") and "_created" not in line)


def test_a_flushed_tally_is_what_per_request_writes_would_have_been(monkeypatch):
    monkeypatch.setattr(request_metrics, "FLUSH_EVERY", 3600.0)
    direct, counter, histogram = _pair()
    for method, endpoint, status, seconds in REQUESTS:
        counter.labels(method, endpoint, str(status)).inc()
        if seconds is not None:
            histogram.labels(method, endpoint).observe(seconds)
    tallied, counter2, histogram2 = _pair()
    tally = RequestTally(counter2, histogram2)
    for request in REQUESTS:
        tally.add(*request)
    assert not any(line.startswith("t_requests_total{") for line in _exposition(tallied)), "written before a flush"
    tally.flush()
    assert _exposition(tallied) == _exposition(direct)
    tally.flush()  # nothing pending: nothing written twice
    assert _exposition(tallied) == _exposition(direct)


def test_a_request_a_second_after_the_last_flush_flushes(monkeypatch):
    registry, counter, histogram = _pair()
    tally = RequestTally(counter, histogram)
    monkeypatch.setattr(request_metrics, "FLUSH_EVERY", 0.0)
    tally.add("GET", "/a", 200, 0.01)
    assert 't_requests_total{endpoint="/a",method="GET",status="200"} 1.0' in _exposition(registry)


def test_the_idle_flusher_writes_what_the_last_requests_left(monkeypatch):
    registry, counter, histogram = _pair()
    monkeypatch.setattr(request_metrics, "FLUSH_EVERY", 0.05)
    tally = RequestTally(counter, histogram)
    tally._last_flush = time.monotonic()
    tally.add("GET", "/idle", 200, 0.01)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any('endpoint="/idle"' in line for line in _exposition(registry)):
        time.sleep(0.02)
    assert 't_requests_total{endpoint="/idle",method="GET",status="200"} 1.0' in _exposition(registry)


def test_counted_outcomes_are_tallied_and_written_once_at_the_flush(monkeypatch):
    """Issue 21: the business counters (app/business_metrics.py) share the tally."""
    monkeypatch.setattr(request_metrics, "FLUSH_EVERY", 3600.0)
    registry, counter, histogram = _pair()
    outcomes = Counter("t_outcomes_total", "o", ["kind", "result"], registry=registry)
    tally = RequestTally(counter, histogram)
    for result in ("ok", "ok", "code_refused"):
        tally.count(outcomes, ("counter", result))
    assert not any(line.startswith("t_outcomes_total{") for line in _exposition(registry))
    tally.flush()
    lines = _exposition(registry)
    assert 't_outcomes_total{kind="counter",result="ok"} 2.0' in lines
    assert 't_outcomes_total{kind="counter",result="code_refused"} 1.0' in lines


def test_periodic_jobs_run_from_the_flush_thread_and_a_failing_one_does_not_stop_it(monkeypatch):
    monkeypatch.setattr(request_metrics, "FLUSH_EVERY", 0.02)
    registry, counter, histogram = _pair()
    tally = RequestTally(counter, histogram)
    runs = []

    def failing() -> None:
        raise RuntimeError("probe failed")

    tally.every("broken", 0.0, failing)
    tally.every("probe", 0.0, lambda: runs.append(1))
    tally._last_flush = time.monotonic()
    tally.add("GET", "/a", 200, 0.01)  # starts the thread
    deadline = time.monotonic() + 5
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(runs) >= 3
