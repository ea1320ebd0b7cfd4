"""APNs (Apple Push Notification service) over HTTP/2 with token-based authentication.

`POST /3/device/<token>` on api.push.apple.com, one HTTP/2 connection multiplexing every push
(httpx with h2). Authorization: `bearer <JWT>`, an ES256 JWT {iss: team id, iat} with header
{alg: ES256, kid: key id} signed by the .p8 key; Apple refuses a token younger than 20 minutes
being replaced too often (TooManyProviderTokenUpdates) and one older than 60 (ExpiredProviderToken),
so it is renewed after 40 minutes. Headers: apns-topic (bundle id), apns-push-type (alert),
apns-priority (10 urgent, 5 otherwise), apns-expiration (UNIX time; 0 = do not store),
apns-collapse-id (≤ 64 bytes), apns-id (a UUID from the delivery's idempotency key, so a retried
push shows as the same notification). Payload ≤ 4 KB.

Answers: 200 sent; 410 Unregistered and 400 BadDeviceToken/DeviceTokenNotForTopic → token dead;
403 ExpiredProviderToken/InvalidProviderToken → renew the JWT and retry once; 429 and 5xx →
retryable; other 4xx (PayloadTooLarge, BadTopic, …) → rejected.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from typing import Callable

import httpx
import jwt

from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead

TOKEN_REFRESH_SECONDS = 40 * 60  # inside Apple's 20–60 minute window
MAX_PAYLOAD = 4096
_DEAD_400 = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic"})
_RENEW_403 = frozenset({"ExpiredProviderToken", "InvalidProviderToken"})


def _clip_utf8(text: str, limit: int) -> str:
    return text.encode()[:limit].decode(errors="ignore")


def collapse_id(key: str) -> str:
    """apns-collapse-id: the key itself when it is ASCII of ≤ 64 bytes (a case number), otherwise a
    stable digest (an HTTP header carries no Chinese, and a cut key could merge two cases)."""
    if key.isascii() and len(key) <= 64:
        return key
    return "h-" + hashlib.sha256(key.encode()).hexdigest()[:40]


class ApnsChannel:
    name = "apns"

    def __init__(self, *, endpoint: str, team_id: str, key_id: str, private_key_pem: str, topic: str,
                 clock: Callable[[], float] = time.time, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not (team_id and key_id and private_key_pem and topic):
            raise ValueError("APNs needs a team id, key id, .p8 key and topic")
        self.endpoint = endpoint.rstrip("/")
        self.team_id, self.key_id, self.topic = team_id, key_id, topic
        self._key = private_key_pem
        self._clock = clock
        self._lock = threading.Lock()
        self._jwt: tuple[str, float] | None = None
        # HTTP/2 only: over TLS ALPN offers h2 alone; over plain http (tests) prior knowledge.
        self._client = httpx.Client(http1=False, http2=True, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"ApnsChannel(endpoint={self.endpoint!r}, topic={self.topic!r}, key_id={self.key_id!r})"

    def provider_token(self, *, renew: bool = False) -> str:
        """The current ES256 provider token, renewed after 40 minutes (or on demand)."""
        with self._lock:
            now = self._clock()
            if renew or self._jwt is None or now - self._jwt[1] >= TOKEN_REFRESH_SECONDS:
                issued = int(now)
                token = jwt.encode({"iss": self.team_id, "iat": issued}, self._key, algorithm="ES256",
                                   headers={"kid": self.key_id})
                self._jwt = (token, issued)
            return self._jwt[0]

    def payload(self, message: PushMessage) -> bytes:
        aps = {"alert": {"title": message.title, "body": message.body}, "sound": "default",
               "thread-id": message.collapse_key or message.kind}
        body = {"aps": aps, **{k: v for k, v in message.data.items() if k != "aps"}}
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if len(raw) > MAX_PAYLOAD:  # shorten the body rather than lose the notice
            aps["alert"]["body"] = _clip_utf8(message.body, max(0, len(message.body.encode()) - (len(raw) - MAX_PAYLOAD) - 3)) + "…"
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return raw

    def headers(self, message: PushMessage, provider_token: str) -> dict[str, str]:
        headers = {
            "authorization": f"bearer {provider_token}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10" if message.urgent else "5",
            "apns-expiration": str(int(message.expires_at.timestamp())) if message.expires_at else "0",
            "apns-id": str(uuid.uuid5(uuid.NAMESPACE_URL, message.idempotency_key)),
        }
        if message.collapse_key:
            headers["apns-collapse-id"] = collapse_id(message.collapse_key)
        return headers

    def send(self, token: str, message: PushMessage) -> None:
        body = self.payload(message)
        for renewed in (False, True):
            try:
                response = self._client.post(f"{self.endpoint}/3/device/{token}", content=body,
                                             headers=self.headers(message, self.provider_token(renew=renewed)))
            except httpx.HTTPError as exc:
                raise PushRetryable(f"apns unreachable: {type(exc).__name__}") from exc
            if response.status_code == 200:
                return
            reason = _reason(response)
            if response.status_code == 403 and reason in _RENEW_403 and not renewed:
                continue
            break
        status = response.status_code
        if status == 410 or (status == 400 and reason in _DEAD_400):
            raise TokenDead(f"apns {status} {reason}")
        if status == 429 or status >= 500:
            raise PushRetryable(f"apns {status} {reason}", retry_after=_retry_after(response))
        raise PushRejected(f"apns {status} {reason}")


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))[:64]
    except ValueError:
        return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
