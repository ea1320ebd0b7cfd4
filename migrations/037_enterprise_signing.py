"""Signing for an enterprise (issue 19): an agent (经办人) or the legal representative signs an
enterprise's request with their own certificate; `signing_signature.acting_for` is the enterprise
("en_…") the signature was made for, null for a citizen's own signature. The request's owner
(`signing_request.user_id`) is then the enterprise, the signature's `user_id` the person who signed."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("signing_signature", acting_for=pw.CharField(max_length=32, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("signing_signature", "acting_for")
