"""vivo push server API (PUSH-UPS-API, https://api-push.vivo.com.cn): a notification to one regId.

Auth: `POST /message/auth` JSON {appId, appKey, timestamp (ms), sign = md5(appId + appKey +
timestamp + appSecret) lowercase hex} → `authToken`, valid a day; vivo asks for a central cache
renewed every 1–2 hours (Redis, shared by every worker, 2 h here). Send: `POST /message/send` with
the `authToken` header, JSON {appId, regId, notifyType 4, title (≤ 20 Chinese characters), content
(≤ 50), timeToLive, skipType 4 + skipContent (the notice's deep link as an intent URI, as the
Huawei and Xiaomi channels build it), requestId (= the delivery's idempotency key, ≤ 64),
classification 1 (system message: progress notices are not marketing), category (a service
category), clientCustomMap (the notice's ids)}.

Answers (`result`): 0 sent, unless `invalidUser` names the regId (status 1 unknown, 2 uninstalled or
notifications off, 3 offline 90 days → token dead; 4 not a test user → rejected); 10000
(authentication failed: an expired token) → renew and retry once; 10302 (regId not valid) → token
dead; 10070 (the day's total is used up; vivo: do not call /message/send again that day) → wait
until the next day, China time (`DailyQuota`); 10071/10072 (time window, sending too fast) and HTTP
5xx → retryable; anything else → rejected.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable

import requests

from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.china import DailyQuota, VendorToken, service_category
from notify.push.huawei import android_intent, deep_link

TOKEN_TTL = 2 * 3600
TTL_MIN, TTL_MAX = 60, 7 * 86400
_RENEW = frozenset({10000})
_DEAD = frozenset({10302})
_QUOTA = frozenset({10070})
_RETRY = frozenset({10071, 10072})
_DEAD_USER = frozenset({1, 2, 3})


def sign(app_id: str, app_key: str, timestamp: int, app_secret: str) -> str:
    return hashlib.md5(f"{app_id}{app_key}{timestamp}{app_secret}".strip().encode()).hexdigest()


def cut(text: str, units: int) -> str:
    """`text` within vivo's length rule: a Chinese character counts 2, an ASCII character 1."""
    total = 0
    for index, char in enumerate(text):
        total += 1 if char.isascii() else 2
        if total > units:
            return text[:index]
    return text


class VivoChannel:
    name = "vivo"

    def __init__(self, *, endpoint: str, app_id: str, app_key: str, app_secret: str,
                 link_base: str = "yiwang://notifications", token_cache=None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (3.0, 10.0),
                 session: requests.Session | None = None) -> None:
        if not (app_id and app_key and app_secret):
            raise ValueError("vivo push needs an app id, an app key and an app secret")
        self.endpoint = endpoint.rstrip("/")
        self.app_id, self.app_key, self.link_base = app_id, app_key, link_base
        self._app_id_json = int(app_id) if app_id.isdigit() else app_id  # an int in vivo's JSON
        self._secret = app_secret
        self._clock = clock
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)
        self.token = VendorToken(f"notify:vivo:auth-token:{app_id}", self._fetch_token, ttl=TOKEN_TTL,
                                 cache=token_cache, clock=clock)
        self.quota = DailyQuota(f"notify:vivo:quota-reached:{app_id}", cache=token_cache, clock=clock)

    def __repr__(self) -> str:
        return f"VivoChannel(endpoint={self.endpoint!r}, app_id={self.app_id!r})"

    def _fetch_token(self) -> str:
        timestamp = int(self._clock() * 1000)
        body = {"appId": self._app_id_json, "appKey": self.app_key, "timestamp": timestamp,
                "sign": sign(self.app_id, self.app_key, timestamp, self._secret)}
        try:
            response = self._session.post(f"{self.endpoint}/message/auth", json=body, timeout=self.timeout)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise PushRetryable(f"vivo auth unreachable: {type(exc).__name__}") from exc
        if not isinstance(answer, dict) or answer.get("result") != 0 or not answer.get("authToken"):
            answer = answer if isinstance(answer, dict) else {}
            raise PushRetryable(f"vivo auth refused: {answer.get('result')} {str(answer.get('desc'))[:60]}")
        return answer["authToken"]

    def body(self, token: str, message: PushMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appId": self._app_id_json, "regId": token, "notifyType": 4, "title": cut(message.title, 40),
            "content": cut(message.body, 100), "skipType": 4,
            "skipContent": android_intent(deep_link(message, self.link_base)),
            "requestId": message.idempotency_key[:64],
            "classification": 1, "category": service_category(message.kind), "pushMode": 0,
            "clientCustomMap": {k: v for k, v in list(message.data.items())[:10]}}
        if message.expires_at and message.created_at:
            ttl = int((message.expires_at - message.created_at).total_seconds())
            body["timeToLive"] = max(TTL_MIN, min(ttl, TTL_MAX))
        return body

    def send(self, token: str, message: PushMessage) -> None:
        self.quota.check("vivo")
        body = self.body(token, message)
        answer = self.token.call(lambda auth: self._post(body, auth), lambda answer: answer.get("result") in _RENEW)
        result = answer.get("result")
        invalid = answer.get("invalidUser") if isinstance(answer.get("invalidUser"), dict) else None
        if invalid and invalid.get("status") in _DEAD_USER:
            raise TokenDead(f"vivo invalidUser status {invalid.get('status')}")
        if invalid:
            raise PushRejected(f"vivo invalidUser status {invalid.get('status')}")
        if result != 0:
            self.quota.raise_for(result, f"vivo {result} {str(answer.get('desc') or '')[:80]}".strip(), dead=_DEAD,
                                 quota=_QUOTA, retry=_RETRY | _RENEW)

    def _post(self, body: dict[str, Any], auth: str) -> dict[str, Any]:
        try:
            response = self._session.post(f"{self.endpoint}/message/send", json=body, timeout=self.timeout,
                                          headers={"authToken": auth})
        except requests.RequestException as exc:
            raise PushRetryable(f"vivo unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PushRetryable(f"vivo HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return answer if isinstance(answer, dict) else {"result": None, "desc": f"HTTP {response.status_code}"}
