"""The push channel interface: one `send(token, message)` per provider, three ways to fail.

A channel raises `TokenDead` when the provider says the token will never work again (the device
is dropped), `PushRejected` when this message will never be accepted (the delivery goes to the
dead letters at once), and `PushRetryable` for everything that may pass later (backoff).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class PushMessage:
    """What a push carries: the notice's title and body (no other personal data), the ids the app
    needs (`data`), and delivery hints."""

    title: str
    body: str
    kind: str
    idempotency_key: str  # stable across retries of one delivery (apns-id, JPush cid, …)
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    urgent: bool = False
    expires_at: datetime | None = None  # None: the provider's default storage
    created_at: datetime | None = None


class PushError(Exception):
    """A push failed; `reason` is the provider's own code (logged and recorded, never the token)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.retry_after = retry_after


class TokenDead(PushError):
    """The token is unregistered / invalid for good (APNs 410, FCM UNREGISTERED, WeChat 43101 …)."""


class PushRejected(PushError):
    """This message will never be accepted (payload too large, bad topic …): no retry."""


class PushRetryable(PushError):
    """Timeouts, 429, 5xx, an expired access token that could not be renewed: try again later."""


class PushChannel(Protocol):
    """One provider (APNs, FCM, JPush, WeChat subscribe messages, SMS, or the development log)."""

    name: str

    def send(self, token: str, message: PushMessage) -> None:
        """Deliver `message` to `token`; raise a `PushError` subclass on failure."""
        ...


def token_hint(token: str) -> str:
    """What may be logged or shown of a token: its last 4 characters."""
    return "…" + token[-4:] if len(token) >= 12 else "…"
