"""Signed JSON over HTTP: the HMAC-SM3 envelope the outside-system gateways share.

The population registry (identity/adapters/registry.py, where the protocol is written down), the
FACE v1 gateway, the business registry and the 网号 platform all speak it::

    POST <url>   Content-Type: application/json; charset=utf-8
    X-App-Id:    <app id>
    X-Timestamp: <unix seconds, decimal>
    X-Nonce:     <32 lowercase hex chars, single use>
    X-Signature: <lowercase hex HMAC-SM3(app_secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex SM3(body))>

``PATH`` is the URL path as sent (no query); the key is ``app_secret`` UTF-8 encoded. Replies are
signed ``X-Signature: hex HMAC-SM3(app_secret, <binding> + "\\n" + <message>)``; the binding and the
message differ by gateway (the request's nonce or request_id; hex SM3 of the raw reply body, or a
reply field), so :meth:`SignedJsonClient.post` checks the body-signed form when given a binding and
:meth:`SignedJsonClient.reply_signed` any other.

Every failure of a round trip raises :class:`SignedHttpError`, whose ``reason`` is short and
log-safe (no body, header value or URL): the adapter logs it with its own context and raises its own
"unavailable" exception. Nothing here logs.
"""
from __future__ import annotations

import hmac as std_hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from app.adapters.http import Timeout
from app.crypto.sm3 import sm3_hex
from app.security.pii import hmac_sm3

CONTENT_TYPE = "application/json; charset=utf-8"
SIGNATURE_INVALID = "reply signature invalid"


def hmac_sm3_hex(key: str, message: str) -> str:
    """Lowercase hex HMAC-SM3 of UTF-8 ``message`` under UTF-8 ``key``."""
    return hmac_sm3(key.encode("utf-8"), message.encode("utf-8")).hex()


def request_string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex SM3(body)."""
    return "\n".join([method.upper(), path, timestamp, nonce, sm3_hex(body)])


def new_nonce() -> str:
    """32 lowercase hex characters (128 random bits)."""
    return secrets.token_hex(16)


def json_body(payload: Any) -> bytes:
    """The compact UTF-8 JSON the gateways are sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class SignedHttpError(Exception):
    """A round trip gave no trustworthy answer. ``reason`` (also ``str(exc)``) is log-safe:
    ``timeout``, ``unreachable``, ``HTTP <status>``, ``reply too large``, ``reply signature invalid``
    or ``non-JSON reply``; ``detail`` (the exception class name of a connection failure) is for logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    @property
    def log_text(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason

    @property
    def level(self) -> int:
        """ERROR for a bad reply signature (forgery or a wrong key), WARNING otherwise."""
        return logging.ERROR if self.reason == SIGNATURE_INVALID else logging.WARNING


@dataclass(frozen=True)
class SignedReply:
    """A decoded reply: its JSON value (any type: the caller checks the shape) and its X-Signature
    header, stripped and lower-cased ("" when absent)."""

    payload: Any
    signature: str


class SignedJsonClient:
    """Posts signed JSON for one app id; see the module doc."""

    def __init__(self, app_id: str, app_secret: str, *, timeout: Timeout, session: requests.Session) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self.timeout = timeout
        self._session = session

    def __repr__(self) -> str:
        return f"SignedJsonClient(app_id={self.app_id!r})"

    def headers(self, path: str, body: bytes, *, nonce: str | None = None, method: str = "POST") -> dict[str, str]:
        """The envelope's headers for ``body`` sent to ``path``."""
        timestamp, nonce = str(int(time.time())), nonce or new_nonce()
        signature = hmac_sm3_hex(self._app_secret, request_string_to_sign(method, path, timestamp, nonce, body))
        return {"Content-Type": CONTENT_TYPE, "X-App-Id": self.app_id, "X-Timestamp": timestamp,
                "X-Nonce": nonce, "X-Signature": signature}

    def reply_signed(self, message: str, signature: str) -> bool:
        """Whether ``signature`` (lowercase hex) is HMAC-SM3(app_secret, ``message``), in constant time."""
        expected = hmac_sm3_hex(self._app_secret, message)
        return std_hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))

    def post(self, url: str, body: bytes, *, nonce: str | None = None, reply_binding: str | None = None,
             max_reply_bytes: int | None = None) -> SignedReply:
        """One signed POST of ``body`` (JSON bytes) with the explicit timeout; the decoded reply.

        In order, raises :class:`SignedHttpError` for a timeout, a connection failure, a status other
        than 200, a body over ``max_reply_bytes``, (with ``reply_binding``) an X-Signature that is not
        HMAC-SM3(app_secret, reply_binding + "\\n" + hex SM3(raw body)), a body that is not UTF-8 JSON.
        """
        headers = self.headers(urlsplit(url).path, body, nonce=nonce)
        try:
            resp = self._session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SignedHttpError("timeout") from exc
        except requests.RequestException as exc:
            raise SignedHttpError("unreachable", type(exc).__name__) from exc
        if resp.status_code != 200:
            raise SignedHttpError(f"HTTP {resp.status_code}")
        content = resp.content
        if max_reply_bytes is not None and len(content) > max_reply_bytes:
            raise SignedHttpError("reply too large")
        signature = resp.headers.get("X-Signature", "").strip().lower()
        if reply_binding is not None and not self.reply_signed(f"{reply_binding}\n{sm3_hex(content)}", signature):
            raise SignedHttpError(SIGNATURE_INVALID)
        try:
            payload = json.loads(content.decode("utf-8"))
        except ValueError as exc:
            raise SignedHttpError("non-JSON reply") from exc
        return SignedReply(payload=payload, signature=signature)
