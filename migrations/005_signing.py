"""Cloud signing (电子云签): credentials, signing requests, signatures."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class SigningCredential(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(index=True, max_length=32)
        active_slot = pw.CharField(max_length=32, null=True, unique=True)
        status = pw.CharField(max_length=16, default='active')
        key_id = pw.CharField(max_length=32)
        cert_serial = pw.CharField(max_length=42, unique=True)
        certificate_pem = pw.TextField()
        pin_hash = pw.CharField(max_length=255)
        failed_pins = pw.IntegerField(default=0)
        locked_until = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)
        revoke_reason = pw.CharField(max_length=32, null=True)

        class Meta:
            table_name = "signing_credential"

    @migrator.create_model
    class SigningRequest(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(index=True, max_length=32)
        credential_id = pw.CharField(max_length=32)
        batch_id = pw.CharField(index=True, max_length=32, null=True)
        title = pw.CharField(max_length=128)
        e_hex = pw.CharField(max_length=64)
        document_sm3 = pw.CharField(max_length=64, null=True)
        document_size = pw.BigIntegerField(null=True)
        status = pw.CharField(max_length=16, default='pending')
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        signed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "signing_request"

    @migrator.create_model
    class Signature(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32)
        request_id = pw.CharField(max_length=32, unique=True)
        credential_id = pw.CharField(max_length=32)
        cert_serial = pw.CharField(max_length=42)
        title = pw.CharField(max_length=128)
        e_hex = pw.CharField(max_length=64)
        document_sm3 = pw.CharField(max_length=64, null=True)
        signature_der = pw.BlobField()
        signature_sm3 = pw.CharField(index=True, max_length=64)
        signed_at = pw.DateTimeField()

        class Meta:
            table_name = "signing_signature"
            indexes = [(('user_id', 'signed_at', 'id'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('signing_signature')

    migrator.remove_model('signing_request')

    migrator.remove_model('signing_credential')
