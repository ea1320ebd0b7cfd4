"""网号 links and identity consents (identity/ncid_login.py, identity/ncid_consent.py): their tables
and queries (split out of identity/models.py, which re-exports them)."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, new_id, select_one, utcnow


class NcidLink(BaseModel):
    """An account's 网号 (网络身份应用标识): looked up by its blind index, kept encrypted; one per
    account, one account per 网号. Holds no name or ID number (the 网号 is a pseudonym)."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, unique=True)
    app_user_id_bidx = pw.CharField(max_length=64, unique=True)
    app_user_id_enc = pw.BlobField()
    mode = pw.CharField(max_length=3)  # R01..R04 of the last authentication
    linked_at = UTCDateTimeField(default=utcnow)
    last_login_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "ncid_link"


class IdentityConsent(BaseModel):
    """A citizen's separate consent (单独同意) to receive their identity data for one purpose."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    purpose = pw.CharField(max_length=32)
    granted_at = UTCDateTimeField(default=utcnow)
    withdrawn_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "identity_consent"
        indexes = ((("user_id", "purpose"), False),)


def ncid_link_by_index(index: str) -> NcidLink | None:
    return select_one(NcidLink, NcidLink.app_user_id_bidx, index)


def ncid_link_of(user_id: str) -> NcidLink | None:
    return select_one(NcidLink, NcidLink.user_id, user_id)


def insert_ncid_link(*, user_id: str, index: str, app_user_id_enc: bytes, mode: str, now) -> NcidLink | None:
    """The new link, or None when the 网号 or the account got one meanwhile (a concurrent first login)."""
    return insert_row(NcidLink, ignore_conflict=True, id=new_id("ncl"), user_id=user_id, app_user_id_bidx=index,
                      app_user_id_enc=app_user_id_enc, mode=mode, linked_at=now, last_login_at=now)


def touch_ncid_link(link_id: str, *, mode: str, now) -> None:
    NcidLink.update(mode=mode, last_login_at=now).where(NcidLink.id == link_id).execute()


def delete_ncid_link(user_id: str) -> int:
    return NcidLink.delete().where(NcidLink.user_id == user_id).execute()


def active_consent(user_id: str, purpose: str) -> IdentityConsent | None:
    return (IdentityConsent.select().where((IdentityConsent.user_id == user_id) & (IdentityConsent.purpose == purpose)
                                           & IdentityConsent.withdrawn_at.is_null()).first())


def insert_consent(*, user_id: str, purpose: str, now) -> IdentityConsent:
    return insert_row(IdentityConsent, id=new_id("idc"), user_id=user_id, purpose=purpose, granted_at=now)


def renew_consent(consent_id: str, now) -> None:
    IdentityConsent.update(granted_at=now).where(IdentityConsent.id == consent_id).execute()
