"""Service map appointments (预约): slot counters, appointments, booking bans, reminder outbox."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class SlotCounter(pw.Model):
        id = pw.CharField(max_length=64, primary_key=True)
        hall_id = pw.CharField(max_length=32)
        day = pw.DateField()
        starts_at = pw.DateTimeField()
        ends_at = pw.DateTimeField()
        capacity = pw.IntegerField()
        booked = pw.IntegerField(default=0)

        class Meta:
            table_name = "map_slot"
            indexes = [(("hall_id", "day"), False)]

    @migrator.create_model
    class Appointment(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32)
        hall_id = pw.CharField(max_length=32, index=True)
        slot_id = pw.CharField(max_length=64, index=True)
        day = pw.DateField()
        starts_at = pw.DateTimeField()
        ends_at = pw.DateTimeField()
        item_code = pw.CharField(max_length=64)
        status = pw.CharField(max_length=16, default="booked")
        active_key = pw.CharField(max_length=96, null=True, unique=True)
        check_in_code = pw.CharField(max_length=8, unique=True)
        reminder_due_at = pw.DateTimeField(null=True)
        reminded_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()
        cancelled_at = pw.DateTimeField(null=True)
        arrived_at = pw.DateTimeField(null=True)
        checked_in_by = pw.CharField(max_length=32, null=True)
        no_show_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "map_appointment"
            indexes = [(("user_id", "starts_at", "id"), False), (("status", "ends_at"), False),
                       (("status", "reminder_due_at"), False)]

    @migrator.create_model
    class BookingBan(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32)
        until = pw.DateTimeField()
        no_shows = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "map_booking_ban"
            indexes = [(("user_id", "until"), False)]

    @migrator.create_model
    class AppointmentNotice(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        appointment_id = pw.CharField(max_length=32)
        user_id = pw.CharField(max_length=32, index=True)
        kind = pw.CharField(max_length=16)
        payload = pw.TextField()
        created_at = pw.DateTimeField()
        sent_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "map_appointment_notice"
            indexes = [(("appointment_id", "kind"), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("map_appointment_notice")
    migrator.remove_model("map_booking_ban")
    migrator.remove_model("map_appointment")
    migrator.remove_model("map_slot")
