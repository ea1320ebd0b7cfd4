"""Admin commands of the service map: `flask --app wsgi halls …` (the holiday calendar's `calendar …`
is the kernel's, app/calendar_cli.py)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.db import db
from mapsvc import coords, demo, importer

halls_cli = AppGroup("halls", help="Service halls (办事网点) and their Redis GEO index.")
COMMANDS = (halls_cli,)


@halls_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--coord", type=click.Choice(coords.SYSTEMS), default="gcj02", show_default=True,
              help="Coordinate system of the file's positions (stored as GCJ-02).")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), default=None,
              help="Default: by the file name (.geojson/.json → GeoJSON, else CSV).")
def halls_import(path: str, coord: str, fmt: str | None) -> None:
    """Import halls from a CSV or GeoJSON file (idempotent by hall code)."""
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
    with open(out, "w", encoding="utf-8", newline="") as fh:
        written = demo.write_csv(fh, demo.generate(count, seed=seed, start=start))
    click.echo(f"wrote {written} hall(s) to {out}")
