"""Xiaomi MiPush server API (小米推送), the channel for Xiaomi/Redmi phones.

Docs: dev.mi.com/xiaomihyperos/documentation/detail?pId=1559 (服务端 API 地址与参数) and
pId=1696 (Server API Address and Parameters).

`POST {endpoint}/v3/message/regid`, header `Authorization: key=<AppSecret>` (lower-case "key"),
form body: registration_id, title (< 50 characters), description (< 128), payload (the notice's
ids, JSON), restricted_package_name, notify_type, pass_through=0 (a notification-bar message),
time_to_live (ms), `extra.channel_id` — since 2024-11-04 a non-marketing message without the id of a
channel registered in the new categories is refused (FACTS-2026-12) — and the click action
`extra.notify_effect=2` with `extra.intent_uri`.

Answers `{result: "ok"|"error", code, description, reason, data: {id, bad_regids}}`: code 0 sent,
unless our regid is in `data.bad_regids` (token dead); 20301 (no valid target) → token dead;
10002/10003/10027/10037 (service busy, rate limited) and HTTP 429/5xx → retryable; 200001 (the
app's daily quota reached) → retryable after the next midnight, China time, and no further call that
day (notify/push/china.py `DailyQuota`, shared in Redis); anything else
(21301 auth failed, 10017 bad parameter …) → rejected.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import requests

from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRetryable, TokenDead
from notify.push.china import DailyQuota
from notify.push.huawei import android_intent, deep_link

_DEAD = frozenset({20301})
_RETRY = frozenset({10002, 10003, 10027, 10037})
_QUOTA = frozenset({200001})  # the app's daily quota reached
TITLE_MAX, DESCRIPTION_MAX = 49, 127
NOTIFY_DEFAULT_ALL = -1


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class XiaomiPushChannel:
    name = "xiaomi"

    def __init__(self, *, endpoint: str, app_secret: str, package: str, channel_id: str,
                 link_base: str = "yiwang://notifications", quota_cache=None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (3.0, 10.0),
                 session: requests.Session | None = None) -> None:
        if not (app_secret and package and channel_id):
            raise ValueError("MiPush needs the app secret, the package name and a channel id")
        self.endpoint = endpoint.rstrip("/")
        self._auth = f"key={app_secret}"
        self.package = package
        self.channel_id = channel_id
        self.link_base = link_base
        self.timeout = timeout
        self.quota = DailyQuota(f"notify:xiaomi:quota-reached:{package}", cache=quota_cache, clock=clock)
        self._session = session or make_session(connect_retries=1)

    def __repr__(self) -> str:
        return f"XiaomiPushChannel(package={self.package!r}, channel_id={self.channel_id!r})"

    def form(self, token: str, message: PushMessage) -> dict[str, Any]:
        form: dict[str, Any] = {
            "registration_id": token, "restricted_package_name": self.package,
            "title": _cut(message.title, TITLE_MAX), "description": _cut(message.body, DESCRIPTION_MAX),
            "payload": json.dumps({"kind": message.kind, **message.data}, ensure_ascii=False),
            "pass_through": 0, "notify_type": NOTIFY_DEFAULT_ALL,
            "extra.channel_id": self.channel_id,
            "extra.notify_effect": 2, "extra.intent_uri": android_intent(deep_link(message, self.link_base)),
        }
        if message.expires_at and message.created_at:
            form["time_to_live"] = max(0, int((message.expires_at - message.created_at).total_seconds() * 1000))
        if message.collapse_key:
            form["notify_id"] = sum(message.collapse_key.encode()) % 1000  # same id → replaces the older one
        return form

    def send(self, token: str, message: PushMessage) -> None:
        self.quota.check("xiaomi")
        try:
            response = self._session.post(f"{self.endpoint}/v3/message/regid", data=self.form(token, message),
                                          headers={"Authorization": self._auth}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PushRetryable(f"xiaomi unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise PushRetryable(f"xiaomi {response.status_code}")
        try:
            answer = response.json()
            code = int(answer.get("code", -1))
        except (ValueError, TypeError, AttributeError):
            raise PushRetryable(f"xiaomi {response.status_code} unreadable answer") from None
        if code == 0 and answer.get("result") == "ok":
            bad = str((answer.get("data") or {}).get("bad_regids") or "")
            if token in bad.split(","):
                raise TokenDead("xiaomi bad_regids")
            return
        reason = str(answer.get("reason") or answer.get("description") or "")[:80]
        self.quota.raise_for(code, f"xiaomi {code} {reason}", dead=_DEAD, quota=_QUOTA, retry=_RETRY)
