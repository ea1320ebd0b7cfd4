"""Signed verification reports (issue 18): what `POST /api/v1/verify/signatures` answered, kept so the
relying party that asked can fetch it again (`GET /api/v1/verify/reports/{id}`, JSON or PDF).

`verify_report`: the report's canonical JSON (UTF-8, sorted keys, no spaces: the exact bytes the
platform signed) and the attached CMS SignedData (GM/T 0010, SM2/SM3) the platform's "report" key
made over it; the machine client that asked (only it may fetch the report); when it was made (rows
older than VERIFY_REPORT_RETENTION_DAYS are removed by `flask signing prune-reports`)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class VerifyReport(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        client_id = pw.CharField(max_length=40, index=True)
        created_at = pw.DateTimeField(index=True)
        report = pw.TextField()
        cms_der = pw.BlobField()

        class Meta:
            table_name = "verify_report"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("verify_report")
