"""OPPO PUSH server API (国内: https://api.push.oppomobile.com): a notification to one registration id.

Auth: `POST /server/v1/auth` (form: app_key, timestamp in ms, sign = sha256(app_key + timestamp +
master_secret) lowercase hex) → `data.auth_token`, valid 24 h, cached (Redis, shared by every
worker) for 23 h. Send: `POST /server/v1/message/notification/unicast` (form `message` = JSON
{target_type 2, target_value, notification}) with the token in the `auth_token` form field, as
the documentation says, and in an `auth_token` header, as the SDKs send it (proxies such as nginx
drop headers with underscores by default). Progress notices go to the
private (私信) channel `channel_id` with a service `category` and `notify_level` 2 (notification bar
and lock screen), and `app_message_id` = the delivery's idempotency key, so a retried push is not
shown twice. A tap opens the notice's deep link (`click_action_type` 5, an intent scheme URL, as
the Huawei and Xiaomi channels build it).

Answers (HTTP 200, `code`): 0 sent; 11 Invalid AuthToken / 29 missing → renew the token and retry
once; 10000 (invalid registration id, a unicast business code) → token dead; 33 the day's message
quota is used up → wait until the next day, China time (`DailyQuota`); -2 flow control, -1
unavailable, 13 / 55 call limits, HTTP 5xx → retryable; anything else → rejected.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

import requests

from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRetryable
from notify.push.china import DailyQuota, VendorToken, service_category
from notify.push.huawei import android_intent, deep_link

TOKEN_TTL = 23 * 3600
OFFLINE_TTL_MAX = 10 * 86400
_RENEW = frozenset({11, 29})
_DEAD = frozenset({10000})
_QUOTA = frozenset({33})
_RETRY = frozenset({-2, -1, 13, 55})


def sign(app_key: str, timestamp: str, master_secret: str) -> str:
    return hashlib.sha256(f"{app_key}{timestamp}{master_secret}".encode()).hexdigest()


class OppoChannel:
    name = "oppo"

    def __init__(self, *, endpoint: str, app_key: str, master_secret: str, channel_id: str,
                 link_base: str = "yiwang://notifications", token_cache=None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (3.0, 10.0),
                 session: requests.Session | None = None) -> None:
        if not (app_key and master_secret and channel_id):
            raise ValueError("OPPO PUSH needs an app key, a master secret and a private channel id")
        self.endpoint = endpoint.rstrip("/")
        self.app_key, self.channel_id, self.link_base = app_key, channel_id, link_base
        self._secret = master_secret
        self._clock = clock
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)
        self.token = VendorToken(f"notify:oppo:auth-token:{app_key}", self._fetch_token, ttl=TOKEN_TTL,
                                 cache=token_cache, clock=clock)
        self.quota = DailyQuota(f"notify:oppo:quota-reached:{app_key}", cache=token_cache, clock=clock)

    def __repr__(self) -> str:
        return f"OppoChannel(endpoint={self.endpoint!r}, app_key={self.app_key!r})"

    def _fetch_token(self) -> str:
        timestamp = str(int(self._clock() * 1000))
        try:
            response = self._session.post(f"{self.endpoint}/server/v1/auth", timeout=self.timeout, data={
                "app_key": self.app_key, "timestamp": timestamp, "sign": sign(self.app_key, timestamp, self._secret)})
            answer = response.json()
            data = answer.get("data") or {}
            data = json.loads(data) if isinstance(data, str) else data  # some answers carry data as a JSON string
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise PushRetryable(f"oppo auth unreachable: {type(exc).__name__}") from exc
        if answer.get("code") != 0 or not data.get("auth_token"):
            raise PushRetryable(f"oppo auth refused: {answer.get('code')} {str(answer.get('message'))[:60]}")
        return data["auth_token"]

    def message(self, token: str, message: PushMessage) -> dict[str, Any]:
        notification: dict[str, Any] = {
            "app_message_id": message.idempotency_key[:64], "style": 2, "title": message.title[:50],
            "content": message.body[:128], "channel_id": self.channel_id, "category": service_category(message.kind),
            "notify_level": 2, "off_line": True, "click_action_type": 5,
            "click_action_url": android_intent(deep_link(message, self.link_base)),
            "action_parameters": json.dumps(dict(message.data), ensure_ascii=False)}
        if message.expires_at and message.created_at:
            ttl = int((message.expires_at - message.created_at).total_seconds())
            notification["off_line_ttl"] = max(1, min(ttl, OFFLINE_TTL_MAX))
        return {"target_type": 2, "target_value": token, "verify_registration_id": True,
                "notification": notification}

    def send(self, token: str, message: PushMessage) -> None:
        self.quota.check("oppo")
        body = json.dumps(self.message(token, message), ensure_ascii=False)
        code, text = self.token.call(lambda auth: self._post(body, auth), lambda answer: answer[0] in _RENEW)
        if code != 0:
            self.quota.raise_for(code, f"oppo {code} {text}".strip(), dead=_DEAD, quota=_QUOTA, retry=_RETRY | _RENEW)

    def _post(self, body: str, auth: str) -> tuple[int | None, str]:
        try:
            response = self._session.post(f"{self.endpoint}/server/v1/message/notification/unicast",
                                          data={"message": body, "auth_token": auth}, headers={"auth_token": auth},
                                          timeout=self.timeout)
        except requests.RequestException as exc:
            raise PushRetryable(f"oppo unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PushRetryable(f"oppo HTTP {response.status_code}")
        try:
            answer = response.json()
            return int(answer.get("code")), str(answer.get("message") or "")[:80]
        except (ValueError, TypeError, AttributeError):
            return None, f"HTTP {response.status_code}"
