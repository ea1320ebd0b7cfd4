"""The 用证事项 (matter) a clerk chose for a counter check, and the field keys the counter saw
(issue 16, the counter): the holder's usage record names both (field names, never values)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("wallet_presentation_check", matter=pw.CharField(max_length=32, null=True),
                        disclosed=pw.TextField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("wallet_presentation_check", "matter", "disclosed")
