"""The issuer registry's tables and every query on them.

`issuer`: one row per issuing department (发证机关), its USCC (null only for a department carried
over from the wallet's per-client issuers by migration 022 until an operator records its real
code), the licence types it may issue (codes of the wallet's catalogue, comma-separated, sorted) and
its status. `issuer_client`: the machine clients it acts through (a client belongs to one
department; a department may have several).
"""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, db, select_one, utcnow

STATUSES = ("active", "suspended")


class Issuer(BaseModel):
    """An issuing department (发证机关)."""

    id = pw.CharField(primary_key=True, max_length=32)
    uscc = pw.CharField(max_length=18, unique=True, null=True)  # 统一社会信用代码 (GB 32100)
    legacy_code = pw.CharField(max_length=18, null=True)  # the code a carried-over issuer used before
    name = pw.CharField(max_length=128)
    region = pw.CharField(max_length=6, null=True)  # GB/T 2260 (null: carried over, not yet recorded)
    types = pw.TextField(default="")  # licence type codes, comma-separated, sorted
    status = pw.CharField(max_length=16, default="active")  # active | suspended
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "issuer"

    @property
    def type_codes(self) -> tuple[str, ...]:
        return tuple(t for t in self.types.split(",") if t)


class IssuerClient(BaseModel):
    """A machine client acting for a department (one department per client)."""

    client_id = pw.CharField(primary_key=True, max_length=40)
    issuer = pw.ForeignKeyField(Issuer, backref="clients", on_delete="CASCADE", column_name="issuer_id")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "issuer_client"


def issuer_by_id(issuer_id: str) -> Issuer | None:
    return select_one(Issuer, Issuer.id, issuer_id)


def issuer_by_uscc(uscc: str) -> Issuer | None:
    return select_one(Issuer, Issuer.uscc, uscc)


def issuer_of_client(client_id: str) -> Issuer | None:
    """The department this client acts for (one query), or None."""
    return (Issuer.select().join(IssuerClient).where(IssuerClient.client_id == client_id).first())


def issuer_for_update(issuer_id: str) -> Issuer | None:
    """The department's row, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    query = Issuer.select().where(Issuer.id == issuer_id)
    return (query.for_update() if isinstance(db.obj, pw.PostgresqlDatabase) else query).first()


def list_issuers(*, active_only: bool) -> list[Issuer]:
    query = Issuer.select().order_by(Issuer.name, Issuer.id)
    if active_only:
        query = query.where(Issuer.status == "active")
    return list(query)


def client_ids(issuer_id: str) -> list[str]:
    return [row.client_id for row in IssuerClient.select(IssuerClient.client_id)
            .where(IssuerClient.issuer == issuer_id).order_by(IssuerClient.client_id)]


def clients_by_issuer(issuer_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {i: [] for i in issuer_ids}
    if issuer_ids:
        for row in (IssuerClient.select(IssuerClient.client_id, IssuerClient.issuer)
                    .where(IssuerClient.issuer.in_(issuer_ids)).order_by(IssuerClient.client_id)):
            found[row.issuer_id].append(row.client_id)
    return found


def client_binding(client_id: str) -> IssuerClient | None:
    return select_one(IssuerClient, IssuerClient.client_id, client_id)


def create_issuer(**values) -> Issuer:
    now = utcnow()
    return Issuer.create(created_at=now, updated_at=now, **values)


def save_issuer(issuer: Issuer) -> None:
    issuer.updated_at = utcnow()
    issuer.save()


def bind_client(client_id: str, issuer_id: str) -> None:
    IssuerClient.create(client_id=client_id, issuer=issuer_id, created_at=utcnow())


def unbind_client(client_id: str) -> int:
    return IssuerClient.delete().where(IssuerClient.client_id == client_id).execute()


# --- Issuer signing keys and the published trust list (issuers/keys.py, issuers/trust.py) ----------

KEY_STATUSES = ("active", "retired", "revoked")


class IssuerKey(BaseModel):
    """One SM2 signing key of a department, its certificate from the platform CA and its validity.

    `kid`: the first 16 hex digits of SM3 over the key's SubjectPublicKeyInfo (what the trust list,
    offline QR codes and verification answers name); `key_id`: the key store's id (Licence.key_id).
    status: active (signs new licences) | retired (replaced by a rotation: verifies what it signed) |
    revoked (compromised: what it signed at or after `revoked_since` is flagged)."""

    kid = pw.CharField(primary_key=True, max_length=16)
    issuer_id = pw.CharField(max_length=32, index=True)
    key_id = pw.CharField(max_length=32, unique=True)
    certificate_serial = pw.CharField(max_length=42)
    certificate_pem = pw.TextField()
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField()
    status = pw.CharField(max_length=16, default="active")
    retired_at = UTCDateTimeField(null=True)
    revoked_since = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = pw.CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "issuer_key"


class TrustListVersion(BaseModel):
    """A signed version of the published trust list: the exact bytes served and their signature.
    `content_sha`: SM3 of the content without its version and times (a change makes a new version)."""

    version = pw.BigIntegerField(primary_key=True)
    content_sha = pw.CharField(max_length=64)
    issued_at = UTCDateTimeField()
    next_update = UTCDateTimeField()
    body = pw.BlobField()
    kid = pw.CharField(max_length=16)
    signature = pw.BlobField()

    class Meta:
        table_name = "issuer_trust_list"


def issuer_key_by_key_id(key_id: str) -> IssuerKey | None:
    """The registered key behind a licence's `key_id` (one prebuilt statement: verification's hot path)."""
    return select_one(IssuerKey, IssuerKey.key_id, key_id)


def issuer_key(kid: str) -> IssuerKey | None:
    return select_one(IssuerKey, IssuerKey.kid, kid)


def issuer_keys(issuer_id: str) -> list[IssuerKey]:
    """A department's keys, newest first."""
    return list(IssuerKey.select().where(IssuerKey.issuer_id == issuer_id)
                .order_by(IssuerKey.created_at.desc(), IssuerKey.kid))


def keys_by_issuer(issuer_ids: list[str]) -> dict[str, list[IssuerKey]]:
    """The keys of these departments (newest first each), in one query."""
    found: dict[str, list[IssuerKey]] = {i: [] for i in issuer_ids}
    if issuer_ids:
        for row in (IssuerKey.select().where(IssuerKey.issuer_id.in_(issuer_ids))
                    .order_by(IssuerKey.created_at.desc(), IssuerKey.kid)):
            found[row.issuer_id].append(row)
    return found


def active_issuer_key(issuer_id: str) -> IssuerKey | None:
    """The department's newest active key (the one that signs)."""
    return (IssuerKey.select().where(IssuerKey.issuer_id == issuer_id, IssuerKey.status == "active")
            .order_by(IssuerKey.created_at.desc(), IssuerKey.kid).first())


def insert_issuer_key(**values) -> IssuerKey:
    return IssuerKey.create(**values)


def retire_issuer_key(kid: str, at) -> int:
    """active → retired, once (a conditional update)."""
    return (IssuerKey.update(status="retired", retired_at=at)
            .where(IssuerKey.kid == kid, IssuerKey.status == "active").execute())


def revoke_issuer_key(kid: str, *, since, at, reason: str) -> int:
    """active/retired → revoked, once."""
    return (IssuerKey.update(status="revoked", revoked_since=since, revoked_at=at, revoked_reason=reason)
            .where(IssuerKey.kid == kid, IssuerKey.status != "revoked").execute())


def latest_trust_list() -> TrustListVersion | None:
    return TrustListVersion.select().order_by(TrustListVersion.version.desc()).first()


def insert_trust_list(**values) -> TrustListVersion:
    """A new version (unique: of two processes issuing the same number, one fails) and the old ones
    pruned (the last 10 kept)."""
    row = TrustListVersion.create(**values)
    TrustListVersion.delete().where(TrustListVersion.version <= values["version"] - 10).execute()
    return row
