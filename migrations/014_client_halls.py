"""Machine clients bound to halls: a hall's queue system (`halls:write`) may report only the
queue lengths of the halls it is bound to."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ApiClientHall(pw.Model):
        client_id = pw.CharField(max_length=40)
        hall_code = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "api_client_hall"
            primary_key = pw.CompositeKey("client_id", "hall_code")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("api_client_hall")
