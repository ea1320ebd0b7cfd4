"""Population registry (人口库) name + ID-number verification.

There is no public national standard for this interface, so YiWang defines
the following signed JSON protocol, modelled on provincial government
data-sharing gateways (政务数据共享交换平台).  Integrators implement the
server side; :class:`HttpPopulationRegistry` is the client.

Request::

    POST {base_url}/v1/identity/verify
    Content-Type: application/json; charset=utf-8
    X-App-Id:    <app id issued by the gateway>
    X-Timestamp: <unix seconds, decimal>
    X-Nonce:     <32 lowercase hex chars, single use>
    X-Signature: <lowercase hex HMAC-SM3(app_secret, string_to_sign)>

    {"name": "...", "id_number": "...", "request_id": "<24 lowercase base32 chars>"}

    string_to_sign = METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n"
                     + NONCE + "\\n" + hex(SM3(raw body bytes))

``PATH`` is the URL path exactly as sent (including any prefix in
``base_url``, no query string).  The key is ``app_secret`` UTF-8 encoded.
The server must reject timestamps more than 300 s from its clock and any
nonce seen within that window.

Reply (HTTP 200)::

    X-Signature: <lowercase hex HMAC-SM3(app_secret, request_id + "\\n" + result)>

    {"request_id": "<echo>", "result": "match" | "mismatch" | "not_found"}

The client fails CLOSED: a non-200 status, non-JSON body, unknown
``result``, ``request_id`` mismatch, missing/wrong reply signature, timeout,
connection error or open circuit breaker all raise
:class:`RegistryUnavailable`; nothing but a correctly signed ``"match"``
yields :attr:`RegistryResult.MATCH`.  POSTs are retried only on connection
errors (request never delivered).
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from enum import Enum
from typing import Protocol
from urllib.parse import urlsplit

import requests

from app.adapters.http import CircuitBreaker, CircuitOpen, Timeout, check_timeout, make_session
from app.adapters.signed_http import SIGNATURE_INVALID, SignedHttpError, SignedJsonClient, json_body
from app.security.pii import mask_id_number

logger = logging.getLogger(__name__)

VERIFY_PATH = "/v1/identity/verify"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


class RegistryResult(str, Enum):
    """Outcome of a name + ID-number check."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"


class RegistryUnavailable(Exception):
    """The registry could not give a trustworthy answer (fail closed)."""


class PopulationRegistry(Protocol):
    """Checks that a name belongs to a resident identity card number."""

    def verify(self, name: str, id_number: str) -> RegistryResult:
        """Return the registry's verdict; raise :class:`RegistryUnavailable` otherwise."""
        ...


class HttpPopulationRegistry:
    """:class:`PopulationRegistry` over the signed JSON protocol (see module doc).

    Every failure counts towards ``breaker`` (default: opens after 5
    consecutive failures for 30 s); while open, calls raise
    :class:`RegistryUnavailable` without contacting the server.
    """

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        timeout: Timeout = (2.0, 3.0),
        breaker: CircuitBreaker | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not (base_url and app_id and app_secret):
            raise ValueError("base_url, app_id and app_secret are required")
        self.url = base_url.rstrip("/") + VERIFY_PATH
        self.path = urlsplit(self.url).path
        self.app_id = app_id
        self.timeout = check_timeout(timeout)
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=5, reset_timeout=30.0,
            failure_types=(RegistryUnavailable,), name="population_registry",
        )
        self._session = session or make_session(connect_retries=1, status_retries=0)
        self._wire = SignedJsonClient(app_id, app_secret, timeout=self.timeout, session=self._session)

    def __repr__(self) -> str:
        return f"HttpPopulationRegistry(url={self.url!r}, app_id={self.app_id!r})"

    def verify(self, name: str, id_number: str) -> RegistryResult:
        """Check ``name`` against 18-character ``id_number`` (trailing x/X accepted).

        Raises ``ValueError`` for malformed input (caller bug; nothing is
        sent) and :class:`RegistryUnavailable` for any untrustworthy outcome.
        """
        name = name.strip()
        id_number = id_number.strip().upper()
        if not name or len(name) > 64:
            raise ValueError("name must be 1-64 characters")
        if not _ID_RE.match(id_number):
            raise ValueError("id_number must be 18 characters: 17 digits + digit/X")
        try:
            return self.breaker.call(lambda: self._verify_once(name, id_number))
        except CircuitOpen as exc:
            logger.warning("registry circuit open; refusing check for %s", mask_id_number(id_number))
            raise RegistryUnavailable("population registry circuit open") from exc

    def _verify_once(self, name: str, id_number: str) -> RegistryResult:
        """One signed round trip; raise :class:`RegistryUnavailable` on anything odd."""
        # base32 (a–z, 2–7): never a digit run that log masking would take for a phone number
        request_id = base64.b32encode(secrets.token_bytes(15)).decode().lower()
        masked = mask_id_number(id_number)
        try:
            reply = self._wire.post(self.url, json_body({"name": name, "id_number": id_number, "request_id": request_id}))
            result = self._verdict(reply.payload, reply.signature, request_id)
        except SignedHttpError as exc:
            logger.log(exc.level, "registry %s for %s (request_id=%s)", exc.log_text, masked, request_id)
            raise RegistryUnavailable(f"population registry {exc.reason}") from exc
        logger.info("registry verdict for %s: %s (request_id=%s)", masked, result.value, request_id)
        return result

    def _verdict(self, payload: object, signature: str, request_id: str) -> RegistryResult:
        """Validate the reply and its signature (over request_id + "\\n" + result); return the verdict."""
        if not isinstance(payload, dict) or payload.get("request_id") != request_id:
            logger.warning("registry reply request_id mismatch (request_id=%s)", request_id)
            raise RegistryUnavailable("population registry reply does not match request")
        raw_result = payload.get("result")
        if not isinstance(raw_result, str):
            raise RegistryUnavailable("population registry reply lacks result")
        if not self._wire.reply_signed(f"{request_id}\n{raw_result}", signature):
            raise SignedHttpError(SIGNATURE_INVALID)
        try:
            return RegistryResult(raw_result)
        except ValueError as exc:
            logger.warning("registry unknown result (request_id=%s)", request_id)
            raise RegistryUnavailable("population registry unknown result") from exc
