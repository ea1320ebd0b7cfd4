"""Issuer signing keys and the published trust list (issue 17).

`issuer_key`: each department's SM2 signing keys (the key store holds the private halves), with the
platform CA certificate that names the department, its validity (the key's signing period), its
status (active | retired | revoked) and, when revoked, the date from which what it signed is
flagged. Existing issuers' keys are registered on their next use (issuers/keys.py adopts them with a
certificate from their creation time): a migration cannot reach the CA's key.
`issuer_trust_list`: the signed versions of GET /.well-known/yiwang/issuers (the exact bytes served
and their SM2 signature; the last ten kept)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class IssuerKey(pw.Model):
        kid = pw.CharField(max_length=16, primary_key=True)
        issuer_id = pw.CharField(max_length=32, index=True)
        key_id = pw.CharField(max_length=32, unique=True)
        certificate_serial = pw.CharField(max_length=42)
        certificate_pem = pw.TextField()
        not_before = pw.DateTimeField()
        not_after = pw.DateTimeField()
        status = pw.CharField(max_length=16, default="active")
        retired_at = pw.DateTimeField(null=True)
        revoked_since = pw.DateTimeField(null=True)
        revoked_at = pw.DateTimeField(null=True)
        revoked_reason = pw.CharField(max_length=32, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "issuer_key"

    @migrator.create_model
    class TrustListVersion(pw.Model):
        version = pw.BigIntegerField(primary_key=True)
        content_sha = pw.CharField(max_length=64)
        issued_at = pw.DateTimeField()
        next_update = pw.DateTimeField()
        body = pw.BlobField()
        kid = pw.CharField(max_length=16)
        signature = pw.BlobField()

        class Meta:
            table_name = "issuer_trust_list"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("issuer_trust_list")
    migrator.remove_model("issuer_key")
