"""`flask consent …`: retry the direct_post deliveries that have not reached their verifiers."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from consent import service

consent_cli = AppGroup("consent", help="Consent-based online verification (用证授权).")


@consent_cli.command("deliver")
def deliver() -> None:
    """POST every undelivered answer to its verifier's response_uri once (run every minute from cron)."""
    done, left = service.deliver_due()
    click.echo(f"delivered {done}, not delivered {left}")
