"""WeChat mini-program subscribe messages (订阅消息): `POST /cgi-bin/message/subscribe/send`.

The access token is the mini-program's, shared with the login adapter through the same cache key
(a second fetcher would invalidate the first one's token). Template fields are filled from the
notice by `WECHAT_SUBSCRIBE_FIELDS` (`thing1=title,thing2=body,time3=time`) and cut to WeChat's
limits here, server-side (thing ≤ 20, phrase ≤ 5, name ≤ 10, character_string ≤ 32 characters),
since an over-long value fails the whole message with 47003. Answers: errcode 0 sent; 43101 (the
user did not subscribe / refused) → token dead; 40001/42001 → renew the token and retry once;
45009/-1 → retryable; others → rejected.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from identity.service import HttpWeChatClient, WeChatError
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead
from notify.quiet import SHANGHAI

LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32, "symbol": 5}
_TOKEN_INVALID = frozenset({40001, 40014, 42001})
_RETRY = frozenset({-1, 45009, 45011})


def field_value(key: str, text: str) -> str:
    """Cut `text` to the limit of the template field `key` (its type is the key without digits)."""
    kind = key.rstrip("0123456789")
    limit = LIMITS.get(kind)
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if kind == "thing" else text[:limit]


class WeChatSubscribeChannel:
    name = "wechat"

    def __init__(self, client: HttpWeChatClient, *, template_id: str, fields: str, page: str, state: str) -> None:
        if not template_id:
            raise ValueError("a subscribe-message template id is required")
        self.client = client
        self.template_id = template_id
        self.fields = [tuple(part.split("=", 1)) for part in fields.split(",") if "=" in part]
        self.page = page
        self.state = state

    def data(self, message: PushMessage) -> dict[str, dict[str, str]]:
        sources = {"title": message.title, "body": message.body,
                   "time": (message.created_at or datetime.now(timezone.utc)).astimezone(SHANGHAI).strftime(
                       "%Y-%m-%d %H:%M"),
                   "case_no": message.data.get("case_no", ""), "status": message.data.get("status", "")}
        return {key: {"value": field_value(key, sources.get(source, ""))} for key, source in self.fields}

    def body(self, openid: str, message: PushMessage) -> dict[str, Any]:
        page = self.page + (f"?id={message.data['case_id']}" if "case_id" in message.data else "")
        return {"touser": openid, "template_id": self.template_id, "page": page,
                "miniprogram_state": self.state, "lang": "zh_CN", "data": self.data(message)}

    def send(self, token: str, message: PushMessage) -> None:
        body = self.body(token, message)
        access, errcode = None, 0
        for attempt in (1, 2):
            try:
                access = self.client._access_token(stale=access if attempt == 2 else None)
                payload = self.client._request("POST", "/cgi-bin/message/subscribe/send", "subscribe_send",
                                               params={"access_token": access}, json=body)
            except WeChatError as exc:
                raise PushRetryable(f"wechat unavailable: {exc.errcode}") from exc
            errcode = int(payload.get("errcode", 0) or 0)
            if errcode in _TOKEN_INVALID and attempt == 1:
                continue
            break
        if errcode == 0:
            return
        if errcode == 43101:
            raise TokenDead("wechat 43101 user refused")
        if errcode in _RETRY:
            raise PushRetryable(f"wechat {errcode}")
        raise PushRejected(f"wechat {errcode}")
