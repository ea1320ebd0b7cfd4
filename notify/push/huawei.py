"""Huawei Push Kit (HMS Core) server API v1, the channel for Huawei phones without Google services.

Docs: developer.huawei.com/consumer/en/doc/HMS-References/push-sendapi (Sending Messages) and
"Open Platform Authentication - Client Password Mode" (the OAuth 2.0 token).

- Token: `POST https://oauth-login.cloud.huawei.com/oauth2/v3/token`, form
  `grant_type=client_credentials&client_id=<app id>&client_secret=<app secret>` →
  `{access_token, expires_in: 3600, token_type}`; cached (in Redis, shared by every worker:
  notify/push/china.py `VendorToken`) until 5 minutes before it expires.
- Send: `POST {endpoint}/v1/{appId}/messages:send`, `Authorization: Bearer <access token>`, body
  `{"validate_only": false, "message": {"android": {"category", "urgency", "ttl", "collapse_key",
  "notification": {"title", "body", "click_action": {"type": 1, "intent"}}}, "data", "token": [t]}}`.
  The message body may not exceed 4096 bytes. `category` is Huawei's self-classification of a
  service (non-marketing) message: WORK by default, ACCOUNT for account-security notices.
- Answers (JSON `{code, msg, requestId}`, `code` a string): 80000000 sent; 80100000 "partially
  sent" with our token among `illegal_tokens` and 80300007 (all tokens invalid) → token dead;
  80200001/80200003 (HTTP 401, OAuth error / token expired) → renew the token and retry once;
  80600003 (OAuth service failed), 81000001 (internal error), HTTP 5xx and 503 (traffic control,
  "distribute the sending speed evenly") → retryable; 80100001/80100003/80100004/80300002/
  80300008 (body too large)/80300010/80300011 → rejected.

Huawei's published limits (FACTS-2026-12): a per-app QPS of MAU × category weight × 0.00072, at
least 6,000 — counted per second in Redis across every worker (`HMS_MAU`, `HMS_CATEGORY_WEIGHT`);
a push over it waits a second (retryable). Between 0 and 6 h China time Huawei phones hold
notifications anyway (screen off for 30 min), so a non-urgent push is not sent then: it is retried
at 06:00 (a citizen with quiet hours on is already held until 08:00 by notify/quiet.py).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from app.adapters.http import make_session
from app.clock import CHINA_TZ
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.push.china import VendorToken

OAUTH_ENDPOINT = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
TOKEN_TTL = 3600 - 300  # Huawei's access tokens live an hour; renewed 5 minutes before
SUCCESS = "80000000"
PARTIAL = "80100000"
_DEAD = frozenset({"80300007"})
_AUTH = frozenset({"80200001", "80200003"})
_RETRY = frozenset({"80600003", "81000001"})
# Account-security notices go in Huawei's ACCOUNT category; every other notice is WORK (a matter
# the citizen is handling), both service-and-communication classes, never MARKETING.
ACCOUNT_KINDS = frozenset({"new_device", "security"})
MIN_QPS = 6000
NIGHT_END_HOUR = 6  # Huawei holds notifications from 0 to 6 h


def qps_limit(mau: int, weight: float) -> int:
    """Huawei's per-app push rate: MAU × category weight × 0.00072 a second, at least 6,000."""
    return max(MIN_QPS, int(mau * weight * 0.00072))


def seconds_to_morning(now: float) -> float | None:
    """Seconds until 06:00 China time when `now` (epoch) falls between 0 and 6 h there, else None."""
    local = datetime.fromtimestamp(now, CHINA_TZ)
    if local.hour >= NIGHT_END_HOUR:
        return None
    morning = local.replace(hour=NIGHT_END_HOUR, minute=0, second=0, microsecond=0)
    return max(1.0, (morning - local) / timedelta(seconds=1))


def android_intent(link: str) -> str:
    """The Android intent URI Huawei's `click_action.type = 1` (and MiPush's `intent_uri`) opens,
    from the app's deep link (`yiwang://notifications?id=…` → `intent://notifications?id=…#Intent;
    scheme=yiwang;launchFlags=0x4000000;end`)."""
    parts = urlsplit(link)
    rest = link[len(parts.scheme) + 3:] if link.startswith(f"{parts.scheme}://") else link
    return f"intent://{rest}#Intent;scheme={parts.scheme};launchFlags=0x4000000;end"


def deep_link(message: PushMessage, base: str) -> str:
    """The notice's deep link: `data["link"]` when the notice carries one, else the inbox entry."""
    if message.data.get("link"):
        return message.data["link"]
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}kind={message.kind}"


class HuaweiPushChannel:
    name = "hms"

    def __init__(self, *, endpoint: str, app_id: str, client_secret: str, oauth_endpoint: str = OAUTH_ENDPOINT,
                 category: str = "WORK", link_base: str = "yiwang://notifications", token_cache=None,
                 qps: int = MIN_QPS, counter=None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (3.0, 10.0),
                 session: requests.Session | None = None) -> None:
        if not (app_id and client_secret):
            raise ValueError("Huawei Push Kit needs an app id and client secret")
        self.endpoint = endpoint.rstrip("/")
        self.oauth_endpoint = oauth_endpoint
        self.app_id = app_id
        self._secret = client_secret
        self.category = category
        self.link_base = link_base
        self.token = VendorToken(f"notify:hms:access-token:{app_id}", self._fetch_token, ttl=TOKEN_TTL,
                                 cache=token_cache, clock=clock)
        self.qps = qps
        self._counter = counter  # Redis: the per-second send counter shared by every worker
        self._clock = clock
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)

    def __repr__(self) -> str:
        return f"HuaweiPushChannel(app_id={self.app_id!r})"

    def access_token(self, *, stale: str | None = None) -> str:
        return self.token.get(stale=stale)

    def _fetch_token(self) -> str:
        try:
            response = self._session.post(self.oauth_endpoint, data={
                "grant_type": "client_credentials", "client_id": self.app_id, "client_secret": self._secret},
                timeout=self.timeout)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise PushRetryable(f"hms token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200 or "access_token" not in answer:
            raise PushRetryable(f"hms token refused: {response.status_code} {str(answer.get('error'))[:60]}")
        return answer["access_token"]

    def message(self, token: str, message: PushMessage) -> dict[str, Any]:
        android: dict[str, Any] = {
            "category": "ACCOUNT" if message.kind in ACCOUNT_KINDS else self.category,
            "urgency": "HIGH" if message.urgent else "NORMAL",
            "notification": {"title": message.title, "body": message.body,
                             "click_action": {"type": 1, "intent": android_intent(deep_link(message, self.link_base))}},
        }
        if message.expires_at and message.created_at:
            android["ttl"] = f"{max(0, int((message.expires_at - message.created_at).total_seconds()))}s"
        if message.collapse_key:
            android["collapse_key"] = 1 + sum(message.collapse_key.encode()) % 100  # Huawei: groups 1–100
        return {"validate_only": False,
                "message": {"android": android, "data": json.dumps(dict(message.data), ensure_ascii=False),
                            "token": [token]}}

    def _respect_limits(self, message: PushMessage) -> None:
        now = self._clock()
        wait = None if message.urgent else seconds_to_morning(now)
        if wait is not None:
            raise PushRetryable("hms night hold (0-6 h China time)", retry_after=wait)
        if self._counter is not None:
            key = f"rl:notify:hms:qps:{self.app_id}:{int(now)}"
            used = self._counter.incr(key)
            if used == 1:
                self._counter.expire(key, 2)
            if used > self.qps:
                raise PushRetryable("hms per-app QPS reached", retry_after=1.0)

    def send(self, token: str, message: PushMessage) -> None:
        self._respect_limits(message)
        url = f"{self.endpoint}/v1/{self.app_id}/messages:send"

        def post(access: str) -> requests.Response:
            try:
                return self._session.post(url, json=self.message(token, message), timeout=self.timeout,
                                          headers={"Authorization": f"Bearer {access}"})
            except requests.RequestException as exc:
                raise PushRetryable(f"hms unreachable: {type(exc).__name__}") from exc

        response = self.token.call(post, lambda answer: answer.status_code == 401 or _answer(answer)[0] in _AUTH)
        code, text = _answer(response)
        if response.status_code == 200 and code == SUCCESS:
            return
        if code in _DEAD or (code == PARTIAL and token in text):
            raise TokenDead(f"hms {code}")
        if response.status_code in (429, 503) or response.status_code >= 500 or code in _RETRY:
            retry = response.headers.get("Retry-After", "")
            raise PushRetryable(f"hms {response.status_code} {code}", retry_after=float(retry) if retry.isdigit() else None)
        raise PushRejected(f"hms {response.status_code} {code}")


def _answer(response: requests.Response) -> tuple[str, str]:
    """(code, msg) of a Push Kit answer; the msg of 80100000 lists the illegal tokens."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    return str(body.get("code", "")), str(body.get("msg", ""))
