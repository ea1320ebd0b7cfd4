"""Signing commands: `flask --app wsgi signing <command>`."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import click
from flask.cli import AppGroup

from app.clock import CHINA_TZ, china_today, to_china
from app.db import unit_of_work
from signing import models, notices

signing_cli = AppGroup("signing", help="Cloud signing (电子云签): certificate expiry reminders.")
COMMANDS = (signing_cli,)


def remind_expiring() -> int:
    """Queue the certificate-expiry notices now due: an active certificate whose not_after (China
    date) is within 30 days gets the 30-day notice, within 7 days the 7-day one; each once (dedupe
    key: serial and threshold), so a daily run — or a missed day made up later — never repeats one.
    The number queued."""
    day = china_today()
    start = datetime.combine(day, time(), tzinfo=CHINA_TZ)
    end = datetime.combine(day + timedelta(days=max(notices.THRESHOLDS) + 1), time(), tzinfo=CHINA_TZ)
    queued = 0
    for credential, not_after in models.certificates_ending(start, end):
        until = to_china(not_after).date()
        days_left = (until - day).days
        threshold = min(t for t in notices.THRESHOLDS if days_left <= t)
        with unit_of_work():
            queued += notices.certificate_expiring(user_id=credential.user_id, serial=credential.cert_serial,
                                                   until=until, threshold=threshold, days_left=days_left)
    return queued


@signing_cli.command("remind-expiring")
def remind_expiring_command() -> None:
    """Queue the signing-certificate expiry notices (30 and 7 days before not_after). Run daily."""
    click.echo(f"queued {remind_expiring()} certificate expiry notice(s)")
