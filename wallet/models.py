"""Wallet tables: issuers (发证机关), licences (电子证照), presentations (亮证) and their checks,
and every query the wallet runs (the modules of the wallet call these named functions).

A licence's holder name, ID number and data are stored SM4-GCM encrypted; the holder is found by
the keyed blind index of the ID number. `user_id` is null while the licence is parked (停放):
issued to a person who has no verified account yet.

The presentation and counter paths (亮证, 柜台核验) are benchmarked hot paths: their statements use
the SQL built once per shape (`app.db` select_where / insert_row / update_where / execute); the
counter's scan and the home screen's cards read in wallet/queries.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import peewee as pw

from app import i18n
from app.db import (
    BaseModel, UTCDateTimeField, execute, insert_row, new_id, select_one, select_where, update_where, utcnow,
)
from app.i18n import N_
from app.pagination import newest_first
from wallet.rows import HOT_SQL, built, insert

STATUS_LABELS = {
    "01": N_("有效"), "02": N_("暂扣"), "03": N_("撤销"), "04": N_("注销"), "05": N_("失效"), "06": N_("办理转出"),
    "07": N_("吊销"), "99": N_("其他"),
}
i18n.register_labels("licence_status", STATUS_LABELS)


class Issuer(BaseModel):
    """The wallet's row of an issuing department of the registry (issuers/, same id): its serial
    counter and signing key; its machine clients are bound in the registry (issue 17)."""

    id = pw.CharField(primary_key=True, max_length=32)
    client_id = pw.CharField(max_length=40, unique=True)  # unused since migration 025: the department id
    code = pw.CharField(max_length=18, unique=True)  # issuer code in new identifiers: the department's USCC
    name = pw.CharField(max_length=128)
    key_id = pw.CharField(max_length=32)  # its SM2 signing key in the key store
    next_serial = pw.BigIntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "wallet_issuer"


class Licence(BaseModel):
    """An issued e-licence (电子证照) and its current signed version."""

    id = pw.CharField(primary_key=True, max_length=32)
    identifier = pw.CharField(max_length=128, unique=True)
    type_code = pw.CharField(max_length=64)
    issuer = pw.ForeignKeyField(Issuer, backref="licences", on_delete="RESTRICT")
    reference = pw.CharField(max_length=128)
    request_digest = pw.CharField(max_length=64)  # keyed digest of the issuing request (idempotency)
    holder_bidx = pw.CharField(max_length=64, index=True)
    # "person": holder_bidx = blind_index("id", ID number); "enterprise": blind_index("uscc", USCC),
    # the holder's "ID number" is the USCC and the owner (user_id) an enterprise id (issue 19)
    holder_kind = pw.CharField(max_length=10, default="person")
    holder_name_enc = pw.BlobField()
    holder_id_enc = pw.BlobField()
    user_id = pw.CharField(max_length=32, null=True, index=True)  # null: parked
    data_enc = pw.BlobField()
    valid_from = pw.DateField()
    valid_until = pw.DateField(null=True)
    status = pw.CharField(max_length=2, default="01")
    status_reason = pw.CharField(max_length=256, null=True)
    version = pw.IntegerField(default=1)
    signature = pw.BlobField()
    key_id = pw.CharField(max_length=32)
    canonical_sha = pw.CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "licence"
        indexes = ((("issuer", "reference"), True), (("user_id", "created_at", "id"), False))


class Presentation(BaseModel):
    """One showing of a licence at a counter (亮证): a one-time QR / manual code.

    The live state (nonce → licence, fields) is in Redis; this row is the usage record and the
    backstop: a code is consumed by the conditional update `status live → used`, so a Redis
    restart cannot bring a used code back. `live_slot` holds the licence id while live (UNIQUE):
    at most one live presentation per licence."""

    id = pw.CharField(primary_key=True, max_length=32)
    nonce = pw.CharField(max_length=32, unique=True)  # hex of the 96-bit random id in the QR text
    licence = pw.ForeignKeyField(Licence, backref="presentations", on_delete="CASCADE")
    user_id = pw.CharField(max_length=32, index=True)
    fields = pw.TextField()  # JSON: the disclosed field keys
    explicit = pw.BooleanField(default=False)  # fields chosen by the holder (shown in full)
    purpose = pw.CharField(max_length=40, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    status = pw.CharField(max_length=8, default="live")  # live | used | retired | revoked | expired
    live_slot = pw.CharField(max_length=32, null=True, unique=True)
    used_at = UTCDateTimeField(null=True)
    verified_by = pw.CharField(max_length=32, null=True)
    hall_code = pw.CharField(max_length=32, null=True)
    shown_by = pw.CharField(max_length=32, null=True)  # the actor of a delegated token (an enterprise's agent)

    class Meta:
        table_name = "wallet_presentation"


class PresentationCheck(BaseModel):
    """A counter verification attempt on a known presentation (success or refusal)."""

    id = pw.CharField(primary_key=True, max_length=32)
    presentation = pw.ForeignKeyField(Presentation, backref="checks", on_delete="CASCADE")
    user_id = pw.CharField(max_length=32, index=True)  # the holder
    clerk_id = pw.CharField(max_length=32)
    hall_code = pw.CharField(max_length=32, null=True)
    checked_at = UTCDateTimeField(default=utcnow)
    result = pw.CharField(max_length=32)  # verified | presentation_used | presentation_expired | licence_not_valid
    type_code = pw.CharField(max_length=64, null=True)
    holder_name_masked = pw.CharField(max_length=64, null=True)
    matter = pw.CharField(max_length=32, null=True)  # the 用证事项 the clerk chose (wallet/matters.py)
    disclosed = pw.TextField(null=True)  # JSON: the field keys the counter saw (verified with a matter)

    class Meta:
        table_name = "wallet_presentation_check"
        indexes = ((("clerk_id", "checked_at"), False), (("user_id", "checked_at", "id"), False))


# --- Issuers -----------------------------------------------------------------------------------

def issuer_by_id(issuer_id: str) -> Issuer | None:
    return select_one(Issuer, Issuer.id, issuer_id)


def create_issuer(*, issuer_id: str, client_id: str, code: str, name: str, key_id: str) -> Issuer:
    return Issuer.create(id=issuer_id, client_id=client_id, code=code, name=name, key_id=key_id)


def update_issuer(issuer: Issuer, *, code: str, name: str) -> Issuer:
    """The registry's code and name for the department (a carried-over one's USCC recorded, a rename)."""
    Issuer.update(code=code, name=name).where(Issuer.id == issuer.id).execute()
    issuer.code, issuer.name = code, name
    return issuer


def take_serial(issuer_id: str) -> int:
    """The issuer's next licence serial number, taken (the update locks the issuer's row until the
    caller's transaction ends: concurrent issuances of one issuer queue here)."""
    execute('UPDATE "wallet_issuer" SET "next_serial" = "next_serial" + 1 WHERE "id" = ?', [issuer_id])
    return execute('SELECT "next_serial" FROM "wallet_issuer" WHERE "id" = ?', [issuer_id]).fetchone()[0] - 1


# --- Licences ----------------------------------------------------------------------------------

def licence_by_id(licence_id: str) -> Licence | None:
    return select_one(Licence, Licence.id, licence_id)


def licence_by_reference(issuer_id: str, reference: str) -> Licence | None:
    return select_where(Licence, issuer=issuer_id, reference=reference)


def insert_licence(licence: Licence) -> Licence:
    return insert_row(Licence, **licence.__data__)


def save_licence(licence: Licence) -> None:
    licence.save()


def issued_licence(issuer_id: str, licence_id: str) -> Licence | None:
    """The licence with its issuer (`licence.issuer`) if that department issued it."""
    return (Licence.select(Licence, Issuer).join(Issuer)
            .where((Licence.id == licence_id) & (Licence.issuer == issuer_id)).first())


def holder_licence(licence_id: str, user_id: str) -> Licence | None:
    """The holder's licence without its issuer (the presentation path: one prebuilt statement)."""
    sql = HOT_SQL.get("holder_licence")
    if sql is None:
        columns = ", ".join(f'"{f.column_name}"' for f in Licence._meta.sorted_fields)
        # raw SQL, built once (cf. app.db.select_where)
        sql = HOT_SQL["holder_licence"] = f'SELECT {columns} FROM "licence" WHERE "id" = ? AND "user_id" = ? LIMIT 1'
    found = execute(sql, [licence_id, user_id]).fetchone()
    return built(Licence, found) if found is not None else None


def holder_licence_with_issuer(licence_id: str, user_id: str) -> Licence | None:
    return (Licence.select(Licence, Issuer).join(Issuer)
            .where((Licence.id == licence_id) & (Licence.user_id == user_id)).first())


def holder_licences_page(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Licence], str | None]:
    """One page of the holder's licences with their issuers, newest first: (rows, next cursor)."""
    query = Licence.select(Licence, Issuer).join(Issuer).where(Licence.user_id == user_id)
    return newest_first(query, Licence.created_at, Licence.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.created_at, id_of=lambda r: r.id)


def parked_licences(holder_bidx: str, holder_kind: str = "person") -> list[Licence]:
    """The licences parked for the holder with this blind index (of an ID number, or of a USCC)."""
    return list(Licence.select().where((Licence.holder_bidx == holder_bidx) & (Licence.holder_kind == holder_kind)
                                       & Licence.user_id.is_null()))


def attach_licences(licence_ids: list[str], user_id: str) -> int:
    """Give these parked licences to the holder (those still parked); the number attached."""
    return Licence.update(user_id=user_id).where(Licence.id.in_(licence_ids) & Licence.user_id.is_null()).execute()


def lock_licence(licence_id: str) -> None:
    """Lock the licence's row for the caller's transaction (a no-op update)."""
    execute('UPDATE "licence" SET "version" = "version" WHERE "id" = ?', [licence_id])


# --- Presentations (亮证) ------------------------------------------------------------------------

def live_presentations(licence_id: str) -> list[tuple[str, str]]:
    """(id, nonce) of the licence's live presentation (at most one: `live_slot` is unique)."""
    return execute('SELECT "id", "nonce" FROM "wallet_presentation" WHERE "live_slot" = ?', [licence_id]).fetchall()


def retire_presentation(presentation_id: str) -> None:
    update_where(Presentation, {"id": presentation_id}, status="retired", live_slot=None)


def insert_live_presentation(*, presentation_id: str, nonce: str, licence_id: str, user_id: str, fields: str,
                             explicit: bool, purpose: str | None, expires_at: datetime,
                             shown_by: str | None = None) -> None:
    insert(Presentation, id=presentation_id, nonce=nonce, licence=licence_id, user_id=user_id, fields=fields,
            explicit=explicit, purpose=purpose, expires_at=expires_at, status="live", live_slot=licence_id,
            shown_by=shown_by, created_at=utcnow())


def presentation_status(presentation_id: str) -> str:
    return execute('SELECT "status" FROM "wallet_presentation" WHERE "id" = ?', [presentation_id]).fetchone()[0]


def presentation_by_nonce(nonce_hex: str) -> Presentation | None:
    return select_one(Presentation, Presentation.nonce, nonce_hex)


def holder_presentation(presentation_id: str, user_id: str) -> Presentation | None:
    return Presentation.get_or_none((Presentation.id == presentation_id) & (Presentation.user_id == user_id))


def revoke_live_presentation(presentation_id: str) -> int:
    """live → revoked; 1 if this call changed it, 0 if it was not live."""
    return (Presentation.update(status="revoked", live_slot=None)
            .where((Presentation.id == presentation_id) & (Presentation.status == "live")).execute())


def expire_live_presentation(presentation_id: str) -> int:
    """live → expired; 1 if this call changed it."""
    return update_where(Presentation, {"id": presentation_id, "status": "live"}, status="expired", live_slot=None)


def consume_live_presentation(presentation_id: str, *, used_at: datetime, clerk_id: str,
                              hall_code: str | None) -> int:
    """live → used (the one-time backstop): of concurrent callers exactly one gets 1."""
    return update_where(Presentation, {"id": presentation_id, "status": "live"}, status="used", used_at=used_at,
                        verified_by=clerk_id, hall_code=hall_code, live_slot=None)


# --- Counter checks (柜台核验记录) ---------------------------------------------------------------

def insert_check(*, presentation: Presentation, clerk_id: str, hall_code: str | None, checked_at: datetime,
                 result: str, type_code: str | None, holder_name_masked: str | None, matter: str | None = None,
                 disclosed: str | None = None) -> None:
    insert(PresentationCheck, id=new_id("pck"), presentation=presentation.id, user_id=presentation.user_id,
            clerk_id=clerk_id, hall_code=hall_code, checked_at=checked_at, result=result, type_code=type_code,
            holder_name_masked=holder_name_masked, matter=matter, disclosed=disclosed)


def clerk_checks_since(clerk_id: str, start: datetime, limit: int = 200) -> Iterable[PresentationCheck]:
    """The clerk's checks since `start`, with their presentations, newest first."""
    return (PresentationCheck.select(PresentationCheck, Presentation).join(Presentation)
            .where((PresentationCheck.clerk_id == clerk_id) & (PresentationCheck.checked_at >= start))
            .order_by(PresentationCheck.checked_at.desc(), PresentationCheck.id.desc()).limit(limit))


def holder_checks_page(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[PresentationCheck], str | None]:
    """One page of the checks of the holder's presentations, with their presentations, newest first."""
    query = (PresentationCheck.select(PresentationCheck, Presentation).join(Presentation)
             .where(PresentationCheck.user_id == user_id))
    return newest_first(query, PresentationCheck.checked_at, PresentationCheck.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.checked_at, id_of=lambda r: r.id)


def licences_expiring(start: date, end: date) -> list[Licence]:
    """Valid (有效) licences in a holder's wallet whose validity ends between `start` and `end`
    (inclusive): `flask wallet remind-expiring`."""
    return list(Licence.select().where((Licence.status == "01") & Licence.user_id.is_null(False)
                                       & Licence.valid_until.between(start, end)).order_by(Licence.valid_until))


# --- The life cycle (状态变更、补领/换领/变更): history and superseded versions -------------------------

class LicenceHistory(BaseModel):
    """One event of a licence's life cycle (wallet/lifecycle.py): issued, a status change, a
    re-issue (补领), a renewal (换领) or a change (变更); each makes the version it names."""

    id = pw.CharField(primary_key=True, max_length=32)
    licence = pw.ForeignKeyField(Licence, backref="history", on_delete="CASCADE")
    version = pw.IntegerField()  # the version this event made
    identifier = pw.CharField(max_length=128)  # that version's identifier
    kind = pw.CharField(max_length=16)  # issued | status | reissue | renewal | change
    from_status = pw.CharField(max_length=2, null=True)
    to_status = pw.CharField(max_length=2)
    reason = pw.CharField(max_length=256, null=True)
    actor_kind = pw.CharField(max_length=16)  # client (an issuing department's system) | system
    actor_id = pw.CharField(max_length=40, null=True)
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "licence_history"
        indexes = ((("licence", "version"), True),)


class LicenceVersion(BaseModel):
    """A superseded signed version of a licence, kept as it was signed (its signature still
    verifies over its canonical bytes), found by its identifier."""

    id = pw.CharField(primary_key=True, max_length=32)
    licence = pw.ForeignKeyField(Licence, backref="versions", on_delete="CASCADE")
    version = pw.IntegerField()
    identifier = pw.CharField(max_length=128, unique=True)
    status = pw.CharField(max_length=2)
    holder_name_enc = pw.BlobField()
    holder_id_enc = pw.BlobField()
    data_enc = pw.BlobField()
    valid_from = pw.DateField()
    valid_until = pw.DateField(null=True)
    key_id = pw.CharField(max_length=32)
    signature = pw.BlobField()
    canonical_sha = pw.CharField(max_length=64)
    signed_at = UTCDateTimeField()
    superseded_at = UTCDateTimeField()

    class Meta:
        table_name = "licence_version"
        indexes = ((("licence", "version"), True),)


def insert_history(*, licence: Licence, kind: str, from_status: str | None, reason: str | None, actor_kind: str,
                   actor_id: str | None, at: datetime) -> None:
    LicenceHistory.create(id=new_id("lhi"), licence=licence.id, version=licence.version, identifier=licence.identifier,
                          kind=kind, from_status=from_status, to_status=licence.status, reason=reason,
                          actor_kind=actor_kind, actor_id=actor_id, at=at)


def licence_history(licence_id: str) -> list[LicenceHistory]:
    """The licence's life cycle, oldest first."""
    return list(LicenceHistory.select().where(LicenceHistory.licence == licence_id).order_by(LicenceHistory.version))


def keep_version(licence: Licence, *, superseded_at: datetime) -> None:
    """Keep the licence's current signed version before it is replaced."""
    LicenceVersion.create(id=new_id("lve"), licence=licence.id, version=licence.version,
                          identifier=licence.identifier, status=licence.status,
                          holder_name_enc=licence.holder_name_enc, holder_id_enc=licence.holder_id_enc,
                          data_enc=licence.data_enc, valid_from=licence.valid_from, valid_until=licence.valid_until,
                          key_id=licence.key_id, signature=licence.signature, canonical_sha=licence.canonical_sha,
                          signed_at=licence.updated_at, superseded_at=superseded_at)


def superseded_version(identifier: str) -> LicenceVersion | None:
    """The superseded version with this identifier, with its licence (the current one)."""
    return (LicenceVersion.select(LicenceVersion, Licence).join(Licence)
            .where(LicenceVersion.identifier == identifier).first())


def version_at(licence_id: str, at: datetime) -> int | None:
    """The licence's version at `at` (from its history; None when its history starts later)."""
    row = (LicenceHistory.select(pw.fn.MAX(LicenceHistory.version)).where(
        (LicenceHistory.licence == licence_id) & (LicenceHistory.at <= at)).scalar())
    return row


def licence_version(licence_id: str, version: int) -> LicenceVersion | None:
    return LicenceVersion.get_or_none((LicenceVersion.licence == licence_id) & (LicenceVersion.version == version))


def licence_by_identifier(identifier: str) -> Licence | None:
    return select_one(Licence, Licence.identifier, identifier)


def insert_offline_presentation(*, presentation_id: str, nonce: str, licence_id: str, user_id: str, fields: str,
                                expires_at: datetime) -> None:
    """The record of an offline QR handed to the holder (status "offline": never live, never consumed
    here; its nonce is 16 hex digits, an online one's 24)."""
    insert_row(Presentation, id=presentation_id, nonce=nonce, licence=licence_id, user_id=user_id, fields=fields,
               explicit=False, purpose=None, expires_at=expires_at, status="offline", live_slot=None)
