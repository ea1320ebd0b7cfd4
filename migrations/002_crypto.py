"""National-cryptography tables: the key store (wrapped SM2 keys) and the platform CA
(its certificates, the certificates it issued, its latest CRL)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class KeyRecord(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        purpose = pw.CharField(max_length=32)
        owner = pw.CharField(max_length=64)
        label = pw.CharField(max_length=128, null=True)
        algorithm = pw.CharField(max_length=16, default='SM2')
        status = pw.CharField(max_length=16, default='active')
        public_key_der = pw.BlobField()
        private_key_enc = pw.BlobField()
        kek_id = pw.CharField(index=True, max_length=32)
        replaced_by = pw.CharField(max_length=32, null=True)
        created_at = pw.DateTimeField()
        retired_at = pw.DateTimeField(null=True)
        disabled_at = pw.DateTimeField(null=True)
        reason = pw.CharField(max_length=128, null=True)

        class Meta:
            table_name = "crypto_key"
            indexes = [(('owner', 'purpose', 'status'), False)]

    @migrator.create_model
    class PlatformCa(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        slot = pw.CharField(max_length=16, null=True, unique=True)
        key_id = pw.CharField(max_length=32)
        source = pw.CharField(max_length=16)
        subject = pw.CharField(max_length=512)
        serial = pw.CharField(max_length=42)
        fingerprint = pw.CharField(max_length=64, unique=True)
        pem = pw.TextField()
        not_before = pw.DateTimeField()
        not_after = pw.DateTimeField()
        revocations = pw.BigIntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "platform_ca"

    @migrator.create_model
    class CertificateRecord(pw.Model):
        serial = pw.CharField(max_length=42, primary_key=True)
        ca = pw.CharField(index=True, max_length=32)
        subject = pw.CharField(max_length=1024)
        spki_sm3 = pw.CharField(index=True, max_length=64)
        pem = pw.TextField()
        not_before = pw.DateTimeField()
        not_after = pw.DateTimeField()
        status = pw.CharField(max_length=16, default='good')
        revoked_at = pw.DateTimeField(null=True)
        reason = pw.CharField(max_length=32, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "issued_certificate"

    @migrator.create_model
    class CaCrl(pw.Model):
        id = pw.BigAutoField()
        ca = pw.CharField(max_length=32)
        number = pw.BigIntegerField()
        revocations = pw.BigIntegerField()
        this_update = pw.DateTimeField()
        next_update = pw.DateTimeField()
        der = pw.BlobField()

        class Meta:
            table_name = "ca_crl"
            indexes = [(('ca', 'number'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('ca_crl')

    migrator.remove_model('issued_certificate')

    migrator.remove_model('platform_ca')

    migrator.remove_model('crypto_key')
