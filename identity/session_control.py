"""A citizen's own login sessions (登录设备): list them, and revoke one they no longer trust.

A stolen access token acts inside its victim's session. What it made that outlives the session —
proxy grants (授权代理) created with it — is named when the citizen revokes that session, and with
`revoke_grants` is revoked in the same transaction (issue 14 item 2). The proxies feature registers
`app.extensions["session_grants"]` (`proxies.service.session_grants`): the kernel imports no feature.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask import current_app

from app import audit
from app.db import unit_of_work, utcnow
from app.errors import NotFound
from app.i18n import N_
from identity import models
from identity.models import AuthSession
from identity.sessions import revoke_session

REASON = "revoked_by_user"


class SessionNotFound(NotFound):
    code, detail = "session_not_found", N_("登录会话不存在。")


def _grants_of() -> Callable[..., list[dict[str, Any]]]:
    """What sessions made in other features; nothing when no feature registered (an app without proxies)."""
    return current_app.extensions.get("session_grants") or (lambda **_: [])


def _view(session: AuthSession, *, current: str | None, grants: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": session.id, "channel": session.channel, "created_at": session.created_at,
            "revoked_at": session.revoked_at, "current": session.id == current, "proxy_grants": grants}


def list_sessions(*, user_id: str, current_session_id: str | None, now: datetime | None = None) -> dict[str, Any]:
    """The citizen's sessions still alive (not revoked, a refresh token not yet expired), newest
    first, each with the proxy grants made in it."""
    rows = models.live_citizen_sessions(user_id, now or utcnow())
    grants_of = _grants_of()
    return {"items": [_view(row, current=current_session_id,
                            grants=grants_of(user_id=user_id, session_id=row.id, revoke=False)) for row in rows]}


def revoke_own_session(*, user_id: str, session_id: str, revoke_grants: bool,
                       current_session_id: str | None) -> dict[str, Any]:
    """Revoke one of the citizen's sessions (its refresh and access tokens stop working) and answer
    with the proxy grants made in it — revoked as well when `revoke_grants`. A session already
    ended (logged out, expired) may be named again to revoke its grants. Anyone else's session,
    or none: 404 `session_not_found`."""
    session = models.session_by_id(session_id)
    if session is None or session.principal_kind != "citizen" or session.principal_id != user_id:
        raise SessionNotFound()
    with unit_of_work():
        revoke_session(session.id, REASON)
        grants = _grants_of()(user_id=user_id, session_id=session.id, revoke=revoke_grants)
        audit.record("auth.session_revoke", actor_kind="citizen", actor_id=user_id, target=session.id,
                     details={"revoke_grants": revoke_grants, "grants": [grant["id"] for grant in grants]})
    session = models.session_by_id(session.id)
    return {**_view(session, current=current_session_id, grants=grants), "grants_revoked": revoke_grants}
