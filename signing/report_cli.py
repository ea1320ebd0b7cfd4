"""`flask signing prune-reports`: remove the verification reports past VERIFY_REPORT_RETENTION_DAYS (issue 18)."""
from __future__ import annotations

import click

from signing import report
from signing.cli import signing_cli


@signing_cli.command("prune-reports")
def prune_reports_command() -> None:
    """Remove the kept verification reports older than VERIFY_REPORT_RETENTION_DAYS. Run daily."""
    click.echo(f"removed {report.prune()} verification report(s)")
