"""Wallet tables: issuers (发证机关) and licences (电子证照).

A licence's holder name, ID number and data are stored SM4-GCM encrypted; the holder is found by
the keyed blind index of the ID number. `user_id` is null while the licence is parked (停放):
issued to a person who has no verified account yet.
"""
from __future__ import annotations

import peewee as pw

from app import i18n
from app.db import BaseModel, UTCDateTimeField, utcnow

STATUS_LABELS = {
    "01": "有效", "02": "暂扣", "03": "撤销", "04": "注销", "05": "失效", "06": "办理转出", "07": "吊销", "99": "其他",
}
STATUS_LABELS_EN = {
    "01": "Valid", "02": "Suspended", "03": "Annulled", "04": "Cancelled", "05": "Expired", "06": "Transferred out",
    "07": "Revoked", "99": "Other",
}
i18n.register_labels("licence_status", STATUS_LABELS, STATUS_LABELS_EN)


class Issuer(BaseModel):
    """A department that issues licences; acts through one machine client (`licences:issue`)."""

    id = pw.CharField(primary_key=True, max_length=32)
    client_id = pw.CharField(max_length=40, unique=True)
    code = pw.CharField(max_length=18, unique=True)  # issuer code in identifiers (统一社会信用代码 shape)
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

    class Meta:
        table_name = "wallet_presentation_check"
        indexes = ((("clerk_id", "checked_at"), False), (("user_id", "checked_at", "id"), False))
