"""Service map: halls, the items they handle, the holiday calendar."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Hall(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        code = pw.CharField(max_length=64, unique=True)
        name = pw.CharField(max_length=128)
        type = pw.CharField(max_length=32, index=True)
        region_code = pw.CharField(max_length=6, index=True)
        address = pw.CharField(max_length=256)
        lat = pw.DoubleField()
        lng = pw.DoubleField()
        phone = pw.CharField(max_length=32, null=True)
        hours = pw.TextField()
        holiday_rule = pw.CharField(max_length=8, default="closed")
        closures = pw.TextField(default="[]")
        accessibility = pw.TextField(default="[]")
        slot_minutes = pw.IntegerField(default=60)
        slot_capacity = pw.IntegerField(default=10)
        queue_length = pw.IntegerField(null=True)
        queue_updated_at = pw.DateTimeField(null=True)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "map_hall"

    @migrator.create_model
    class HallItem(pw.Model):
        hall = pw.ForeignKeyField(column_name="hall_id", field="id", model=migrator.orm["map_hall"],
                                  on_delete="CASCADE")
        item_code = pw.CharField(max_length=64, index=True)
        item_name = pw.CharField(max_length=128, null=True)

        class Meta:
            table_name = "map_hall_item"
            primary_key = pw.CompositeKey("hall", "item_code")

    @migrator.create_model
    class CalendarDay(pw.Model):
        day = pw.DateField(primary_key=True)
        kind = pw.CharField(max_length=8)
        name = pw.CharField(max_length=32)

        class Meta:
            table_name = "map_calendar_day"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("map_calendar_day")
    migrator.remove_model("map_hall_item")
    migrator.remove_model("map_hall")
