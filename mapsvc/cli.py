"""Admin commands of the service map: `flask --app wsgi halls …` and `flask --app wsgi calendar …`."""
from __future__ import annotations

import json
import click
from flask.cli import AppGroup

from app import calendar
from app.db import db
from mapsvc import coords

halls_cli = AppGroup("halls", help="Service halls (办事网点) and their Redis GEO index.")
calendar_cli = AppGroup("calendar", help="Public holidays and make-up working days (节假日与调休).")
COMMANDS = (halls_cli, calendar_cli)


@halls_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--coord", type=click.Choice(coords.SYSTEMS), default="gcj02", show_default=True,
              help="Coordinate system of the file's positions (stored as GCJ-02).")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), default=None,
              help="Default: by the file name (.geojson/.json → GeoJSON, else CSV).")
def halls_import(path: str, coord: str, fmt: str | None) -> None:
    """Import halls from a CSV or GeoJSON file (idempotent by hall code)."""
    from mapsvc import importer

    try:
        records = importer.read_file(path, fmt)
        with db.connection_context():
            report = importer.import_records(records, coord)
    except (ValueError, UnicodeDecodeError) as exc:  # not JSON, not a FeatureCollection, not UTF-8
        raise click.ClickException(f"无法读取文件：{exc}") from None
    for line in importer.error_lines(report):
        click.echo(line, err=True)
    click.echo(importer.summary(report))
    if report.index_error:
        raise click.ClickException("数据库已更新，但 Redis 索引写入失败；请运行 `flask --app wsgi halls reindex`。")


@halls_cli.command("reindex")
def halls_reindex() -> None:
    """Rebuild the Redis GEO index (and live queue lengths) from the database."""
    from mapsvc import importer

    with db.connection_context():
        count = importer.rebuild_index()
    click.echo(f"indexed {count} active hall(s)")


@halls_cli.command("generate")
@click.argument("count", type=click.IntRange(1, 5_000_000))
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--start", type=click.IntRange(0), default=0, help="First sequence number (codes GEN-0000000 …).")
def halls_generate(count: int, out: str, seed: int, start: int) -> None:
    """Write COUNT synthetic halls spread over Anhui as CSV (load tests)."""
    from mapsvc import demo

    with open(out, "w", encoding="utf-8", newline="") as fh:
        written = demo.write_csv(fh, demo.generate(count, seed=seed, start=start))
    click.echo(f"wrote {written} hall(s) to {out}")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice([calendar.HOLIDAY, calendar.WORKDAY]))
@click.argument("name")
def calendar_set(day, kind: str, name: str) -> None:
    """Mark DAY as a holiday or a make-up working day (e.g. from next year's State Council notice)."""
    if not name.strip() or len(name) > 32:
        raise click.ClickException("名称不能为空，且不超过32字。")
    with db.connection_context(), db.atomic():
        calendar.CalendarDay.insert(day=day.date(), kind=kind, name=name.strip()).on_conflict(
            conflict_target=[calendar.CalendarDay.day],
            update={calendar.CalendarDay.kind: kind, calendar.CalendarDay.name: name.strip()}).execute()
    calendar.forget()
    click.echo(f"{day.date().isoformat()} {kind} {name.strip()}")


@calendar_cli.command("unset")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_unset(day) -> None:
    """Remove an override (the built-in notice applies again)."""
    with db.connection_context():
        removed = calendar.CalendarDay.delete().where(calendar.CalendarDay.day == day.date()).execute()
    calendar.forget()
    click.echo(f"removed {removed} override(s)")


@calendar_cli.command("list")
@click.option("--year", type=int, default=None, help="Default: this year and the next.")
def calendar_list(year: int | None) -> None:
    """Holidays and make-up working days: the built-in notice and the database overrides."""
    this_year = calendar.china_now().year
    years = [year] if year else [this_year, this_year + 1]
    with db.connection_context():
        calendar.forget()
        rows = {d: (k, n, "override") for d, (k, n) in calendar.overrides().items()}
        known = calendar.known_years()
    merged = {d: (k, n, "built-in") for d, (k, n) in calendar.BUILTIN.items()}
    merged.update(rows)
    for day in sorted(d for d in merged if d.year in years):
        kind, name, source = merged[day]
        click.echo(json.dumps({"date": day.isoformat(), "kind": kind, "name": name, "source": source},
                              ensure_ascii=False))
    missing = [y for y in years if y not in known]
    if missing:
        click.echo(f"no notice for {', '.join(map(str, missing))}: only 元旦, 劳动节 1–2 May and 国庆节 1–3 Oct "
                   "are assumed; add the State Council notice with `calendar set`", err=True)
