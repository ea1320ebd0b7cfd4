"""Business registry (市场主体登记) lookup and legal-representative check by USCC — "BIZREG gateway v1".

No public SAMR server API exists; commercial 企业四要素 APIs all take {USCC, entity name, LR name,
LR ID number} and answer per-element match flags. YiWang defines this signed JSON protocol on their
shape (docs/design/identity-19.md §1.2, §2(b)); integrators implement the server side.

Requests (the population registry's envelope, identity/adapters/registry.py)::

    POST {base_url}/v1/market-entities/lookup                  {"uscc", "request_id"}
    POST {base_url}/v1/market-entities/legal-representative/verify
                                                              {"uscc", "name", "lr_name", "id_number", "request_id"}
    X-App-Id, X-Timestamp (unix s, ±300 s), X-Nonce (32 hex, single use in the window),
    X-Signature = hex HMAC-SM3(app_secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex SM3(body))

Replies (HTTP 200), signed ``X-Signature = hex HMAC-SM3(app_secret, request_id + "\\n" + hex SM3(raw body))``::

    lookup: {"request_id", "found": bool, "entity"?: {"uscc", "name", "entity_type", "status": "1" 存续/在业 |
             "2" 吊销 | "3" 注销 | "4" 迁出 | "9" 其他, "region_code", "established_on",
             "legal_representative": {"name"}, "updated_at"}}
    verify: {"request_id", "uscc_match", "name_match", "lr_name_match", "lr_id_match"}   (each 1 | 0 | -1)

The client fails CLOSED: non-200, non-JSON, a request_id or USCC that does not echo ours, a missing
or wrong reply signature, an unknown status or flag, a timeout, a connection error or an open
circuit all raise :class:`BusinessRegistryUnavailable`. Only a correctly signed reply with every
flag 1 says the citizen is the LR. The LR's ID number leaves YiWang only in the verify call, over
this signed channel, and is never logged (masked).
"""
from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from app.adapters.http import CircuitBreaker, CircuitOpen, Timeout, check_timeout, make_session
from app.adapters.signed_http import SignedHttpError, SignedJsonClient, json_body
from app.security.pii import constant_time_equal, field_cipher, mask_id_number

logger = logging.getLogger(__name__)

LOOKUP_PATH = "/v1/market-entities/lookup"
VERIFY_PATH = "/v1/market-entities/legal-representative/verify"
STATUSES = frozenset({"1", "2", "3", "4", "9"})
_FLAGS = (1, 0, -1)


class BusinessRegistryUnavailable(Exception):
    """The registry could not give a trustworthy answer (fail closed)."""


@dataclass(frozen=True)
class MarketEntity:
    """A market entity as the registry states it."""

    uscc: str
    name: str
    entity_type: str
    status: str
    region_code: str
    established_on: str | None
    legal_rep_name: str


class BusinessRegistry(Protocol):
    def lookup(self, uscc: str) -> MarketEntity | None:
        """The entity registered under `uscc`, or None (not found); raises BusinessRegistryUnavailable."""
        ...

    def is_legal_representative(self, *, uscc: str, name: str, lr_name: str, lr_id_number: str) -> bool:
        """True only when the registry matches the USCC, the entity name, the LR's name and ID number."""
        ...


def _request_id() -> str:
    # base32 (a–z, 2–7): never a digit run that log masking would take for a phone number
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


class HttpBusinessRegistry:
    """:class:`BusinessRegistry` over BIZREG gateway v1 (see the module doc). Every failure counts
    towards `breaker` (opens after 5 consecutive failures for 30 s; while open nothing is sent)."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, timeout: Timeout = (2.0, 3.0),
                 breaker: CircuitBreaker | None = None, session: requests.Session | None = None) -> None:
        if not (base_url and app_id and app_secret):
            raise ValueError("base_url, app_id and app_secret are required")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.timeout = check_timeout(timeout)
        self.breaker = breaker or CircuitBreaker(failure_threshold=5, reset_timeout=30.0,
                                                 failure_types=(BusinessRegistryUnavailable,), name="business_registry")
        self._session = session or make_session(connect_retries=1, status_retries=0)
        self._wire = SignedJsonClient(app_id, app_secret, timeout=self.timeout, session=self._session)

    def __repr__(self) -> str:
        return f"HttpBusinessRegistry(url={self.base_url!r}, app_id={self.app_id!r})"

    # --- the two calls ---------------------------------------------------------------------------

    def lookup(self, uscc: str) -> MarketEntity | None:
        reply = self._call(LOOKUP_PATH, {"uscc": uscc}, what=uscc)
        found = reply.get("found")
        if found is False:
            return None
        entity = reply.get("entity")
        if found is not True or not isinstance(entity, dict):
            raise BusinessRegistryUnavailable("business registry reply lacks found/entity")
        return _entity(entity, uscc)

    def is_legal_representative(self, *, uscc: str, name: str, lr_name: str, lr_id_number: str) -> bool:
        reply = self._call(VERIFY_PATH, {"uscc": uscc, "name": name, "lr_name": lr_name, "id_number": lr_id_number},
                           what=f"{uscc} LR {mask_id_number(lr_id_number)}")
        flags = [reply.get(k) for k in ("uscc_match", "name_match", "lr_name_match", "lr_id_match")]
        if any(type(f) is not int or f not in _FLAGS for f in flags):
            raise BusinessRegistryUnavailable("business registry reply has an unknown match flag")
        return all(f == 1 for f in flags)

    # --- the envelope ------------------------------------------------------------------------------

    def _call(self, path: str, payload: dict[str, Any], *, what: str) -> dict[str, Any]:
        try:
            return self.breaker.call(lambda: self._once(path, payload, what))
        except CircuitOpen as exc:
            logger.warning("business registry circuit open; refusing %s", what)
            raise BusinessRegistryUnavailable("business registry circuit open") from exc

    def _once(self, path: str, payload: dict[str, Any], what: str) -> dict[str, Any]:
        request_id = _request_id()
        body = json_body({**payload, "request_id": request_id})
        try:
            reply = self._wire.post(self.base_url + path, body, reply_binding=request_id).payload
        except SignedHttpError as exc:
            logger.log(exc.level, "business registry %s for %s (request_id=%s)", exc.log_text, what, request_id)
            raise BusinessRegistryUnavailable(f"business registry {exc.reason}") from exc
        if not isinstance(reply, dict) or reply.get("request_id") != request_id:
            logger.warning("business registry reply request_id mismatch (request_id=%s)", request_id)
            raise BusinessRegistryUnavailable("business registry reply does not match the request")
        logger.info("business registry answered for %s (request_id=%s)", what, request_id)
        return reply


def _entity(raw: dict[str, Any], uscc: str) -> MarketEntity:
    """The reply's entity, checked field by field (anything odd: unavailable, never half-trusted)."""
    lr = raw.get("legal_representative")
    values = {k: raw.get(k) for k in ("uscc", "name", "entity_type", "status", "region_code")}
    if not all(isinstance(v, str) and v for v in values.values()) or not isinstance(lr, dict) \
            or not isinstance(lr.get("name"), str) or not lr["name"]:
        raise BusinessRegistryUnavailable("business registry entity incomplete")
    if values["uscc"] != uscc:
        raise BusinessRegistryUnavailable("business registry answered for another USCC")
    if values["status"] not in STATUSES:
        raise BusinessRegistryUnavailable("business registry entity status unknown")
    established = raw.get("established_on")
    return MarketEntity(uscc=uscc, name=values["name"][:200], entity_type=values["entity_type"][:40],
                        status=values["status"], region_code=values["region_code"][:6],
                        established_on=established if isinstance(established, str) else None,
                        legal_rep_name=lr["name"])


class DevBusinessRegistry:
    """The development registry: the `orgs_dev_registry` table (`flask orgs dev-registry add`, demo
    seed). LR matching compares the name (decrypted) and the ID number's blind index."""

    def lookup(self, uscc: str) -> MarketEntity | None:
        from orgs import models
        row = models.find_dev_entry(uscc)
        if row is None:
            return None
        return MarketEntity(uscc=row.uscc, name=row.name, entity_type=row.entity_type, status=row.status,
                            region_code=row.region_code, established_on=row.established_on,
                            legal_rep_name=field_cipher().decrypt(bytes(row.lr_name_enc), "orgs_dev_lr_name"))

    def is_legal_representative(self, *, uscc: str, name: str, lr_name: str, lr_id_number: str) -> bool:
        from orgs import models
        row = models.find_dev_entry(uscc)
        if row is None or row.name != name:
            return False
        cipher = field_cipher()
        return (constant_time_equal(cipher.decrypt(bytes(row.lr_name_enc), "orgs_dev_lr_name"), lr_name)
                and constant_time_equal(cipher.blind_index("id", lr_id_number.upper()), row.lr_id_bidx))
