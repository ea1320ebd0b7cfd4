"""Access tokens: short-lived JWTs (RFC 9068 profile) with pinned algorithms.

Signed with Ed25519 (`EdDSA`); the verifier accepts exactly that algorithm,
exactly `typ: at+jwt`, a known `kid`, our issuer and audience, and the claims
it needs. Old keys keep verifying after rotation until their tokens expire.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from app.security.keys import KeyMaterial

ALGORITHM = "EdDSA"
TOKEN_TYPE = "at+jwt"
# "enterprise": a token acting for an enterprise (经办人 / its legal representative), always delegated.
PRINCIPAL_KINDS = ("citizen", "staff", "client", "enterprise")
DELEGATED_KINDS = ("citizen", "enterprise")  # the subjects a delegated token may act for
LEEWAY = 5  # seconds of clock skew allowed on nbf/exp


def _clock() -> float:
    """The verifier's clock for cached tokens (pyjwt reads its own)."""
    return time.time()
VERIFIED_CACHE_SIZE = 4096


class InvalidToken(Exception):
    """The token is not one we issued, or no longer valid; the reason is for logs only."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a citizen, a staff member (clerk/admin), a machine client, or an enterprise
    (kind "enterprise": id is the enterprise, actor_id the person acting for it)."""

    kind: str
    id: str
    role: str | None = None
    scopes: frozenset[str] = frozenset()
    session_id: str | None = None
    hall_code: str | None = None
    # Delegation (授权代理, RFC 8693 `act`): a token whose subject is the principal `id`, used by
    # the proxy `actor_id` under grant `grant_id`, limited to `delegated_scopes`.
    actor_id: str | None = None
    grant_id: str | None = None
    delegated_scopes: frozenset[str] = frozenset()

    @property
    def delegated(self) -> bool:
        return self.actor_id is not None


class TokenService:
    def __init__(self, keys: KeyMaterial, *, issuer: str, audience: str, ttl: int) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        # token → (principal, kid, nbf, exp) of tokens whose signature and claims checked out: an
        # Ed25519 verification and pyjwt's parsing are ~10 % of a simple request's CPU, and an app
        # sends the same token for up to 15 minutes. A hit still checks the time window and that
        # the signing key is still trusted; the key is the whole token, signature included.
        self._verified: dict[str, tuple[Principal, str, int, int]] = {}

    def issue(self, principal: Principal, *, ttl: int | None = None) -> tuple[str, int]:
        """Sign an access token for `principal`; returns (token, seconds to expiry)."""
        ttl = min(ttl or self.ttl, 900)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
            "kind": principal.kind,
        }
        if principal.role:
            claims["role"] = principal.role
        if principal.scopes:
            claims["scope"] = " ".join(sorted(principal.scopes))
        if principal.session_id:
            claims["sid"] = principal.session_id
        if principal.hall_code:
            claims["hall"] = principal.hall_code
        if principal.delegated:
            claims["act"] = {"sub": principal.actor_id}
            claims["grant"] = principal.grant_id
            claims["scope"] = " ".join(sorted(principal.delegated_scopes))
        headers = {"kid": self._keys.jwt_kid, "typ": TOKEN_TYPE}
        return jwt.encode(claims, self._keys.jwt_signing_key, algorithm=ALGORITHM, headers=headers), ttl

    def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            principal, kid, nbf, exp = hit
            now = _clock()
            if nbf - LEEWAY <= now < exp + LEEWAY and kid in self._keys.jwt_verify_keys:
                return principal
            del self._verified[token]
        principal, kid, nbf, exp = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, kid, nbf, exp)
        return principal

    def _verify(self, token: str) -> tuple[Principal, str, int, int]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed") from exc
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise InvalidToken("algorithm or type not allowed")
        key = self._keys.jwt_verify_keys.get(header.get("kid", ""))
        if key is None:
            raise InvalidToken("unknown kid")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
                leeway=LEEWAY,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if claims.get("kind") not in PRINCIPAL_KINDS:
            raise InvalidToken("unknown principal kind")
        scopes = frozenset(claims.get("scope", "").split())
        actor = claims.get("act")
        if actor is None:
            if claims["kind"] == "enterprise":
                raise InvalidToken("enterprise token without an actor")
            delegation: dict[str, Any] = {"scopes": scopes}
        else:
            delegation = _delegation(claims, actor, scopes)
        principal = Principal(
            kind=claims["kind"],
            id=str(claims["sub"]),
            role=claims.get("role"),
            session_id=claims.get("sid"),
            hall_code=claims.get("hall"),
            **delegation,
        )
        return principal, header["kid"], int(claims.get("nbf", claims["iat"])), int(claims["exp"])


def _delegation(claims: dict[str, Any], actor: Any, scopes: frozenset[str]) -> dict[str, Any]:
    """The delegation facts of a token with an `act` claim; its scopes are the delegated ones only.
    A citizen (授权代理) or an enterprise (经办人) may be acted for; an enterprise token without `act`
    is refused: nobody is an enterprise except through a person acting for it."""
    if (not isinstance(actor, dict) or not isinstance(actor.get("sub"), str) or claims["kind"] not in DELEGATED_KINDS
            or not isinstance(claims.get("grant"), str) or "act" in actor):
        raise InvalidToken("malformed delegation")
    return {"actor_id": actor["sub"], "grant_id": claims["grant"], "delegated_scopes": scopes}
