"""The holiday calendar's commands: `flask --app wsgi calendar …` (registered by app.cli.register)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app import calendar
from app.db import db

calendar_cli = AppGroup("calendar", help="Public holidays and make-up working days (节假日与调休).")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice([calendar.HOLIDAY, calendar.WORKDAY]))
@click.argument("name")
def calendar_set(day, kind: str, name: str) -> None:
    """Mark DAY as a holiday or a make-up working day (wins over the override file and the package)."""
    if not name.strip() or len(name) > 32:
        raise click.ClickException("名称不能为空，且不超过32字。")
    with db.connection_context():
        calendar.set_day(day.date(), kind, name.strip())
    click.echo(f"{day.date().isoformat()} {kind} {name.strip()}")


@calendar_cli.command("unset")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_unset(day) -> None:
    """Remove an override (the override file or the package applies again)."""
    with db.connection_context():
        removed = calendar.unset_day(day.date())
    click.echo(f"removed {removed} override(s)")


@calendar_cli.command("list")
@click.option("--year", type=int, default=None, help="Default: this year and the next.")
def calendar_list(year: int | None) -> None:
    """Holidays and make-up working days as answered: the package, the override file, the database rows."""
    this_year = calendar.china_now().year
    years = [year] if year else [this_year, this_year + 1]
    with db.connection_context():
        calendar.forget()
        merged = {d: v for y in years for d, v in calendar.published(y).items()}
        missing = [y for y in years if calendar.official_source(y) is None]
    for day in sorted(merged):
        kind, name, source = merged[day]
        click.echo(json.dumps({"date": day.isoformat(), "kind": kind, "name": name, "source": source},
                              ensure_ascii=False))
    if missing:
        click.echo(f"no notice for {', '.join(map(str, missing))}: only 元旦, 劳动节 1–2 May and 国庆节 1–3 Oct "
                   f"are assumed; upgrade chinesecalendar, add it to {calendar.OVERRIDES_FILE.name} or use "
                   "`calendar set`", err=True)


@calendar_cli.command("check")
def calendar_check() -> None:
    """Does this year and the next have official data? (`flask doctor`'s check; `make run` prints it.)"""
    with db.connection_context():
        found = calendar.check_years()
    if found.status == "ok":
        click.echo(f"calendar: {found.message}")
        return
    lines = [f"WARNING calendar: {found.message}", *(f"  - {detail}" for detail in found.details)]
    click.echo("\n".join(lines), err=True)
