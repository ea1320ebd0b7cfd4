"""CircuitBreaker state machine (no network)."""

from __future__ import annotations

import threading

import pytest
from werkzeug.wrappers import Response

from app.adapters.http import CircuitBreaker, CircuitOpen, make_session
from app.security.pii import mask_id_number, mask_phone
from tests.fakes.server import FakeServer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


def fail() -> None:
    raise Boom()


def test_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10, clock=clock)
    for _ in range(3):
        with pytest.raises(Boom):
            breaker.call(fail)
    assert breaker.state == "open"
    calls = []
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: calls.append(1))
    assert calls == []  # fn never invoked while open


def test_success_resets_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=Clock())
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.call(lambda: "ok") == "ok"
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.state == "closed"


def test_half_open_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)
    with pytest.raises(Boom):
        breaker.call(fail)
    clock.now += 9.9
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: None)
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.call(lambda: 42) == 42
    assert breaker.state == "closed"


def test_half_open_failure_reopens_for_full_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    for _ in range(2):
        with pytest.raises(Boom):
            breaker.call(fail)
    clock.now += 10
    with pytest.raises(Boom):
        breaker.call(fail)  # the single trial fails -> open again immediately
    assert breaker.state == "open"
    clock.now += 5
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: None)
    clock.now += 5
    assert breaker.state == "half_open"


def test_half_open_admits_exactly_one_trial_concurrently() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=1, clock=clock)
    with pytest.raises(Boom):
        breaker.call(fail)
    clock.now += 1
    entered, release = threading.Event(), threading.Event()
    results: list[str] = []

    def slow_trial() -> str:
        entered.set()
        release.wait(2)
        return "trial"

    worker = threading.Thread(target=lambda: results.append(breaker.call(slow_trial)))
    worker.start()
    assert entered.wait(2)
    for _ in range(5):
        with pytest.raises(CircuitOpen):
            breaker.call(lambda: "other")
    release.set()
    worker.join(2)
    assert results == ["trial"] and breaker.state == "closed"


def test_non_failure_exceptions_are_not_counted() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, failure_types=(Boom,), clock=Clock())
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert breaker.state == "closed"


def test_invalid_config() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(reset_timeout=0)


def test_session_retry_policy() -> None:
    session = make_session(connect_retries=1, status_retries=2, status_retry_methods={"get"})
    retry = session.get_adapter("https://example.invalid/").max_retries
    assert retry.connect == 1 and retry.read == 0 and retry.status == 2
    assert retry.allowed_methods == frozenset({"GET"})
    assert set(retry.status_forcelist) == {502, 503, 504}


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("123") == "***"


def test_session_retries_status_only_for_declared_methods() -> None:
    hits = {"n": 0}

    def flaky(environ, start_response):  # 503 on odd hits, 200 on even hits
        hits["n"] += 1
        status = 503 if hits["n"] % 2 else 200
        return Response("x", status=status)(environ, start_response)

    with FakeServer(flaky) as server:
        session = make_session(connect_retries=0, status_retries=1, backoff_factor=0)
        assert session.get(server.url + "/", timeout=(0.3, 0.3)).status_code == 200
        assert session.post(server.url + "/", timeout=(0.3, 0.3)).status_code == 503  # POST not retried
        assert [r.method for r in server.requests] == ["GET", "GET", "POST"]
