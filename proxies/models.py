"""Proxy tables — 授权代理: a grant from a citizen (principal) to a relative (proxy), and every
request made under it. Only ids and masked values are stored; never a phone or ID number."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow

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
