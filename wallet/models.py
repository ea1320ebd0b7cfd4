"""Wallet tables: issuers (发证机关) and licences (电子证照).

A licence's holder name, ID number and data are stored SM4-GCM encrypted; the holder is found by
the keyed blind index of the ID number. `user_id` is null while the licence is parked (停放):
issued to a person who has no verified account yet.
"""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow

STATUS_LABELS = {
    "01": "有效", "02": "暂扣", "03": "撤销", "04": "注销", "05": "失效", "06": "办理转出", "07": "吊销", "99": "其他",
}


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
