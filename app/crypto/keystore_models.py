"""Key store table. Private keys are stored only wrapped (SM4-GCM under a key-encryption key);
see app.crypto.keystore for the format."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow

KEY_STATUSES = ("active", "retired", "disabled")


class KeyRecord(BaseModel):
    """One SM2 key pair. status: active (signs) | retired (replaced by rotation; verify-only) |
    disabled (withdrawn, e.g. compromised; verify-only, with a reason)."""

    id = pw.CharField(primary_key=True, max_length=32)
    purpose = pw.CharField(max_length=32)
    owner = pw.CharField(max_length=64)
    label = pw.CharField(max_length=128, null=True)
    algorithm = pw.CharField(max_length=16, default="SM2")
    status = pw.CharField(max_length=16, default="active")
    public_key_der = pw.BlobField()
    private_key_enc = pw.BlobField()
    kek_id = pw.CharField(max_length=32, index=True)
    replaced_by = pw.CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    retired_at = UTCDateTimeField(null=True)
    disabled_at = UTCDateTimeField(null=True)
    reason = pw.CharField(max_length=128, null=True)

    class Meta:
        table_name = "crypto_key"
        indexes = ((("owner", "purpose", "status"), False),)
