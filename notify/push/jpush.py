"""JPush (极光推送) v3, an aggregator that reaches Chinese Android phones through the vendors' own
channels (Huawei, Xiaomi, OPPO, vivo, Honor) as well as its own connection.

`POST /v3/push` with HTTP Basic auth (appKey:masterSecret). Idempotency: a `cid` from
`GET /v3/push/cid` is bound to the delivery's idempotency key (in Redis, for a day), so a retried
push carries the same cid and JPush does not deliver it twice. Progress notices are sent as
system messages (`classification: 1`), not marketing ones, which vendors cap at a few a day.
Answers: 200 sent; error 1011 (no target for this registration id) → token dead; 429, 2002,
2008 and 5xx → retryable; other errors → rejected.
"""
from __future__ import annotations

import base64
import threading
from typing import Any

import requests

from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead

CID_TTL = 86400
_DEAD = frozenset({1011})
_RETRY = frozenset({2002, 2008, 1030})  # rate limits, internal timeouts


class JPushChannel:
    name = "jpush"

    def __init__(self, *, endpoint: str, app_key: str, master_secret: str, cid_cache=None,
                 timeout: tuple[float, float] = (3.0, 10.0), session: requests.Session | None = None) -> None:
        if not (app_key and master_secret):
            raise ValueError("JPush needs an app key and master secret")
        self.endpoint = endpoint.rstrip("/")
        self.app_key = app_key
        self._auth = "Basic " + base64.b64encode(f"{app_key}:{master_secret}".encode()).decode()
        self._cache = cid_cache
        self._local: dict[str, str] = {}
        self._spare: list[str] = []
        self._lock = threading.Lock()
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)

    def __repr__(self) -> str:
        return f"JPushChannel(endpoint={self.endpoint!r}, app_key={self.app_key!r})"

    def cid_for(self, idempotency_key: str) -> str:
        """The cid bound to this delivery (the same one on every retry)."""
        key = f"notify:jpush:cid:{idempotency_key}"
        with self._lock:
            bound = self._cache.get(key) if self._cache is not None else self._local.get(key)
            if bound:
                return bound.decode() if isinstance(bound, bytes) else bound
            if not self._spare:
                self._spare = self._fetch_cids(50)
            cid = self._spare.pop()
            if self._cache is None:
                self._local[key] = cid
                return cid
            if not self._cache.set(key, cid, ex=CID_TTL, nx=True):  # another worker bound one first
                self._spare.append(cid)
                bound = self._cache.get(key)
                return bound.decode() if isinstance(bound, bytes) else bound
            return cid

    def _fetch_cids(self, count: int) -> list[str]:
        try:
            response = self._session.get(f"{self.endpoint}/v3/push/cid", params={"count": count, "type": "push"},
                                         headers={"Authorization": self._auth}, timeout=self.timeout)
            cids = response.json().get("cidlist") if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            raise PushRetryable(f"jpush cid unreachable: {type(exc).__name__}") from exc
        if not cids:
            raise PushRetryable(f"jpush cid refused: {response.status_code}")
        return list(cids)

    def body(self, token: str, message: PushMessage, cid: str) -> dict[str, Any]:
        options: dict[str, Any] = {"classification": 1, "apns_production": True,
                                   "third_party_channel": {"huawei": {"importance": "NORMAL", "category": "WORK"},
                                                           "vivo": {"classification": 1}}}
        if message.expires_at and message.created_at:
            options["time_to_live"] = max(0, int((message.expires_at - message.created_at).total_seconds()))
        if message.collapse_key:
            options["apns_collapse_id"] = message.collapse_key[:64]
        extras = dict(message.data)
        return {"cid": cid, "platform": "all", "audience": {"registration_id": [token]},
                "notification": {"alert": message.body,
                                 "android": {"alert": message.body, "title": message.title, "extras": extras,
                                             "priority": 1 if message.urgent else 0},
                                 "ios": {"alert": {"title": message.title, "body": message.body}, "extras": extras}},
                "options": options}

    def send(self, token: str, message: PushMessage) -> None:
        body = self.body(token, message, self.cid_for(message.idempotency_key))
        try:
            response = self._session.post(f"{self.endpoint}/v3/push", json=body, timeout=self.timeout,
                                          headers={"Authorization": self._auth})
        except requests.RequestException as exc:
            raise PushRetryable(f"jpush unreachable: {type(exc).__name__}") from exc
        if response.status_code == 200:
            return
        try:
            error = response.json().get("error", {})
            code = int(error.get("code", 0))
        except (ValueError, TypeError, AttributeError):
            code = 0
        if code in _DEAD:
            raise TokenDead(f"jpush {response.status_code} {code}")
        if response.status_code == 429 or response.status_code >= 500 or code in _RETRY:
            raise PushRetryable(f"jpush {response.status_code} {code}")
        raise PushRejected(f"jpush {response.status_code} {code}")
