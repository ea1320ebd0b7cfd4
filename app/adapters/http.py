"""Shared HTTP plumbing for the production adapters.

Contents:

* :func:`make_session` -- a :class:`requests.Session` with a urllib3
  :class:`~urllib3.util.retry.Retry` policy.  Connection errors (the request
  never reached the server) are always safe to retry; retrying on 502/503/504
  is only enabled for the HTTP methods the caller explicitly declares safe.
  Read errors are never retried (the server may already have acted).
* :data:`Timeout` / :func:`check_timeout` -- every adapter call passes an
  explicit ``(connect, read)`` timeout; ``requests`` has no session default.
* :class:`CircuitBreaker` -- a thread-safe, in-process circuit breaker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Collection, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: ``(connect timeout, read timeout)`` in seconds, as accepted by ``requests``.
Timeout = tuple[float, float]

#: Gateway statuses that mean "the upstream did not handle the request".
RETRY_STATUSES: frozenset[int] = frozenset({502, 503, 504})


def check_timeout(timeout: Timeout) -> Timeout:
    """Return ``timeout`` as a float pair; raise ``ValueError`` unless both parts are > 0."""
    connect, read = float(timeout[0]), float(timeout[1])
    if connect <= 0 or read <= 0:
        raise ValueError("timeouts must be positive (connect, read) seconds")
    return (connect, read)


def make_session(
    *,
    connect_retries: int = 1,
    status_retries: int = 0,
    status_retry_methods: Collection[str] = frozenset({"GET"}),
    backoff_factor: float = 0.1,
) -> requests.Session:
    """Build a ``requests.Session`` with a conservative retry policy.

    Contract:
      * ``connect_retries`` retries happen for connection failures of *any*
        method (the request bytes were never delivered, so it is safe even
        for POST).
      * ``status_retries`` retries on 502/503/504 happen only for methods in
        ``status_retry_methods``; pass an empty set to disable.  Only declare
        methods whose calls are genuinely idempotent at the remote end.
      * Read errors / read timeouts are never retried here.
      * The caller must still pass an explicit ``timeout=`` on every request.
    """
    retry = Retry(
        total=connect_retries + status_retries,
        connect=connect_retries,
        read=0,
        redirect=0,
        other=0,
        status=status_retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(m.upper() for m in status_retry_methods),
        backoff_factor=backoff_factor,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class CircuitOpen(Exception):
    """Raised by :meth:`CircuitBreaker.call` when the call is refused without trying."""


class CircuitBreaker:
    """Thread-safe in-process circuit breaker.

    States:
      * ``closed``: calls pass; ``failure_threshold`` *consecutive* failures
        open the circuit.
      * ``open``: calls raise :class:`CircuitOpen` immediately for
        ``reset_timeout`` seconds.
      * ``half_open``: after the timeout exactly one trial call is let
        through (concurrent callers still get :class:`CircuitOpen`); success
        closes the circuit, failure re-opens it for another ``reset_timeout``.

    A "failure" is any exception that is an instance of ``failure_types``
    raised by ``fn``; other exceptions propagate without being counted.
    ``clock`` returns monotonic seconds and is injectable for tests.
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        failure_types: tuple[type[BaseException], ...] = (Exception,),
        clock: Callable[[], float] = time.monotonic,
        name: str = "breaker",
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("failure_threshold >= 1 and reset_timeout > 0 required")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.failure_types = failure_types
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """Current state name (``closed``, ``open`` or ``half_open``)."""
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> str:
        if self._opened_at is None:
            return self.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout:
            return self.HALF_OPEN
        return self.OPEN

    def _acquire(self) -> bool:
        """Admit a call; return True if it is the half-open trial call."""
        with self._lock:
            state = self._state_locked()
            if state == self.CLOSED:
                return False
            if state == self.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
        raise CircuitOpen(f"circuit '{self.name}' is open")

    def _on_success(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                logger.info("circuit %s closed after successful trial", self.name)
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def _on_failure(self, trial: bool) -> None:
        with self._lock:
            self._trial_in_flight = False
            self._failures += 1
            if trial or self._failures >= self.failure_threshold:
                logger.warning(
                    "circuit %s opened after %d consecutive failures",
                    self.name,
                    self._failures,
                )
                self._opened_at = self._clock()

    def _on_neutral(self, trial: bool) -> None:
        if trial:
            with self._lock:
                self._trial_in_flight = False

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` through the breaker; raise :class:`CircuitOpen` if refused."""
        trial = self._acquire()
        try:
            result = fn()
        except self.failure_types:
            self._on_failure(trial)
            raise
        except BaseException:
            self._on_neutral(trial)
            raise
        self._on_success()
        return result
