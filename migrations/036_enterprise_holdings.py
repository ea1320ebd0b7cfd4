"""Enterprise holdings (issue 19, WP7): licences and cases held by an enterprise, and who showed a
licence at a counter.

`licence.holder_kind`: "person" (the holder is found by blind_index("id", ID number), as before) or
"enterprise" (blind_index("uscc", USCC): another label, so an ID number and a USCC never collide);
the owner (`user_id`) of an enterprise's licence is the enterprise id ("en_…").
`wallet_presentation.shown_by`: the user who made the presentation under a delegated token (an
enterprise's legal representative or agent, a proxy); null when the holder showed it themselves.
`cases_case.applicant_kind`: "person" or "enterprise", as for licences."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("licence", holder_kind=pw.CharField(max_length=10, default="person"))
    migrator.add_fields("wallet_presentation", shown_by=pw.CharField(max_length=32, null=True))
    migrator.add_fields("cases_case", applicant_kind=pw.CharField(max_length=10, default="person"))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("cases_case", "applicant_kind")
    migrator.remove_fields("wallet_presentation", "shown_by")
    migrator.remove_fields("licence", "holder_kind")
