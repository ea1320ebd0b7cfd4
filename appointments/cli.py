"""Appointment commands: `flask --app wsgi appointments …` (registered by appointments.init_app)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from appointments.tasks import mark_no_shows, send_reminders

appointments_cli = AppGroup("appointments", help="Service-hall appointments (预约): no-shows, reminders.")
COMMANDS = (appointments_cli,)


@appointments_cli.command("mark-no-shows")
def appointments_mark_no_shows() -> None:
    """Mark appointments whose slot ended without a check-in as no-shows; ban repeat no-shows."""
    marked, banned = mark_no_shows()
    click.echo(f"marked {marked} no-show(s); {banned} new booking ban(s)")


@appointments_cli.command("send-reminders")
def appointments_send_reminders() -> None:
    """Queue the day-before reminders that are due (the notification outbox delivers them)."""
    click.echo(f"queued {send_reminders()} reminder(s)")

