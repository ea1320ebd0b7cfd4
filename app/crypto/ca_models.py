"""Platform CA tables: the CA's own certificate(s), the certificates it issued, its CRLs."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow


class PlatformCa(BaseModel):
    """A platform CA certificate. `slot` is "active" for the one in use and NULL once replaced
    (unique: concurrent first starts cannot both install a CA). `revocations` counts revocations,
    so a CRL built before the latest one is known to be stale."""

    id = pw.CharField(primary_key=True, max_length=32)
    slot = pw.CharField(max_length=16, null=True, unique=True)
    key_id = pw.CharField(max_length=32)
    source = pw.CharField(max_length=16)  # generated | configured
    subject = pw.CharField(max_length=512)
    serial = pw.CharField(max_length=42)
    fingerprint = pw.CharField(max_length=64, unique=True)  # SM3 of the DER, hex
    pem = pw.TextField()
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField()
    revocations = pw.BigIntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "platform_ca"


class CertificateRecord(BaseModel):
    """A certificate the platform CA signed. status: good | revoked."""

    serial = pw.CharField(primary_key=True, max_length=42)  # lower-case hex, even length
    ca = pw.CharField(max_length=32, index=True)
    subject = pw.CharField(max_length=1024)
    spki_sm3 = pw.CharField(max_length=64, index=True)
    pem = pw.TextField()
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField()
    status = pw.CharField(max_length=16, default="good")
    revoked_at = UTCDateTimeField(null=True)
    reason = pw.CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "issued_certificate"


class CaCrl(BaseModel):
    """The latest signed CRL of a CA (older ones are deleted when a new one is issued)."""

    id = pw.BigAutoField()
    ca = pw.CharField(max_length=32)
    number = pw.BigIntegerField()
    revocations = pw.BigIntegerField()  # PlatformCa.revocations when this CRL was built
    this_update = UTCDateTimeField()
    next_update = UTCDateTimeField()
    der = pw.BlobField()

    class Meta:
        table_name = "ca_crl"
        indexes = ((("ca", "number"), True),)
