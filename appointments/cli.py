"""Appointment commands: `flask --app wsgi appointments …` (registered by appointments.init_app)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from appointments.tasks import mark_no_shows, send_hour_reminders, send_reminders

appointments_cli = AppGroup("appointments", help="Service-hall appointments (预约): no-shows, reminders.")
COMMANDS = (appointments_cli,)


@appointments_cli.command("mark-no-shows")
def appointments_mark_no_shows() -> None:
    """Mark appointments whose slot ended without a check-in as no-shows; ban repeat no-shows."""
    marked, banned = mark_no_shows()
    click.echo(f"marked {marked} no-show(s); {banned} new booking ban(s)")


@appointments_cli.command("send-reminders")
def appointments_send_reminders() -> None:
    """Queue the reminders that are due, the day before and one hour before (the notification outbox
    delivers them); each once. Run every 10 minutes. The last line counts the day-before ones."""
    click.echo(f"queued {send_hour_reminders()} one-hour reminder(s)")
    click.echo(f"queued {send_reminders()} reminder(s)")

