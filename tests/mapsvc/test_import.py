"""`halls import` (CSV, GeoJSON), idempotent re-import, the Redis index kept in step, `halls reindex`."""
from __future__ import annotations

import csv
import io
import json

import redis as redis_lib

from app.db import db
from mapsvc import coords, index
from mapsvc.demo import COLUMNS
from mapsvc.models import Hall, HallItem
from tests.fixtures.halls import hall
from tests.helpers import rows


def write_csv(path, records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS + ("active",), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow(record)
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def geojson(path, records: list[dict]) -> str:
    features = []
    for r in records:
        props = {k: v for k, v in r.items() if k not in ("lat", "lng")}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(r["lng"]), float(r["lat"])]},
                         "properties": props})
    # one feature per line after two header lines: feature k starts on line k + 3
    text = '{"type": "FeatureCollection",\n"features": [\n' + ",\n".join(
        json.dumps(f, ensure_ascii=False) for f in features) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    return str(path)


def geo_members(app, key: str) -> set[str]:
    return set(app.extensions["redis"].zrange(key, 0, -1))


def by_code(app) -> dict[str, Hall]:
    return {h.code: h for h in rows(app, Hall)}


def test_csv_import_stores_good_rows_and_reports_bad_ones_by_line(app, runner, tmp_path):
    records = [
        hall("H-1"),
        hall("H-2", lat="91", type="银行"),  # line 3: two reasons
        hall("H-3", region_code="349900"),  # line 4
        hall("H-4", hours='{"mon": ["12:00-09:00"]}'),  # line 5
        hall("H-5", type="24小时自助服务区", hours='{"mon-sun": ["00:00-24:00"]}', holiday_rule="open"),
        hall("H-1"),  # line 7: duplicate code
    ]
    result = runner.invoke(args=["halls", "import", write_csv(tmp_path / "halls.csv", records)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "records": 6, "created": 2, "updated": 0, "rejected": 4, "index": "in step"}
    errors = result.stderr
    assert "第 3 行（H-2）" in errors and "经纬度超出范围" in errors and "未知的网点类型“银行”" in errors
    assert "第 4 行（H-3）：安徽省内无此地级行政区划代码" in errors
    assert "第 5 行（H-4）：办公时间有误" in errors
    assert "第 7 行（H-1）：网点编码与第 2 行重复" in errors
    stored = by_code(app)
    assert set(stored) == {"H-1", "H-5"}
    assert stored["H-5"].type == "self_service_24h" and stored["H-5"].holiday_rule == "open"
    assert {i.item_code for i in rows(app, HallItem, HallItem.hall == stored["H-1"].id)} == {"GA001", "RS001"}
    assert geo_members(app, index.KEY_ALL) == {stored["H-1"].id, stored["H-5"].id}
    assert geo_members(app, index.item_key("GA001")) == {stored["H-1"].id, stored["H-5"].id}
    assert geo_members(app, index.type_key("gov_center")) == {stored["H-1"].id}


def test_multiline_csv_records_keep_their_starting_line(app, runner, tmp_path):
    path = tmp_path / "multi.csv"
    good = hall("M-1", address="合肥市\n蜀山区")  # a quoted field spanning two lines
    write_csv(path, [good, hall("M-2", lat="x")])
    result = runner.invoke(args=["halls", "import", str(path)])
    assert "第 4 行（M-2）：经纬度（lat、lng）应为数字" in result.stderr


def test_geojson_import_with_line_numbers_and_wgs84_positions(app, runner, tmp_path):
    records = [hall("G-1", lat="31.8", lng="117.2"), hall("G-2", region_code="12345"), hall("G-3", lat="31.7", lng="117.3")]
    path = geojson(tmp_path / "halls.geojson", records)
    result = runner.invoke(args=["halls", "import", path, "--coord", "wgs84"])
    assert result.exit_code == 0, result.output
    assert "第 4 行（G-2）：行政区划代码应为6位数字" in result.stderr
    stored = by_code(app)
    assert set(stored) == {"G-1", "G-3"}
    expected = coords.wgs84_to_gcj02(31.8, 117.2)
    assert coords.haversine_m(stored["G-1"].lat, stored["G-1"].lng, *expected) < 0.01
    position = app.extensions["redis"].geopos(index.KEY_ALL, stored["G-1"].id)[0]
    assert coords.haversine_m(position[1], position[0], *expected) < 1.0


def test_not_a_feature_collection_is_refused(runner, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    result = runner.invoke(args=["halls", "import", str(path)])
    assert result.exit_code != 0 and "FeatureCollection" in result.output


def test_reimport_is_idempotent_and_moves_halls_between_index_sets(app, runner, tmp_path):
    path = tmp_path / "halls.csv"
    write_csv(path, [hall("R-1"), hall("R-2")])
    runner.invoke(args=["halls", "import", str(path)])
    first = {c: h.id for c, h in by_code(app).items()}
    result = runner.invoke(args=["halls", "import", str(path)])
    assert json.loads(result.stdout.strip().splitlines()[-1])["updated"] == 2
    assert {c: h.id for c, h in by_code(app).items()} == first  # same halls, same ids
    assert len(rows(app, HallItem)) == 4

    write_csv(path, [hall("R-1", type="police_station", items="GA002:户口迁移", name="改名了"),
                     hall("R-2", active="0")])
    runner.invoke(args=["halls", "import", str(path)])
    stored = by_code(app)
    assert stored["R-1"].name == "改名了" and stored["R-1"].id == first["R-1"] and not stored["R-2"].active
    assert geo_members(app, index.type_key("gov_center")) == set()
    assert geo_members(app, index.type_key("police_station")) == {first["R-1"]}
    assert geo_members(app, index.item_key("GA001")) == set()
    assert geo_members(app, index.item_key("GA002")) == {first["R-1"]}
    assert geo_members(app, index.KEY_ALL) == {first["R-1"]}


def test_a_failed_index_write_leaves_the_database_ahead_and_reindex_catches_up(app, runner, tmp_path, monkeypatch):
    def redis_down(*args, **kwargs):
        raise redis_lib.ConnectionError("down")

    monkeypatch.setattr(index, "apply", redis_down)
    path = write_csv(tmp_path / "halls.csv", [hall("F-1"), hall("F-2")])
    result = runner.invoke(args=["halls", "import", path])
    assert result.exit_code != 0 and "halls reindex" in result.output
    assert set(by_code(app)) == {"F-1", "F-2"}  # the database has them
    assert geo_members(app, index.KEY_ALL) == set()  # the index claims nothing it lacks
    monkeypatch.undo()
    result = runner.invoke(args=["halls", "reindex"])
    assert "indexed 2" in result.output
    assert geo_members(app, index.KEY_ALL) == {h.id for h in by_code(app).values()}


def test_reindex_recreates_sets_drops_stale_ones_and_restores_queues(app, runner, tmp_path, load_halls):
    load_halls([hall("X-1"), hall("X-2", type="tax_office", items="SW001")])
    redis = app.extensions["redis"]
    ids = {c: h.id for c, h in by_code(app).items()}
    redis.execute_command("GEOADD", index.item_key("STALE"), 117.2, 31.8, "hall_ghost")
    redis.sadd(index.KEYS, index.item_key("STALE"))
    redis.zrem(index.KEY_ALL, ids["X-1"])
    with app.app_context():
        with db.connection_context():
            Hall.update(queue_length=7, queue_updated_at=Hall.created_at).where(Hall.code == "X-2").execute()
    runner.invoke(args=["halls", "reindex"])
    assert geo_members(app, index.KEY_ALL) == set(ids.values())
    assert not redis.exists(index.item_key("STALE"))
    assert geo_members(app, index.item_key("SW001")) == {ids["X-2"]}
    assert redis.hget(index.QUEUE, ids["X-2"]).startswith("7|")


def test_demo_seed_loads_a_few_hundred_hefei_halls_once(app, runner):
    out = runner.invoke(args=["demo", "seed"]).output
    assert "in and around Hefei" in out
    halls = rows(app, Hall)
    assert 200 <= len(halls) <= 800
    assert all(h.region_code.startswith("3401") for h in halls)
    assert {h.type for h in halls} >= {"gov_center", "community_center", "self_service_24h", "bank_partner"}
    assert any(h.code == "340100-ZWFW-01" for h in halls)  # the demo clerk's hall
    runner.invoke(args=["demo", "seed"])
    assert len(rows(app, Hall)) == len(halls)
    assert len(geo_members(app, index.KEY_ALL)) == len(halls)


def test_generator_is_deterministic_and_importable(runner, tmp_path, app):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    runner.invoke(args=["halls", "generate", "300", "--out", str(a)])
    runner.invoke(args=["halls", "generate", "100", "--out", str(b), "--start", "200"])
    assert a.read_text().splitlines()[201:] == b.read_text().splitlines()[1:]
    result = runner.invoke(args=["halls", "import", str(a)])
    assert json.loads(result.stdout.strip().splitlines()[-1])["created"] == 300, result.stderr
