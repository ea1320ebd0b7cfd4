"""Identity tables. Phones, names and ID numbers are stored SM4-GCM encrypted
(`*_enc`) with a keyed blind index (`*_bidx`) for lookups; never in clear."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow


class User(BaseModel):
    """A citizen account (居民用户). assurance_level: 1 phone, 2 registry match, 3 face liveness."""

    id = pw.CharField(primary_key=True, max_length=32)
    phone_enc = pw.BlobField(null=True)
    phone_bidx = pw.CharField(max_length=64, null=True, unique=True)
    name_enc = pw.BlobField(null=True)
    id_number_enc = pw.BlobField(null=True)
    id_number_bidx = pw.CharField(max_length=64, null=True, unique=True)
    assurance_level = pw.SmallIntegerField(default=1)
    real_name_verified_at = UTCDateTimeField(null=True)
    liveness_verified_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)


class WeChatIdentity(BaseModel):
    """A mini-program openid linked to an account; session_key stays server-side, encrypted."""

    openid = pw.CharField(primary_key=True, max_length=64)
    unionid = pw.CharField(max_length=64, null=True, index=True)
    user = pw.ForeignKeyField(User, backref="wechat_identities", on_delete="CASCADE")
    session_key_enc = pw.BlobField()
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)


class StaffUser(BaseModel):
    """A counter clerk (bound to a hall) or an administrator."""

    id = pw.CharField(primary_key=True, max_length=32)
    username = pw.CharField(max_length=64, unique=True)
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=16)  # clerk | admin
    hall_code = pw.CharField(max_length=32, null=True)
    disabled = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)


class ApiClient(BaseModel):
    """A machine client (issuer, department system, third party) with OAuth scopes."""

    client_id = pw.CharField(primary_key=True, max_length=40)
    name = pw.CharField(max_length=128)
    secret_hash = pw.CharField(max_length=64)
    scopes = pw.CharField(max_length=512)
    disabled = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)


class ApiClientHall(BaseModel):
    """A hall a machine client acts for: a queue system (`halls:write`) reports only its halls."""

    client_id = pw.CharField(max_length=40)
    hall_code = pw.CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "api_client_hall"
        primary_key = pw.CompositeKey("client_id", "hall_code")


class AuthSession(BaseModel):
    """One login (also its record: principal, channel, ip, time); its rotated refresh tokens share it."""

    id = pw.CharField(primary_key=True, max_length=32)
    principal_kind = pw.CharField(max_length=16)
    principal_id = pw.CharField(max_length=40, index=True)
    channel = pw.CharField(max_length=16, default="app")
    ip = pw.CharField(max_length=64, null=True)  # the login's record: who, when, where from
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = pw.CharField(max_length=32, null=True)


class RefreshToken(BaseModel):
    """An opaque refresh token, stored as its SHA-256; single use, rotated on every refresh."""

    id = pw.CharField(primary_key=True, max_length=32)
    session = pw.ForeignKeyField(AuthSession, backref="refresh_tokens", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)
    replaced_by = pw.CharField(max_length=32, null=True)


class RegistryEntry(BaseModel):
    """Development population registry (人口库) entry: what the real registry would hold."""

    id_number_bidx = pw.CharField(primary_key=True, max_length=64)
    id_number_enc = pw.BlobField()
    name_enc = pw.BlobField()
    created_at = UTCDateTimeField(default=utcnow)
