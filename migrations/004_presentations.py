"""Wallet presentations (亮证) and their counter checks."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class Presentation(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        nonce = pw.CharField(max_length=32, unique=True)
        licence = pw.ForeignKeyField(column_name='licence_id', field='id', model=migrator.orm['licence'],
                                     on_delete='CASCADE')
        user_id = pw.CharField(index=True, max_length=32)
        fields = pw.TextField()
        explicit = pw.BooleanField(default=False)
        purpose = pw.CharField(max_length=40, null=True)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        status = pw.CharField(max_length=8, default='live')
        live_slot = pw.CharField(max_length=32, null=True, unique=True)
        used_at = pw.DateTimeField(null=True)
        verified_by = pw.CharField(max_length=32, null=True)
        hall_code = pw.CharField(max_length=32, null=True)

        class Meta:
            table_name = "wallet_presentation"

    @migrator.create_model
    class PresentationCheck(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        presentation = pw.ForeignKeyField(column_name='presentation_id', field='id',
                                          model=migrator.orm['wallet_presentation'], on_delete='CASCADE')
        user_id = pw.CharField(index=True, max_length=32)
        clerk_id = pw.CharField(max_length=32)
        hall_code = pw.CharField(max_length=32, null=True)
        checked_at = pw.DateTimeField()
        result = pw.CharField(max_length=32)
        type_code = pw.CharField(max_length=64, null=True)
        holder_name_masked = pw.CharField(max_length=64, null=True)

        class Meta:
            table_name = "wallet_presentation_check"
            indexes = [(('clerk_id', 'checked_at'), False), (('user_id', 'checked_at', 'id'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('wallet_presentation_check')

    migrator.remove_model('wallet_presentation')
