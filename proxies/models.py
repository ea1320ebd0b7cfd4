"""Proxy tables — 授权代理: a grant from a citizen (principal) to a relative (proxy), and every
request made under it. Only ids and masked values are stored; never a phone or ID number."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, select_one, update_where, utcnow
from app.pagination import newest_first

PENDING, ACTIVE, DECLINED, REVOKED, EXPIRED = "pending", "active", "declined", "revoked", "expired"


class ProxyGrant(BaseModel):
    """ProxyGrant — 代办授权. `status` is pending (made, waiting for the relative), active (accepted),
    declined or revoked; a pending or active grant past `expires_at` is expired. `active_key`
    (principal:proxy) is unique while the grant is pending or active: one at a time per pair.
    `session_id` is the login session that made it: revoking that session can revoke it."""

    id = pw.CharField(primary_key=True, max_length=32)
    principal_id = pw.CharField(max_length=32)
    proxy_id = pw.CharField(max_length=32)
    scopes = pw.CharField(max_length=255)  # space-separated
    status = pw.CharField(max_length=16, default=PENDING)
    active_key = pw.CharField(max_length=72, null=True, unique=True)
    principal_name_masked = pw.CharField(max_length=64, null=True)
    proxy_name_masked = pw.CharField(max_length=64, null=True)
    proxy_phone_masked = pw.CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)
    revoked_by = pw.CharField(max_length=16, null=True)  # principal | proxy | session
    session_id = pw.CharField(max_length=32, null=True, index=True)  # null for grants older than migration 015
    accepted_at = UTCDateTimeField(null=True)
    declined_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "proxy_grant"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class ProxyAction(BaseModel):
    """ProxyAction — 代办记录: one request made with a proxy token, with both identities."""

    id = pw.CharField(primary_key=True, max_length=32)
    grant_id = pw.CharField(max_length=32)
    principal_id = pw.CharField(max_length=32)
    proxy_id = pw.CharField(max_length=32)
    method = pw.CharField(max_length=8)
    route = pw.CharField(max_length=255)  # the URL rule, e.g. /api/v1/wallet/licences/<licence_id>
    scope = pw.CharField(max_length=32, null=True)  # the delegation scope the route accepted
    status = pw.IntegerField(null=True)  # HTTP status of the answer; null while running
    at = UTCDateTimeField(default=utcnow)
    request_id = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "proxy_action"


# --- Queries -------------------------------------------------------------------------------------

def find_grant(grant_id: str) -> ProxyGrant | None:
    return select_one(ProxyGrant, ProxyGrant.id, grant_id)


def free_expired_slot(active_key: str, now: datetime) -> None:
    """An expired grant no longer holds its pair's slot (`active_key`)."""
    ProxyGrant.update(active_key=None).where((ProxyGrant.active_key == active_key)
                                             & (ProxyGrant.expires_at <= now)).execute()


def grants_held(principal_id: str, now: datetime) -> int:
    """The principal's pending or active grants not yet expired."""
    return ProxyGrant.select().where((ProxyGrant.principal_id == principal_id)
                                     & ProxyGrant.status.in_([PENDING, ACTIVE])
                                     & (ProxyGrant.expires_at > now)).count()


def insert_grant(**values: Any) -> ProxyGrant | None:
    """A new grant; None when the pair already holds one (its `active_key` is taken)."""
    return insert_row(ProxyGrant, ignore_conflict=True, **values)


def move_grant(grant_id: str, *, from_status: str, **values: Any) -> int:
    """Change a grant still in `from_status` (conditional: of concurrent callers one sees 1)."""
    return update_where(ProxyGrant, {"id": grant_id, "status": from_status}, **values)


def grants_page(*, user_id: str, role: str, limit: int, cursor: str | None) -> tuple[list[ProxyGrant], str | None]:
    """Grants the user gave (`role=principal`) or was given (`role=proxy`), newest first."""
    column = ProxyGrant.principal_id if role == "principal" else ProxyGrant.proxy_id
    return newest_first(ProxyGrant.select().where(column == user_id), ProxyGrant.created_at, ProxyGrant.id,
                        limit=limit, cursor=cursor, at_of=lambda r: r.created_at, id_of=lambda r: r.id)


def grants_made_in_session(user_id: str, session_id: str) -> list[ProxyGrant]:
    """The grants `user_id` made in login session `session_id`, oldest first."""
    return list(ProxyGrant.select()
                .where((ProxyGrant.principal_id == user_id) & (ProxyGrant.session_id == session_id))
                .order_by(ProxyGrant.created_at, ProxyGrant.id))


def insert_action(**values: Any) -> ProxyAction:
    return insert_row(ProxyAction, **values)


def find_action(action_id: str) -> ProxyAction | None:
    return select_one(ProxyAction, ProxyAction.id, action_id)


def set_action_outcome(action_id: str, *, status: int, scope: str | None) -> None:
    update_where(ProxyAction, {"id": action_id}, status=status, scope=scope)


def actions_page(*, grant_id: str, limit: int, cursor: str | None) -> tuple[list[ProxyAction], str | None]:
    """What was done under a grant, newest first."""
    query = ProxyAction.select().where(ProxyAction.grant_id == grant_id)
    return newest_first(query, ProxyAction.at, ProxyAction.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.at, id_of=lambda r: r.id)
