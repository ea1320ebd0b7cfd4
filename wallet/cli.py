"""Wallet commands: `flask --app wsgi wallet <command>`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from app.db import unit_of_work
from wallet import models, notices
from wallet.presentation import today

wallet_cli = AppGroup("wallet", help="E-licence wallet (电子证照): expiry reminders.")
COMMANDS = (wallet_cli,)


def remind_expiring() -> int:
    """Queue the about-to-expire notices now due: a licence ending within 30 days (China dates) gets
    the 30-day notice, within 7 days the 7-day one; each once (dedupe key: licence, end date,
    threshold), so a daily run — or a missed day made up later — never repeats one. The number queued."""
    day = today()
    queued = 0
    for licence in models.licences_expiring(day, day + timedelta(days=max(notices.THRESHOLDS))):
        days_left = (licence.valid_until - day).days
        threshold = min(t for t in notices.THRESHOLDS if days_left <= t)
        with unit_of_work():
            queued += notices.expiring(licence, threshold=threshold, days_left=days_left)
    return queued


@wallet_cli.command("remind-expiring")
def remind_expiring_command() -> None:
    """Queue the licence expiry notices (30 and 7 days before valid_until). Run daily."""
    click.echo(f"queued {remind_expiring()} licence expiry notice(s)")
