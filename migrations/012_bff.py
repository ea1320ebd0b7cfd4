"""Mobile BFF: the citizen's display preferences (大字版)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class DisplayPreference(pw.Model):
        user_id = pw.CharField(max_length=32, primary_key=True)
        elderly_mode = pw.BooleanField(default=False)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "bff_display_preference"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("bff_display_preference")
