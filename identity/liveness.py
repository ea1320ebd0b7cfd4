"""Face liveness (活体检测, assurance L3) behind a provider interface.

The flow: the server starts a session bound to the user → the client runs the
provider's SDK with the session's `biz_token` → the server asks the provider
for the result itself (the client's word is never trusted) and only then
raises the account to L3.

Back ends (LIVENESS_BACKEND, identity/providers.py): "dev" (this module, the provider's side played
by a dev route), "http" (FACE v1, identity/adapters/face.py), "none" (L3 unavailable). `start` gets
the person's certificate data (name, ID number) because a provider compares the face with the
photo on file for that certificate; `openid` is for providers bound to a WeChat user.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Protocol

import redis as redis_lib

from app.db import new_id


@dataclass(frozen=True)
class LivenessSession:
    id: str
    biz_token: str
    expires_in: int


@dataclass(frozen=True)
class LivenessResult:
    status: str  # pending | passed | failed | expired
    user_id: str | None = None
    score: float | None = None


class LivenessUnavailable(Exception):
    """No provider is configured or it cannot be reached."""


class LivenessProvider(Protocol):
    def start(self, *, user_id: str, name: str, id_number: str,
              openid: str | None = None) -> LivenessSession: ...

    def result(self, session_id: str) -> LivenessResult: ...


class NoLivenessProvider:
    def start(self, *, user_id: str, name: str, id_number: str,
              openid: str | None = None) -> LivenessSession:
        raise LivenessUnavailable("no face-liveness provider configured")

    def result(self, session_id: str) -> LivenessResult:
        raise LivenessUnavailable("no face-liveness provider configured")


class DevLivenessProvider:
    """Sessions live in Redis; `complete()` plays the provider's side (the SDK and its comparison)."""

    TTL = 600

    def __init__(self, redis: redis_lib.Redis) -> None:
        self._redis = redis

    def _key(self, session_id: str) -> str:
        return f"dev:liveness:{session_id}"

    def start(self, *, user_id: str, name: str, id_number: str,
              openid: str | None = None) -> LivenessSession:
        session = LivenessSession(id=new_id("lv"), biz_token=secrets.token_urlsafe(24), expires_in=self.TTL)
        self._redis.set(self._key(session.id), json.dumps({"user_id": user_id, "status": "pending"}), ex=self.TTL)
        return session

    def complete(self, session_id: str, *, passed: bool, score: float = 0.99) -> bool:
        raw = self._redis.get(self._key(session_id))
        if raw is None:
            return False
        state = json.loads(raw)
        state.update(status="passed" if passed else "failed", score=score if passed else 0.1)
        self._redis.set(self._key(session_id), json.dumps(state), keepttl=True)
        return True

    def result(self, session_id: str) -> LivenessResult:
        raw = self._redis.getdel(self._key(session_id))  # a result is read once
        if raw is None:
            return LivenessResult(status="expired")
        state = json.loads(raw)
        if state["status"] == "pending":
            self._redis.set(self._key(session_id), raw, ex=self.TTL)
        return LivenessResult(status=state["status"], user_id=state["user_id"], score=state.get("score"))
