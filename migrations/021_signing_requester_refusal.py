"""Signing requests: who asked (the citizen's own app, or a machine client and its registered name
then), when a request was refused and the citizen's optional reason (encrypted: free text may hold
personal data); an index for the citizen's list of requests, newest first (issue 16). Existing
requests were all made with the citizen's own token: `citizen`."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # the default is the database's too: rows written by SQL naming none of these columns stay valid
    migrator.add_fields("signing_request",
                        requested_by_kind=pw.CharField(max_length=16, default="citizen",
                                                       constraints=[pw.SQL("DEFAULT 'citizen'")]),
                        requested_by_client=pw.CharField(max_length=40, null=True),
                        requested_by_name=pw.CharField(max_length=128, null=True),
                        refused_at=pw.DateTimeField(null=True),
                        refuse_reason_enc=pw.BlobField(null=True))
    migrator.add_index("signing_request", "user_id", "created_at", "id", unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("signing_request", "user_id", "created_at", "id")
    migrator.remove_fields("signing_request", "requested_by_kind", "requested_by_client", "requested_by_name",
                           "refused_at", "refuse_reason_enc")
