"""Mobile BFF: the interface language the citizen chose (zh-CN | en) beside elderly mode, so that it
follows the account to another device and survives signing out (issue 16). Null: never chosen."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("bff_display_preference", language=pw.CharField(max_length=8, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("bff_display_preference", "language")
