"""The issuer registry (issue 17): issuing departments with their USCC, region, the licence types
they may issue, status, and the machine clients they act through.

The wallet's per-client issuers (`wallet_issuer`, created on a client's first issue with a code
derived from a hash of the client id) are carried over: each becomes a department with the same id
and name, its client bound to it, the types it has issued as its list, its old code kept as
`legacy_code`, no USCC and no region (nobody knows them yet) and status `suspended`: it issues again
once an operator records its real USCC and region (`flask issuers update … --uscc … --region …`) and
resumes it. Its licences keep their identifiers and verify as before. `wallet_issuer.client_id` is
no longer read (clients are bound in `issuer_client`); it is set to the department id, which keeps
it unique and not null (SQLite cannot drop a NOT NULL on a table others reference without
rebuilding it)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Issuer(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        uscc = pw.CharField(max_length=18, unique=True, null=True)
        legacy_code = pw.CharField(max_length=18, null=True)
        name = pw.CharField(max_length=128)
        region = pw.CharField(max_length=6, null=True)
        types = pw.TextField(default="")
        status = pw.CharField(max_length=16, default="active")
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "issuer"

    @migrator.create_model
    class IssuerClient(pw.Model):
        client_id = pw.CharField(max_length=40, primary_key=True)
        issuer = pw.ForeignKeyField(column_name="issuer_id", field="id", model=migrator.orm["issuer"],
                                    on_delete="CASCADE", index=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "issuer_client"

    migrator.sql(
        "INSERT INTO issuer (id, uscc, legacy_code, name, region, types, status, created_at, updated_at) "
        "SELECT w.id, NULL, w.code, w.name, NULL, "
        "COALESCE((SELECT " + _string_agg(database) + " FROM (SELECT DISTINCT l.type_code AS type_code "
        "FROM licence l WHERE l.issuer_id = w.id ORDER BY l.type_code) t), ''), 'suspended', w.created_at, w.created_at "
        "FROM wallet_issuer w")
    migrator.sql("INSERT INTO issuer_client (client_id, issuer_id, created_at) "
                 "SELECT w.client_id, w.id, w.created_at FROM wallet_issuer w")
    migrator.sql("UPDATE wallet_issuer SET client_id = id")


def _string_agg(database: pw.Database) -> str:
    """The sorted, comma-separated type codes (PostgreSQL: string_agg; SQLite: group_concat, whose
    order follows the ordered subquery's)."""
    if isinstance(getattr(database, "obj", database), pw.PostgresqlDatabase):  # the app's db is a DatabaseProxy
        return "string_agg(t.type_code, ',' ORDER BY t.type_code)"
    return "group_concat(t.type_code, ',')"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("UPDATE wallet_issuer SET client_id = COALESCE((SELECT c.client_id FROM issuer_client c "
                 "WHERE c.issuer_id = wallet_issuer.id ORDER BY c.created_at LIMIT 1), client_id)")
    migrator.remove_model("issuer_client")
    migrator.remove_model("issuer")
