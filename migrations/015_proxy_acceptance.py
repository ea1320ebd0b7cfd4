"""Proxy grants take effect when the relative accepts (issue 14 item 2): the session that created
a grant (so revoking that session can revoke it), and when the relative accepted or declined.
Grants made before this migration were in effect already and stay active."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # the index comes with the field: add_index after add_fields fails on a fresh SQLite schema
    migrator.add_fields("proxy_grant", session_id=pw.CharField(max_length=32, null=True, index=True),
                        accepted_at=pw.DateTimeField(null=True), declined_at=pw.DateTimeField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("proxy_grant", "session_id", "accepted_at", "declined_at")
