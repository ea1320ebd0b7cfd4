"""Wallet tables: issuers (发证机关) and licences (电子证照)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class Issuer(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        client_id = pw.CharField(max_length=40, unique=True)
        code = pw.CharField(max_length=18, unique=True)
        name = pw.CharField(max_length=128)
        key_id = pw.CharField(max_length=32)
        next_serial = pw.BigIntegerField(default=1)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "wallet_issuer"

    @migrator.create_model
    class Licence(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        identifier = pw.CharField(max_length=128, unique=True)
        type_code = pw.CharField(max_length=64)
        issuer = pw.ForeignKeyField(column_name='issuer_id', field='id', model=migrator.orm['wallet_issuer'],
                                    on_delete='RESTRICT')
        reference = pw.CharField(max_length=128)
        request_digest = pw.CharField(max_length=64)
        holder_bidx = pw.CharField(index=True, max_length=64)
        holder_name_enc = pw.BlobField()
        holder_id_enc = pw.BlobField()
        user_id = pw.CharField(index=True, max_length=32, null=True)
        data_enc = pw.BlobField()
        valid_from = pw.DateField()
        valid_until = pw.DateField(null=True)
        status = pw.CharField(max_length=2, default='01')
        status_reason = pw.CharField(max_length=256, null=True)
        version = pw.IntegerField(default=1)
        signature = pw.BlobField()
        key_id = pw.CharField(max_length=32)
        canonical_sha = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "licence"
            indexes = [(('issuer', 'reference'), True), (('user_id', 'created_at', 'id'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('licence')

    migrator.remove_model('wallet_issuer')
