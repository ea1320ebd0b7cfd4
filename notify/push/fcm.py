"""FCM HTTP v1: `POST /v1/projects/{project}/messages:send` with a service-account OAuth2 token.

The access token comes from the service account's `token_uri` (RFC 7523 JWT bearer grant: an
RS256 JWT {iss: client_email, scope: firebase.messaging, aud: token_uri, iat, exp ≤ 1 h}), cached
(in Redis, shared by every worker) until 5 minutes before it expires. Answers: 200 sent; 404 or
`UNREGISTERED` → token dead; 400 INVALID_ARGUMENT naming the token → token dead, otherwise
rejected; 401 → renew the access token and retry once; 429/5xx (`UNAVAILABLE`, `INTERNAL`,
`QUOTA_EXCEEDED`) → retryable with Retry-After.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import jwt
import requests

from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN_MARGIN = 300


class FcmChannel:
    name = "fcm"

    def __init__(self, *, endpoint: str, service_account_json: str, token_cache=None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (3.0, 10.0),
                 session: requests.Session | None = None) -> None:
        account = json.loads(service_account_json)
        self.endpoint = endpoint.rstrip("/")
        self.project_id = account["project_id"]
        self.client_email = account["client_email"]
        self.token_uri = account.get("token_uri", "https://oauth2.googleapis.com/token")
        self._key = account["private_key"]
        self._cache = token_cache
        self._local: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._clock = clock
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)

    def __repr__(self) -> str:
        return f"FcmChannel(project={self.project_id!r}, client_email={self.client_email!r})"

    @property
    def _cache_key(self) -> str:
        return f"notify:fcm:access-token:{self.client_email}"

    def access_token(self, *, stale: str | None = None) -> str:
        with self._lock:
            cached = self._cached()
            if cached and cached != stale:
                return cached
            return self._fetch()

    def _cached(self) -> str | None:
        if self._cache is not None:
            value = self._cache.get(self._cache_key)
            return value.decode() if isinstance(value, bytes) else value
        if self._local and self._local[1] > self._clock():
            return self._local[0]
        return None

    def _fetch(self) -> str:
        now = int(self._clock())
        assertion = jwt.encode({"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now,
                                "exp": now + 3600}, self._key, algorithm="RS256")
        try:
            response = self._session.post(self.token_uri, data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
                timeout=self.timeout)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise PushRetryable(f"fcm token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200 or "access_token" not in answer:
            raise PushRetryable(f"fcm token refused: {response.status_code} {str(answer.get('error'))[:60]}")
        token, ttl = answer["access_token"], int(answer.get("expires_in", 3600)) - TOKEN_MARGIN
        if self._cache is not None:
            self._cache.set(self._cache_key, token, ex=max(60, ttl))
        self._local = (token, self._clock() + max(60, ttl))
        return token

    def message(self, token: str, message: PushMessage) -> dict[str, Any]:
        android: dict[str, Any] = {"priority": "HIGH" if message.urgent else "NORMAL"}
        if message.expires_at and message.created_at:
            android["ttl"] = f"{max(0, int((message.expires_at - message.created_at).total_seconds()))}s"
        if message.collapse_key:
            android["collapse_key"] = message.collapse_key
        return {"message": {"token": token, "notification": {"title": message.title, "body": message.body},
                            "data": dict(message.data), "android": android}}

    def send(self, token: str, message: PushMessage) -> None:
        url = f"{self.endpoint}/v1/projects/{self.project_id}/messages:send"
        access = self.access_token()
        for attempt in (1, 2):
            try:
                response = self._session.post(url, json=self.message(token, message), timeout=self.timeout,
                                              headers={"Authorization": f"Bearer {access}"})
            except requests.RequestException as exc:
                raise PushRetryable(f"fcm unreachable: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 1:
                access = self.access_token(stale=access)
                continue
            break
        if response.status_code == 200:
            return
        status, code, text = _error(response)
        if response.status_code == 404 or code == "UNREGISTERED":
            raise TokenDead(f"fcm {response.status_code} {code or status}")
        if status == "INVALID_ARGUMENT" and "token" in text.lower():
            raise TokenDead(f"fcm {response.status_code} INVALID_ARGUMENT (token)")
        if response.status_code == 429 or response.status_code >= 500:
            retry = response.headers.get("Retry-After", "")
            raise PushRetryable(f"fcm {response.status_code} {code or status}",
                                retry_after=float(retry) if retry.isdigit() else None)
        raise PushRejected(f"fcm {response.status_code} {code or status}")


def _error(response: requests.Response) -> tuple[str, str, str]:
    """(status, errorCode from FcmError details, message) of an error answer."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", "", ""
    code = next((d.get("errorCode", "") for d in error.get("details", []) if isinstance(d, dict)
                 and d.get("errorCode")), "")
    return str(error.get("status", "")), str(code), str(error.get("message", ""))[:200]
