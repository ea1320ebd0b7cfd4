"""Assurance levels with freshness (issue 19, WP1): `identity_assurance_event` records each time an
account proved a level (SMS login L1, registry L2, face L3, 网证 R01–R04, counter check L4), so
"L3 within 600 s" is read on the server; `user.real_name_source` says how the person was
established ("registry" | "ncid" | null) — verified no longer means "holds an ID number in clear".
Accounts verified before this migration matched the registry: backfilled "registry". The counter's
one-time identity codes live in Redis (300 s), no table."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class AssuranceEvent(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32)
        level = pw.SmallIntegerField()
        method = pw.CharField(max_length=16)
        at = pw.DateTimeField()
        ref_hash = pw.CharField(max_length=64, null=True)

        class Meta:
            table_name = "identity_assurance_event"
            indexes = ((("user_id", "at"), False),)

    migrator.add_fields("user", real_name_source=pw.CharField(max_length=16, null=True))
    migrator.sql('UPDATE "user" SET real_name_source = \'registry\' WHERE id_number_enc IS NOT NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("user", "real_name_source")
    migrator.remove_model("identity_assurance_event")
