"""Proxy tables — 授权代理: a grant from a citizen (principal) to a relative (proxy), and every
request made under it. Only ids and masked values are stored; never a phone or ID number."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow

ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"


class ProxyGrant(BaseModel):
    """ProxyGrant — 代办授权. `status` is active or revoked; an active grant past `expires_at` is
    expired. `active_key` (principal:proxy) is unique while the grant is active: one at a time."""

    id = pw.CharField(primary_key=True, max_length=32)
    principal_id = pw.CharField(max_length=32)
    proxy_id = pw.CharField(max_length=32)
    scopes = pw.CharField(max_length=255)  # space-separated
    status = pw.CharField(max_length=16, default=ACTIVE)
    active_key = pw.CharField(max_length=72, null=True, unique=True)
    principal_name_masked = pw.CharField(max_length=64, null=True)
    proxy_name_masked = pw.CharField(max_length=64, null=True)
    proxy_phone_masked = pw.CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)
    revoked_by = pw.CharField(max_length=16, null=True)  # principal | proxy

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
