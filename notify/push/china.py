"""What the Chinese vendor channels share (OPPO, vivo; Huawei and Xiaomi use the token and the quota):
the vendor auth token cached for every worker, the service-message category of a notice kind, and
the daily quota that makes a delivery wait for the next day (China time) instead of spending its
retries.

Categories follow the vendors' message classification (OPPO since 2024-11-20, vivo's `category`):
only the service ("communication and service") categories are used — ACCOUNT, ORDER, TODO — never
the content/marketing ones, which are capped at a few messages a day per device.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Collection, TypeVar

from notify.push.base import PushRejected, PushRetryable, TokenDead

T = TypeVar("T")

CHINA_UTC_OFFSET = 8 * 3600
MIDNIGHT_MARGIN = 300  # seconds after midnight China time before a stopped channel sends again

# Notice kind → service category. A kind not named here is placed by its prefix (CATEGORY_PREFIXES),
# then falls back to DEFAULT_CATEGORY; all three are service categories.
KIND_CATEGORIES = {
    "case_status": "ORDER", "appointment_reminder": "TODO", "evaluation_invite": "TODO",
    "evaluation_reminder": "TODO", "licence_used": "ACCOUNT", "signing_locked": "ACCOUNT",
    "signing_security": "ACCOUNT", "new_device": "ACCOUNT", "account_security": "ACCOUNT", "system": "ACCOUNT",
}
CATEGORY_PREFIXES = (("licence_", "ACCOUNT"), ("proxy_", "ACCOUNT"), ("certificate_", "ACCOUNT"),
                     ("signing_", "TODO"), ("case_", "ORDER"), ("appointment_", "ORDER"))
DEFAULT_CATEGORY = "ORDER"


def service_category(kind: str) -> str:
    """The vendors' service-message category for a notice kind (ACCOUNT, ORDER or TODO)."""
    if kind in KIND_CATEGORIES:
        return KIND_CATEGORIES[kind]
    if kind.endswith("_reminder") or kind.endswith("_requested"):
        return "TODO"
    return next((category for prefix, category in CATEGORY_PREFIXES if kind.startswith(prefix)), DEFAULT_CATEGORY)


def seconds_to_china_midnight(now: float) -> int:
    """Seconds from `now` (epoch) until the next 00:00 in China (UTC+8), plus a small margin."""
    return 86400 - int((now + CHINA_UTC_OFFSET) % 86400) + MIDNIGHT_MARGIN


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class VendorToken:
    """A vendor's auth token, shared by every worker through `cache` (Redis; in-process without one),
    fetched again when absent, expired or refused (`stale`)."""

    def __init__(self, key: str, fetch: Callable[[], str], *, ttl: int, cache=None,
                 clock: Callable[[], float] = time.time) -> None:
        self.key, self._fetch, self.ttl = key, fetch, ttl
        self._cache = cache
        self._clock = clock
        self._local: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def get(self, *, stale: str | None = None) -> str:
        with self._lock:
            cached = self._cached()
            if cached and cached != stale:
                return cached
            token = self._fetch()
            if self._cache is not None:
                self._cache.set(self.key, token, ex=self.ttl)
            self._local = (token, self._clock() + self.ttl)
            return token

    def _cached(self) -> str | None:
        if self._cache is not None:
            return _text(self._cache.get(self.key))
        if self._local and self._local[1] > self._clock():
            return self._local[0]
        return None

    def call(self, request: Callable[[str], T], refused: Callable[[T], bool]) -> T:
        """`request(token)`; once more with a new token when the answer says the token was refused."""
        auth = self.get()
        answer = request(auth)
        if refused(answer):
            answer = request(self.get(stale=auth))
        return answer


class QuotaReached(PushRetryable):
    """A vendor's daily quota is used up: the delivery waits for the next day (China time), or a
    critical notice falls back to SMS (notify/delivery.py); counted apart from other retries."""


class DailyQuota:
    """Remembers that a vendor said the day's quota is used up, until midnight China time.

    vivo's documentation asks senders not to call the send API again that day after 10070 (or the
    quota is lowered); OPPO answers 33 for the same. While stopped, `check` raises `PushRetryable`
    with `retry_after` = the seconds left, which notify/delivery.py uses as the delivery's delay: the
    delivery spends one attempt and waits for the next day instead of backing off through its retries.
    """

    def __init__(self, key: str, *, cache=None, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self._cache = cache
        self._clock = clock
        self._until = 0.0

    def check(self, vendor: str) -> None:
        if self._stopped():
            raise QuotaReached(f"{vendor} daily quota reached (waiting for the next day)",
                                retry_after=seconds_to_china_midnight(self._clock()))

    def reached(self, reason: str) -> QuotaReached:
        """Record that the quota is used up; the error to raise for this push."""
        wait = seconds_to_china_midnight(self._clock())
        if self._cache is not None:
            self._cache.set(self.key, "1", ex=wait)
        self._until = self._clock() + wait
        return QuotaReached(reason, retry_after=wait)

    def raise_for(self, code, reason: str, *, dead: Collection, quota: Collection, retry: Collection) -> None:
        """Raise what a vendor's answer `code` (not success) means for the delivery."""
        if code in dead:
            raise TokenDead(reason)
        if code in quota:
            raise self.reached(reason)
        if code in retry:
            raise PushRetryable(reason)
        raise PushRejected(reason)

    def _stopped(self) -> bool:
        if self._cache is not None:
            return bool(_text(self._cache.get(self.key)))
        return self._until > self._clock()
