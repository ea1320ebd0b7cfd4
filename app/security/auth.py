"""Bearer authentication for routes: `@auth_required(...)` and `current_principal()`.

The decorator verifies the access token, refuses sessions revoked by logout
or refresh-token reuse, checks kind / role / scope, and documents the bearer
requirement in the OpenAPI spec.
"""
from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Callable, Iterable

from flask import current_app, g, request

from app.errors import AppError, Forbidden, Unauthorized
from app.redis import get_redis, publish_many
from app.security.tokens import InvalidToken, Principal

log = logging.getLogger(__name__)

BEARER_SECURITY = [{"bearerAuth": []}]
REVOKED_KEY = "auth:revoked-session:{}"
# A message here ends the session's open live streams at once (notify/stream.py subscribes to it).
SESSION_REVOKED_CHANNEL = "auth:session-revoked:{}"
# Set once the database's recent revocations are in this Redis. Missing when Redis lost its data (a
# restart without persistence, a flush): revoked sessions would come back to life until their access
# tokens expire, so the revocations are loaded again from `auth_session.revoked_at` first.
REVOCATIONS_LOADED_KEY = "auth:revocations-loaded"
_RELOADING_KEY = "auth:revocations-reloading"


class InvalidAccessToken(Unauthorized):
    code, detail = "token_invalid", "登录凭证无效或已过期，请重新登录。"
    detail_en = "The sign-in credential is invalid or has expired; please sign in again."


class InsufficientScope(Forbidden):
    code, detail = "insufficient_scope", "该客户端无权调用此接口。"
    detail_en = "This client may not call this endpoint."


class ProxyNotAllowed(Forbidden):
    code, detail = "proxy_not_allowed", "代办身份不能进行此操作，请切换回本人账号。"
    detail_en = "This cannot be done on someone's behalf; please switch back to your own account."


class DelegationUnchecked(InvalidAccessToken):
    code, detail = "proxy_grant_inactive", "代办授权已撤销或已过期。"
    detail_en = "The authorisation to act on someone's behalf has been revoked or has expired."


def revoke_session_tokens(session_id: str) -> None:
    """Refuse the session's outstanding access tokens until they would have expired anyway, and tell
    the session's open live streams to end (SESSION_REVOKED_CHANNEL)."""
    ttl = current_app.config["ACCESS_TOKEN_TTL"] + 60
    client = get_redis()
    client.set(REVOKED_KEY.format(session_id), "1", ex=ttl)
    # Streams also re-check the key on every heartbeat, so a lost message only delays their end.
    publish_many(client, [(SESSION_REVOKED_CHANNEL.format(session_id), "revoked")])


def session_revoked(session_id: str) -> bool:
    """Whether a session was revoked (logout, refresh-token reuse): open live streams ask on every
    heartbeat. Needs an app context; the database is asked only after Redis lost its data."""
    return _session_revoked(session_id)


def _session_revoked(session_id: str) -> bool:
    """Whether the session's access tokens are revoked: one Redis round trip, the database only
    after Redis lost its data (see REVOCATIONS_LOADED_KEY)."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.exists(REVOKED_KEY.format(session_id))
    pipe.exists(REVOCATIONS_LOADED_KEY)
    revoked, loaded = pipe.execute()
    if revoked:
        return True
    if loaded:
        return False
    return _reload_revocations(session_id)


def _reload_revocations(session_id: str) -> bool:
    """Put the revocations still in force (sessions revoked within an access token's life) back into
    Redis, then mark them loaded; whether `session_id` is revoked. One request reloads, the others
    meanwhile ask the database about their own session."""
    from app.db import utcnow
    from app.identity.models import AuthSession

    redis, ttl = get_redis(), current_app.config["ACCESS_TOKEN_TTL"] + 60
    if not redis.set(_RELOADING_KEY, "1", nx=True, ex=30):
        return AuthSession.select().where((AuthSession.id == session_id)
                                          & AuthSession.revoked_at.is_null(False)).exists()
    now = utcnow()
    recent = list(AuthSession.select(AuthSession.id, AuthSession.revoked_at)
                  .where(AuthSession.revoked_at > now - timedelta(seconds=ttl)))
    pipe = redis.pipeline(transaction=False)
    for row in recent:
        pipe.set(REVOKED_KEY.format(row.id), "1", ex=max(1, ttl - int((now - row.revoked_at).total_seconds())))
    pipe.set(REVOCATIONS_LOADED_KEY, "1")
    pipe.delete(_RELOADING_KEY)
    pipe.execute()
    log.warning("session revocations reloaded into Redis", extra={"sessions": len(recent)})
    return any(row.id == session_id for row in recent)


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    try:
        principal = current_app.extensions["tokens"].verify(token.strip())
    except InvalidToken as exc:
        log.info("access token refused", extra={"reason": str(exc)})
        raise InvalidAccessToken() from exc
    if principal.session_id and _session_revoked(principal.session_id):
        raise InvalidAccessToken()
    if principal.delegated:
        g.delegated_principal = principal  # recorded as a proxy action, whatever the outcome
        # The grant is checked on every request (a cached, still-unexpired token included): its
        # revocation or expiry takes effect at once. No checker registered → refused (fail closed).
        check = current_app.extensions.get("delegation_check")
        if check is None:
            raise DelegationUnchecked()
        check(principal)
    return principal


def auth_required(
    *,
    kinds: Iterable[str] = ("citizen",),
    roles: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
    delegable: str | None = None,
) -> Callable:
    """Require a bearer token of one of `kinds` (and `roles`, `scopes`).

    A delegated token (a proxy acting for a citizen, 授权代理) is accepted only where `delegable`
    names a scope its grant holds; every other route refuses it with 403 `proxy_not_allowed`.
    """
    kinds, roles, scopes = frozenset(kinds), frozenset(roles or ()), frozenset(scopes or ())

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            principal = _authenticate()
            if principal.kind not in kinds:
                raise Forbidden()
            if roles and principal.role not in roles:
                raise Forbidden()
            if scopes and not scopes <= principal.scopes:
                raise InsufficientScope()
            if principal.delegated and (delegable is None or delegable not in principal.delegated_scopes):
                raise ProxyNotAllowed()
            if principal.delegated:
                g.delegated_scope = delegable
            g.principal = principal
            return func(*args, **kwargs)

        wrapper._delegable = delegable  # type: ignore[attr-defined]  (tests list the delegable routes)
        doc = getattr(wrapper, "_apidoc", {})
        doc.setdefault("manual_doc", {})["security"] = BEARER_SECURITY
        wrapper._apidoc = doc  # type: ignore[attr-defined]
        return wrapper

    return decorator


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:  # a route forgot its decorator: fail closed
        raise AppError(status=500, code="internal_error", detail="服务器内部错误，请稍后再试。")
    return principal


def client_ip() -> str:
    return request.remote_addr or "unknown"
