"""The licence life cycle (issue 17): every status change, re-issue (补领), renewal (换领) and change
(变更) recorded with its actor and reason (`licence_history`), and each superseded signed version
kept as it was signed, found by its identifier (`licence_version`). Licences issued before this
migration have no history rows for their past; their next change starts it."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class LicenceHistory(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        licence = pw.ForeignKeyField(column_name="licence_id", field="id", model=migrator.orm["licence"], on_delete="CASCADE")
        version = pw.IntegerField()
        identifier = pw.CharField(max_length=128)
        kind = pw.CharField(max_length=16)
        from_status = pw.CharField(max_length=2, null=True)
        to_status = pw.CharField(max_length=2)
        reason = pw.CharField(max_length=256, null=True)
        actor_kind = pw.CharField(max_length=16)
        actor_id = pw.CharField(max_length=40, null=True)
        at = pw.DateTimeField()

        class Meta:
            table_name = "licence_history"
            indexes = ((("licence", "version"), True),)

    @migrator.create_model
    class LicenceVersion(pw.Model):
        id = pw.CharField(primary_key=True, max_length=32)
        licence = pw.ForeignKeyField(column_name="licence_id", field="id", model=migrator.orm["licence"], on_delete="CASCADE")
        version = pw.IntegerField()
        identifier = pw.CharField(max_length=128, unique=True)
        status = pw.CharField(max_length=2)
        holder_name_enc = pw.BlobField()
        holder_id_enc = pw.BlobField()
        data_enc = pw.BlobField()
        valid_from = pw.DateField()
        valid_until = pw.DateField(null=True)
        key_id = pw.CharField(max_length=32)
        signature = pw.BlobField()
        canonical_sha = pw.CharField(max_length=64)
        signed_at = pw.DateTimeField()
        superseded_at = pw.DateTimeField()

        class Meta:
            table_name = "licence_version"
            indexes = ((("licence", "version"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("licence_version")
    migrator.remove_model("licence_history")
