"""Push devices remember the login session that registered them, so ending that session (logout,
refresh-token reuse, account merged) drops them: a stolen token's device does not outlive it."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("notify_device", session_id=pw.CharField(max_length=32, null=True, index=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("notify_device", "session_id")
