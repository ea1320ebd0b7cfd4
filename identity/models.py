"""Identity tables. Phones, names and ID numbers are stored SM4-GCM encrypted
(`*_enc`) with a keyed blind index (`*_bidx`) for lookups; never in clear."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, db, execute, insert_row, new_id, select_one, utcnow
from identity.models_assurance import (  # noqa: F401 - importable from identity.models as before
    AssuranceEvent, assurance_events, fresh_assurance_level, insert_assurance_event, level_reached_at,
)
from identity.models_ncid import (  # noqa: F401 - importable from identity.models as before
    IdentityConsent, NcidLink, active_consent, delete_ncid_link, insert_consent, insert_ncid_link, ncid_link_by_index,
    ncid_link_of, renew_consent, touch_ncid_link,
)
from identity.models_staff import (  # noqa: F401 - importable from identity.models as before
    ApiClient, ApiClientHall, StaffUser, api_client, bind_client_hall, client_halls, client_serves_hall,
    create_api_client, create_staff, staff_by_id, staff_by_username, staff_username_taken, staff_usernames,
    unbind_client_halls,
)
from identity.rows import _prepared_insert


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
    # How the person behind the account was established: "registry" (name + ID matched), "ncid"
    # (网号/网证), or null (not verified: the standing level counts as at most L1).
    real_name_source = pw.CharField(max_length=16, null=True)
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


# --- Queries: every read and write of the identity tables (services call these by name) ----------

# Citizens


# The account row with `ncid_linked` (whether a 网号 link exists) read in the same statement: the
# profile (`accounts.user_view`) needs it, and it costs an index probe, not another query.
_USER_FIELDS = User._meta.sorted_fields
_USER_WITH_LINK = ("SELECT " + ", ".join(f'"user"."{f.column_name}"' for f in _USER_FIELDS)
                   + ', EXISTS (SELECT 1 FROM "ncid_link" WHERE "ncid_link"."user_id" = "user"."id")'
                   + ' FROM "user" WHERE "user"."{}" = ? LIMIT 1')


def _user_with_link(column: str, value: str) -> User | None:
    found = execute(_USER_WITH_LINK.format(column), [value]).fetchone()
    if found is None:
        return None
    user = User.__new__(User)  # the row as read: no defaults, nothing dirty (as peewee's own reads)
    user.__data__ = {f.name: f.python_value(v) for f, v in zip(_USER_FIELDS, found)}
    user._dirty, user.__rel__ = set(), {}
    user.ncid_linked = bool(found[-1])
    return user


def user_by_id(user_id: str) -> User | None:
    """The account (with `ncid_linked`), or None."""
    return _user_with_link("id", user_id)


def user_by_phone_index(index: str) -> User | None:
    """The account holding the phone's blind index (with `ncid_linked`), or None."""
    return _user_with_link("phone_bidx", index)


def user_by_id_number_index(index: str) -> User | None:
    return select_one(User, User.id_number_bidx, index)


def holder_of_id_index(index: str) -> tuple[str, bool, bytes | None] | None:
    """(account id, whether its ID number is stored, its encrypted name) of the account holding
    this ID-number blind index, or None: the three columns a department's case event reads."""
    return execute('SELECT "id", "id_number_enc" IS NOT NULL, "name_enc" FROM "user" WHERE "id_number_bidx" = ?',
                   [index]).fetchone()


def reload_user(user_id: str) -> User:
    return User.get_by_id(user_id)


def insert_user(*, phone_enc: bytes | None, phone_index: str | None, assurance_level: int) -> User:
    """A new account; when a concurrent first login for the same phone won, its account."""
    now = utcnow()
    user = insert_row(User, ignore_conflict=True, id=new_id("u"), phone_enc=phone_enc, phone_bidx=phone_index,
                      assurance_level=assurance_level, created_at=now, updated_at=now)
    if user is None:
        return user_by_phone_index(phone_index)
    user.ncid_linked = False  # created in this transaction: nothing links it yet
    return user


def bind_user_phone(user: User, *, phone_enc: bytes, phone_index: str) -> None:
    """Give the account its phone (at least L1); `user` is updated in place."""
    user.phone_enc, user.phone_bidx = phone_enc, phone_index
    user.assurance_level, user.updated_at = max(user.assurance_level, 1), utcnow()
    user.save()


def delete_user(user: User) -> None:
    user.delete_instance()


def id_number_held_by_other(index: str, user_id: str) -> bool:
    return User.select().where((User.id_number_bidx == index) & (User.id != user_id)).exists()


def set_real_name(user_id: str, *, name_enc: bytes, id_number_enc: bytes, id_number_index: str, now) -> int:
    """Record the verified name and ID number (L2) once: 0 when the account was verified meanwhile."""
    return User.update(
        name_enc=name_enc,
        id_number_enc=id_number_enc,
        id_number_bidx=id_number_index,
        assurance_level=2,
        real_name_source="registry",
        real_name_verified_at=now,
        updated_at=now,
    ).where((User.id == user_id) & User.real_name_verified_at.is_null()).execute()


def set_liveness_passed(user_id: str, now) -> None:
    """L3 for a real-name verified account (L2 or above)."""
    User.update(assurance_level=3, liveness_verified_at=now, updated_at=now).where(
        (User.id == user_id) & (User.assurance_level >= 2)
    ).execute()


# Assurance events (the table and its queries: identity/models_assurance.py)

def raise_standing_level(user_id: str, level: int, *, source: str | None, now) -> None:
    """The standing level becomes max(old, level) (it never decays); `source` fills a null real_name_source."""
    User.update(assurance_level=level, updated_at=now).where(
        (User.id == user_id) & (User.assurance_level < level)).execute()
    if source is not None:
        User.update(real_name_source=source).where(
            (User.id == user_id) & User.real_name_source.is_null()).execute()


# WeChat identities


def wechat_identity(openid: str) -> WeChatIdentity | None:
    return WeChatIdentity.get_or_none(WeChatIdentity.openid == openid)


def create_wechat_identity(*, openid: str, unionid: str | None, user: User, session_key_enc: bytes) -> WeChatIdentity:
    return WeChatIdentity.create(openid=openid, unionid=unionid, user=user, session_key_enc=session_key_enc)


def refresh_wechat_identity(identity: WeChatIdentity, *, session_key_enc: bytes, unionid: str | None) -> None:
    """A new session key (and the unionid, when WeChat now gives one); `identity` is updated in place."""
    identity.session_key_enc, identity.unionid = session_key_enc, unionid or identity.unionid
    identity.updated_at = utcnow()
    identity.save()


def move_wechat_identities(*, from_user_id: str, to_user: User) -> None:
    WeChatIdentity.update(user=to_user).where(WeChatIdentity.user == from_user_id).execute()


def openid_belongs_to(user_id: str, openid: str) -> bool:
    return WeChatIdentity.select().where((WeChatIdentity.openid == openid) & (WeChatIdentity.user == user_id)).exists()


# Sessions and refresh tokens


_insert_session = _prepared_insert(AuthSession, ("id", "principal_kind", "principal_id", "channel", "ip",
                                                  "created_at"))
_insert_refresh_token = _prepared_insert(RefreshToken, ("id", "session", "token_hash", "expires_at", "created_at"))


def insert_session(*, principal_kind: str, principal_id: str, channel: str, ip: str | None) -> str:
    """A new login session; its id."""
    session_id = new_id("ses")
    _insert_session(session_id, principal_kind, principal_id, channel, ip, utcnow())
    return session_id


def session_by_id(session_id: str) -> AuthSession | None:
    return select_one(AuthSession, AuthSession.id, session_id)


def insert_refresh_token(*, session_id: str, token_hash: str, expires_at) -> str:
    """A new refresh token of the session (stored as its hash); its id."""
    token_id = new_id("rt")
    _insert_refresh_token(token_id, session_id, token_hash, expires_at, utcnow())
    return token_id


def refresh_token_by_hash(token_hash: str) -> RefreshToken | None:
    return RefreshToken.get_or_none(RefreshToken.token_hash == token_hash)


def refresh_token_by_id(token_id: str) -> RefreshToken:
    return RefreshToken.get_by_id(token_id)


def claim_refresh_token(token_id: str, now) -> bool:
    """Spend an unused refresh token: of concurrent callers exactly one gets True."""
    return bool(RefreshToken.update(used_at=now).where(
        (RefreshToken.id == token_id) & RefreshToken.used_at.is_null()
    ).execute())


def set_refresh_successor(token_id: str, successor_id: str) -> None:
    RefreshToken.update(replaced_by=successor_id).where(RefreshToken.id == token_id).execute()


def mark_session_revoked(session_id: str, reason: str, now) -> None:
    AuthSession.update(revoked_at=now, revoked_reason=reason).where(
        (AuthSession.id == session_id) & AuthSession.revoked_at.is_null()
    ).execute()


def open_session_ids(principal_kind: str, principal_id: str) -> list[str]:
    return [row.id for row in AuthSession.select(AuthSession.id).where(
        (AuthSession.principal_kind == principal_kind) & (AuthSession.principal_id == principal_id)
        & AuthSession.revoked_at.is_null())]


def live_citizen_sessions(user_id: str, now) -> list[AuthSession]:
    """The citizen's sessions not revoked with a refresh token not yet expired, newest first."""
    alive = RefreshToken.select(RefreshToken.id).where((RefreshToken.session == AuthSession.id)
                                                       & (RefreshToken.expires_at > now))
    return list(AuthSession.select()
                .where((AuthSession.principal_kind == "citizen") & (AuthSession.principal_id == user_id)
                       & AuthSession.revoked_at.is_null() & pw.fn.EXISTS(alive))
                .order_by(AuthSession.created_at.desc(), AuthSession.id.desc()))


def session_is_revoked(session_id: str) -> bool:
    return AuthSession.select().where((AuthSession.id == session_id)
                                      & AuthSession.revoked_at.is_null(False)).exists()


def revocations_since(since) -> list[tuple[str, object]]:
    """(session id, revoked at) of the sessions revoked after `since`."""
    return [(row.id, row.revoked_at) for row in AuthSession.select(AuthSession.id, AuthSession.revoked_at)
            .where(AuthSession.revoked_at > since)]


def hold_open_session(session_id: str) -> bool:
    """Lock the session's row for the caller's transaction (PostgreSQL; SQLite writes one at a time
    anyway); False when the session is unknown or revoked."""
    query = AuthSession.select(AuthSession.revoked_at).where(AuthSession.id == session_id)
    row = (query.for_update() if isinstance(db.obj, pw.PostgresqlDatabase) else query).first()
    return row is not None and row.revoked_at is None


# The development registry


def registry_entry(id_number_index: str) -> RegistryEntry | None:
    return RegistryEntry.get_or_none(RegistryEntry.id_number_bidx == id_number_index)


def upsert_registry_entry(*, id_number_index: str, id_number_enc: bytes, name_enc: bytes) -> None:
    RegistryEntry.insert(
        id_number_bidx=id_number_index, id_number_enc=id_number_enc, name_enc=name_enc,
    ).on_conflict(conflict_target=[RegistryEntry.id_number_bidx],
                  update={RegistryEntry.name_enc: name_enc}).execute()


# 网号 links and identity consents: identity/models_ncid.py

def has_wechat_identity(user_id: str) -> bool:
    return WeChatIdentity.select().where(WeChatIdentity.user == user_id).exists()


def set_consented_identity(user_id: str, *, id_number_index: str, name_enc: bytes | None,
                           id_number_enc: bytes | None, now) -> None:
    """Store what a consent purpose allows: always the ID number's blind index (matching); the name
    and the ID number only when given (a purpose that needs them); never clears what is stored."""
    values = {User.id_number_bidx: id_number_index, User.updated_at: now}
    if name_enc is not None:
        values[User.name_enc] = name_enc
    if id_number_enc is not None:
        values[User.id_number_enc] = id_number_enc
    User.update(values).where(User.id == user_id).execute()
