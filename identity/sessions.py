"""Login sessions and rotating refresh tokens.

Each login opens an `AuthSession`; its refresh tokens form one family. Every
refresh consumes the presented token and issues a new one. Presenting a token
that was already consumed means it leaked (or a response was lost): within
`REFRESH_REUSE_GRACE` seconds, and while its successor is still unused, the
client gets a fresh successor; otherwise the whole family is revoked and the
session's access tokens stop working at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app

from app import audit
from app.db import after_commit, unit_of_work, utcnow
from app.security.auth import revoke_session_tokens
from app.security.tokens import Principal
from identity import models
from identity.errors import RefreshTokenInvalid, RefreshTokenReused
from identity.models import AuthSession, RefreshToken
from identity.signals import session_ended


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session_id: str) -> tuple[str, str]:
    """A new refresh token of the session: (the token, its row's id)."""
    raw = secrets.token_urlsafe(32)
    token_id = models.insert_refresh_token(
        session_id=session_id, token_hash=_hash(raw),
        expires_at=utcnow() + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]))
    return raw, token_id


def _token_answer(principal: Principal, refresh_token: str) -> dict[str, Any]:
    access, expires_in = current_app.extensions["tokens"].issue(principal)
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer", "expires_in": expires_in}


def open_session(principal: Principal, *, channel: str = "app", ip: str | None = None) -> dict[str, Any]:
    """Start a session for `principal` and return its first token pair. Call inside a transaction.
    The session row is the login's record (principal, channel, ip, time)."""
    session_id = models.insert_session(principal_kind=principal.kind, principal_id=principal.id, channel=channel,
                                       ip=ip)
    raw, _ = _new_refresh(session_id)
    principal = Principal(principal.kind, principal.id, principal.role, principal.scopes, session_id,
                          principal.hall_code)
    return _token_answer(principal, raw)


def _principal_for(session: AuthSession) -> Principal | None:
    if session.principal_kind == "staff":
        staff = models.staff_by_id(session.principal_id)
        if staff is None or staff.disabled:
            return None
        return Principal("staff", staff.id, staff.role, session_id=session.id, hall_code=staff.hall_code)
    return Principal(session.principal_kind, session.principal_id, session_id=session.id)


def revoke_session(session_id: str, reason: str) -> None:
    """Revoke a session: its refresh tokens and (once committed, through Redis) its access tokens and
    open live streams."""
    models.mark_session_revoked(session_id, reason, utcnow())
    # Sent now, not after the commit: its receivers drop what the session set up in this transaction.
    session_ended.send(current_app._get_current_object(), session_id=session_id)
    after_commit(revoke_session_tokens, session_id)


def revoke_principal_sessions(principal_kind: str, principal_id: str, reason: str) -> None:
    """Revoke every open session of a principal (account merged or closed)."""
    for session_id in models.open_session_ids(principal_kind, principal_id):
        revoke_session(session_id, reason)


def refresh(raw_token: str) -> tuple[dict[str, Any], Principal]:
    """Rotate a refresh token. Raises RefreshTokenInvalid or RefreshTokenReused."""
    now = utcnow()
    reused_session: str | None = None
    with unit_of_work():
        row = models.refresh_token_by_hash(_hash(raw_token))
        if row is None or row.expires_at <= now:
            raise RefreshTokenInvalid()
        session = row.session
        principal = _principal_for(session)
        if session.revoked_at is not None or principal is None:
            raise RefreshTokenInvalid()
        claimed = models.claim_refresh_token(row.id, now)
        if not claimed and not _within_grace(row, now):
            reused_session = session.id
            revoke_session(session.id, "refresh_reuse")
            audit.record("auth.refresh_reuse", outcome="refused", actor_kind=session.principal_kind,
                         actor_id=session.principal_id, target=session.id)
        else:
            raw, new_id = _new_refresh(session.id)
            models.set_refresh_successor(row.id, new_id)
            return _token_answer(principal, raw), principal
    raise RefreshTokenReused(extra={"session_revoked": reused_session is not None})


def _within_grace(row: RefreshToken, now) -> bool:
    """A consumed token presented again shortly after, whose successor was never used: the
    client most likely lost the response. Consume the orphaned successor and allow once more."""
    grace = current_app.config["REFRESH_REUSE_GRACE"]
    row = models.refresh_token_by_id(row.id)
    # grace <= 0 turns the window off; `now` predates the transaction, so a concurrent presentation
    # that lost the race sees a negative age and would otherwise always count as "within" it
    if grace <= 0 or row.used_at is None or now - row.used_at > timedelta(seconds=grace):
        return False
    if row.replaced_by is None:
        return False
    return models.claim_refresh_token(row.replaced_by, now)


def logout(principal: Principal) -> None:
    if not principal.session_id:
        return
    with unit_of_work():
        revoke_session(principal.session_id, "logout")
        audit.record("auth.logout", actor_kind=principal.kind, actor_id=principal.id, target=principal.session_id)


def hold_open_session(session_id: str) -> bool:
    """Lock the login session's row for the caller's transaction (PostgreSQL; SQLite writes one at a
    time anyway); False when the session is unknown or revoked."""
    return models.hold_open_session(session_id)
