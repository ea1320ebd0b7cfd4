"""Development adapters: working local stand-ins for the external systems.

- `OutboxSmsSender` keeps sent codes in a Redis list that `GET /dev/sms-outbox` reads.
- `TableRegistry` answers from the `registry_entry` table (`flask registry add`, `demo seed`).
- `DevWeChatClient` turns a `wx.login` code into a stable openid; codes are one-time.
"""
from __future__ import annotations

import json
import logging
import re
import secrets

import redis as redis_lib

from app.clock import rfc3339
from app.db import utcnow
from app.security.pii import PiiCipher, constant_time_equal, hmac_sm3, mask_phone
from identity import models
from identity.adapters.registry import RegistryResult
from identity.adapters.wechat import WeChatCodeInvalid, WeChatSession

log = logging.getLogger(__name__)

OUTBOX_KEY = "dev:sms-outbox"
OUTBOX_SIZE = 500
_WX_CODE = re.compile(r"[A-Za-z0-9._-]{1,128}")  # "." separates the dev user from a counter: alice.1, alice.2


class OutboxSmsSender:
    def __init__(self, redis: redis_lib.Redis) -> None:
        self._redis = redis

    def send_code(self, phone: str, code: str) -> None:
        item = json.dumps({"phone": phone, "code": code, "sent_at": rfc3339(utcnow())})
        pipe = self._redis.pipeline()
        pipe.lpush(OUTBOX_KEY, item)
        pipe.ltrim(OUTBOX_KEY, 0, OUTBOX_SIZE - 1)
        pipe.execute()
        log.info("sms code written to the development outbox", extra={"phone": mask_phone(phone)})

    def outbox(self, phone: str | None = None, limit: int = 50) -> list[dict]:
        items = [json.loads(raw) for raw in self._redis.lrange(OUTBOX_KEY, 0, OUTBOX_SIZE - 1)]
        return [i for i in items if phone is None or i["phone"] == phone][:limit]


class TableRegistry:
    def __init__(self, cipher: PiiCipher) -> None:
        self._cipher = cipher

    def verify(self, name: str, id_number: str) -> RegistryResult:
        entry = models.registry_entry(self._cipher.blind_index("id", id_number))
        if entry is None:
            return RegistryResult.NOT_FOUND
        stored = self._cipher.decrypt(entry.name_enc, "registry.name")
        return RegistryResult.MATCH if constant_time_equal(stored, name) else RegistryResult.MISMATCH


class DevWeChatClient:
    """Any well-formed code logs in; `phone-13800138000` as a phone code yields that number."""

    def __init__(self, redis: redis_lib.Redis, secret: bytes) -> None:
        self._redis = redis
        self._secret = secret

    def _use_once(self, kind: str, code: str) -> None:
        if not _WX_CODE.fullmatch(code):
            raise WeChatCodeInvalid("invalid code", 40029)
        if not self._redis.set(f"dev:wx:{kind}:{code}", "1", nx=True, ex=300):
            raise WeChatCodeInvalid("code been used", 40163)

    def code2session(self, code: str) -> WeChatSession:
        self._use_once("login", code)
        # The code's prefix before "." names the dev user, so repeated logins reach the same account.
        who = code.split(".")[0]
        openid = "o" + hmac_sm3(self._secret, f"openid:{who}".encode()).hex()[:27]
        return WeChatSession(openid=openid, session_key=secrets.token_urlsafe(16), unionid=None)

    def phone_number(self, code: str) -> str:
        self._use_once("phone", code)
        if not code.startswith("phone-") or not re.fullmatch(r"1[3-9]\d{9}", code[6:]):
            raise WeChatCodeInvalid("invalid code", 40029)
        return code[6:]
