"""The 补正 (supplement) deadline a department gives with a supplement_required event (issue 14
item 23): kept on the event, its timeline entry and, while the case waits for it, on the case."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("cases_case", supplement_due=pw.DateField(null=True))
    migrator.add_fields("cases_event", supplement_due=pw.DateField(null=True))
    migrator.add_fields("cases_timeline", supplement_due=pw.DateField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("cases_timeline", "supplement_due")
    migrator.remove_fields("cases_event", "supplement_due")
    migrator.remove_fields("cases_case", "supplement_due")
