"""Case commands: `flask --app wsgi cases <command>`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from cases.tasks import send_evaluation_reminders, send_sla_reminders

cases_cli = AppGroup("cases", help="Cases (办件): 好差评 reminders, SLA notices.")
COMMANDS = (cases_cli,)


@cases_cli.command("remind")
def remind() -> None:
    """Queue the 好差评 reminders now due (3 days after the invitation, cases still unrated). Run hourly."""
    click.echo(f"queued {send_evaluation_reminders()} evaluation reminder(s)")


@cases_cli.command("remind-sla")
def remind_sla() -> None:
    """Queue the notices of cases whose SLA (承诺时限) runs out within 1 working day, once per case
    and due date. Run daily."""
    click.echo(f"queued {send_sla_reminders()} SLA notice(s)")
