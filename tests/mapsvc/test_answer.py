"""The nearby endpoint's JSON text (mapsvc/answer.py, pieces rendered once per hall) is exactly what
json.dumps writes of the dicts service.nearby returns, in every language and coordinate system."""
from __future__ import annotations

import json
import random
from datetime import datetime

import pytest

from app.calendar import CHINA
from app.db import db
from mapsvc import index, service
from mapsvc.models import Hall
from tests.fixtures.halls import NEARBY, hall
from tests.helpers import rows


@pytest.fixture
def halls(app, load_halls):
    """Four halls with different hours, a closure with its own reason, a name with quotes and a
    backslash."""
    load_halls([
        hall("A-0", lng="117.2000", name='名字 "引号" \\ 反斜杠', items="GA001"),
        hall("A-1", lng="117.2010", type="self_service_24h", hours='{"mon-sun": ["00:00-24:00"]}',
             holiday_rule="open", accessibility=""),
        hall("A-2", lng="117.2020", type="police_station",
             closures='[{"from": "2026-11-23", "to": "2026-11-25", "reason": "系统升级"}]'),
        hall("A-3", lng="117.2030", type="tax_office", hours='{"sat-sun": ["09:00-12:00"]}'),
    ])
    return {h.code: h.id for h in rows(app, Hall)}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("when", ["2026-11-24T10:00", "2026-11-24T12:30", "2026-10-01T10:00", "2026-11-28T10:00"])
def test_the_json_text_is_json_dumps_of_the_dicts(app, halls, language, system, when):
    query = service.NearbyQuery(lat=31.8205, lng=117.1995, answer_coord=system)
    now = datetime.fromisoformat(when).replace(tzinfo=CHINA)
    at = int(now.timestamp())  # two live queue lengths: one fresh, one stale
    app.extensions["redis"].hset(index.QUEUE, mapping={halls["A-0"]: f"7|{at - 60}", halls["A-2"]: f"30|{at - 86400}"})
    for _ in range(2):  # the second time from the pieces kept on the cards
        with app.test_request_context(headers={"Accept-Language": language}), db.connection_context():
            text = service.nearby_json(query, ip="198.51.100.9", now=now)
            items = service.nearby(query, ip="198.51.100.9", now=now)
        assert text == json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()
        assert [i["code"] for i in items["items"]] == ["A-0", "A-1", "A-2", "A-3"]
    found = {i["code"]: i for i in items["items"]}
    assert found["A-0"]["queue"]["length"] == 7 and found["A-2"]["queue"]["stale"] is True
    assert found["A-1"]["queue"] is None and found["A-1"]["accessibility"] == []


def test_the_kept_pieces_follow_the_language_and_the_coordinates_asked(map_client, halls):
    at = {"lat": 31.8205, "lng": 117.1995}
    zh = map_client.get(NEARBY, query_string=at).get_json()["items"][0]
    en = map_client.get(NEARBY, query_string=at, headers={"Accept-Language": "en"}).get_json()["items"][0]
    bd = map_client.get(NEARBY, query_string={**at, "answer_coord": "bd09"}).get_json()["items"][0]
    assert zh["type_name"] == "政务服务中心" and en["type_name"] == "Government service centre"
    assert zh["location"]["coord"] == "gcj02" and bd["location"]["coord"] == "bd09"
    assert bd["location"]["lat"] != zh["location"]["lat"]


def test_a_reimported_hall_is_answered_with_its_new_fixed_fields(map_client, halls, load_halls):
    """The rendered text goes with the card when an import bumps the index version."""
    at = {"lat": 31.8205, "lng": 117.1995}
    assert map_client.get(NEARBY, query_string=at).get_json()["items"][0]["name"] == '名字 "引号" \\ 反斜杠'
    load_halls([hall("A-0", lng="117.2000", name="新名字", accessibility="assisted")])
    first = map_client.get(NEARBY, query_string=at).get_json()["items"][0]
    assert first["name"] == "新名字" and first["accessibility"] == ["assisted"]


@pytest.fixture
def map_client(make_app):
    return make_app(MAP_PER_IP_MINUTE=1_000_000).test_client()


def test_one_decimal_formatting_is_repr_of_round_for_every_distance_the_search_gives():
    """answer.items_json writes b"%.1f" % d where json.dumps would write repr(round(d, 1))."""
    rng = random.Random(20)
    values = [0.0, 0.05, 0.25, 0.35, 0.45, 2.675, 99.95, 1e-9, 49_999.95, 50_000.0]
    values += [rng.uniform(0, 50_000) for _ in range(20_000)] + [rng.randrange(0, 500_000) / 10 + 0.05 for _ in range(20_000)]
    assert [(b"%.1f" % d).decode() for d in values] == [repr(round(d, 1)) for d in values]
