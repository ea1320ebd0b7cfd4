"""GET /map/halls/nearby: equal to a brute-force ranking, filters, coordinate systems, problems."""
from __future__ import annotations

import json
import math
import random
from datetime import datetime

import pytest

from app.calendar import CHINA
from app.db import db
from mapsvc import coords, service
from mapsvc.models import Hall
from tests.fixtures.halls import NEARBY, hall
from tests.helpers import assert_problem

R_REDIS = 6372797.560856  # the sphere of Redis GEO (geohash_helper.c), on which distances are defined


def great_circle(lat1, lng1, lat2, lng2) -> float:
    """An independent haversine (written out here, not coords.haversine_m)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * R_REDIS * math.atan2(math.sqrt(a), math.sqrt(1 - a))


@pytest.fixture
def map_client(make_app):
    return make_app(MAP_PER_IP_MINUTE=1_000_000).test_client()


def test_nearby_equals_brute_force_haversine_on_10000_random_halls(map_client, load_halls):
    """Same ids in the same order within the radius, distances within 0.5 %.

    Tolerance for ties: Redis keeps positions as 52-bit geohashes (≤ ~0.6 m off), so it can decide
    differently from the exact distance for a hall within 1 m of the radius, and the service re-ranks
    by the exact distance only what Redis returned (limit + 5). Where the two lists differ, the halls
    involved must be within 1 m of each other's distance (a near-tie) or of the radius."""
    rng = random.Random(20261123)
    halls = [hall(f"B-{i:05d}", lat=f"{rng.uniform(31.5, 32.1):.6f}", lng=f"{rng.uniform(116.9, 117.6):.6f}")
             for i in range(10_000)]
    assert load_halls(halls).created == 10_000
    positions = {}
    for record in halls:
        positions[record["code"]] = (float(record["lat"]), float(record["lng"]))
    compared = 0
    for _ in range(60):
        lat, lng = rng.uniform(31.45, 32.15), rng.uniform(116.85, 117.65)
        radius, limit = rng.choice([500, 2000, 5000, 20000, 50000]), rng.choice([1, 5, 20, 50])
        answer = map_client.get(NEARBY, query_string={"lat": lat, "lng": lng, "radius_m": radius, "limit": limit})
        assert answer.status_code == 200, answer.get_json()
        got = [(i["code"], i["distance_m"]) for i in answer.get_json()["items"]]
        ranked = sorted((great_circle(lat, lng, *p), code) for code, p in positions.items())
        expected = [(code, d) for d, code in ranked if d <= radius][:limit]
        near_edge = sum(1 for d, _ in ranked if abs(d - radius) < 1.0)
        assert abs(len(got) - len(expected)) <= near_edge
        exact = dict((code, d) for d, code in ranked)
        for (got_code, got_d), (exp_code, exp_d) in zip(got, expected):
            assert abs(got_d - exact[got_code]) <= max(0.005 * exact[got_code], 0.1)
            if got_code != exp_code:
                assert abs(exact[got_code] - exp_d) < 1.0, (got_code, exp_code)
        compared += len(got)
    assert compared > 500


@pytest.fixture
def town(load_halls):
    """Five halls on a line going east from (31.80, 117.20), ~95 m apart."""
    load_halls([
        hall("T-0", lng="117.2000", items="GA001:居民身份证换领"),
        hall("T-1", lng="117.2010", type="police_station", items="GA001;GA002"),
        hall("T-2", lng="117.2020", type="self_service_24h", hours='{"mon-sun": ["00:00-24:00"]}',
             holiday_rule="open", items="RS001"),
        hall("T-3", lng="117.2030", hours='{"mon": []}', items="GA001"),  # never open
        hall("T-4", lng="117.2040", type="bank_partner", items="GJJ001"),
    ])


def codes(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["code"] for item in response.get_json()["items"]]


def test_answer_shape_and_order(map_client, town):
    answer = map_client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.1995})
    items = answer.get_json()["items"]
    assert [i["code"] for i in items] == ["T-0", "T-1", "T-2", "T-3", "T-4"]
    first = items[0]
    assert set(first) >= {"id", "code", "name", "type", "type_name", "address", "region_code", "location", "distance_m",
                          "open_now", "today", "queue", "accessibility"}
    assert first["location"] == {"lat": 31.8205, "lng": 117.2, "coord": "gcj02"}
    assert first["type_name"] == "政务服务中心" and first["accessibility"] == ["barrier_free", "assisted"]
    assert first["distance_m"] == pytest.approx(coords.haversine_m(31.8205, 117.1995, 31.8205, 117.2), abs=0.1)
    assert items[2]["today"]["hours"] == ["00:00-24:00"] and items[2]["open_now"] is True
    assert [i["distance_m"] for i in items] == sorted(i["distance_m"] for i in items)


def test_filters_by_item_type_radius_and_limit(map_client, town):
    at = {"lat": 31.8205, "lng": 117.2000}
    assert codes(map_client.get(NEARBY, query_string={**at, "item": "GA001"})) == ["T-0", "T-1", "T-3"]
    assert codes(map_client.get(NEARBY, query_string={**at, "item": "GA001", "type": "police_station"})) == ["T-1"]
    assert codes(map_client.get(NEARBY, query_string={**at, "type": "bank_partner"})) == ["T-4"]
    assert codes(map_client.get(NEARBY, query_string={**at, "radius_m": 200})) == ["T-0", "T-1", "T-2"]
    assert codes(map_client.get(NEARBY, query_string={**at, "limit": 2})) == ["T-0", "T-1"]
    assert codes(map_client.get(NEARBY, query_string={**at, "item": "NOPE"})) == []


def test_open_now_uses_beijing_time_lunch_breaks_and_holidays(app, town):
    query = service.NearbyQuery(lat=31.8205, lng=117.2000, open_now=True)

    def open_at(text: str) -> list[str]:
        with app.test_request_context(), db.connection_context():
            now = datetime.fromisoformat(text).replace(tzinfo=CHINA)
            return [i["code"] for i in service.nearby(query, ip="198.51.100.7", now=now)["items"]]

    assert open_at("2026-11-24T10:00") == ["T-0", "T-1", "T-2", "T-4"]
    assert open_at("2026-11-24T12:30") == ["T-2"]  # lunch break; the 24 h area stays open
    assert open_at("2026-10-01T10:00") == ["T-2"]  # 国庆节
    assert open_at("2026-02-14T10:00") == ["T-0", "T-1", "T-2", "T-4"]  # make-up Saturday
    assert open_at("2026-11-24T02:00") == ["T-2"]


def test_open_now_asks_redis_for_more_when_it_drops_halls(app, load_halls):
    closed = [hall(f"C-{i:03d}", lng=f"{117.2 + i * 0.0001:.4f}", hours='{"mon": []}') for i in range(60)]
    far_open = hall("OPEN", lng="117.2200", hours='{"mon-sun": ["00:00-24:00"]}', holiday_rule="open")
    load_halls(closed + [far_open])
    with app.test_request_context(), db.connection_context():
        found = service.nearby(service.NearbyQuery(lat=31.8205, lng=117.2, open_now=True, limit=1), ip="198.51.100.8")
    assert [i["code"] for i in found["items"]] == ["OPEN"]


def test_wgs84_and_bd09_requests_and_bd09_answers(map_client, town):
    # a phone at T-0 reporting WGS-84: the request point is found by searching around the converted point
    target = (31.8205, 117.2000)
    wgs = (target[0] - (coords.wgs84_to_gcj02(*target)[0] - target[0]),
           target[1] - (coords.wgs84_to_gcj02(*target)[1] - target[1]))
    first = map_client.get(NEARBY, query_string={"lat": wgs[0], "lng": wgs[1], "coord": "wgs84"}).get_json()["items"][0]
    assert first["code"] == "T-0" and first["distance_m"] < 5
    bd = coords.gcj02_to_bd09(*target)
    first = map_client.get(NEARBY, query_string={"lat": bd[0], "lng": bd[1], "coord": "bd09",
                                                 "answer_coord": "bd09"}).get_json()["items"][0]
    assert first["code"] == "T-0" and first["distance_m"] < 1
    assert first["location"]["coord"] == "bd09"
    assert coords.haversine_m(first["location"]["lat"], first["location"]["lng"], *bd) < 0.05


@pytest.mark.parametrize("query, field", [
    ({"lat": 91, "lng": 117}, "lat"), ({"lat": 31, "lng": -181}, "lng"), ({"lat": "abc", "lng": 117}, "lat"),
    ({"lat": "nan", "lng": 117}, "lat"), ({"lng": 117}, "lat"), ({"lat": 31, "lng": 117, "coord": "cgcs2000"}, "coord"),
    ({"lat": 31, "lng": 117, "type": "bank"}, "type"), ({"lat": 31, "lng": 117, "radius_m": 50_001}, "radius_m"),
    ({"lat": 31, "lng": 117, "limit": 51}, "limit"), ({"lat": 31, "lng": 117, "limit": 0}, "limit"),
    ({"lat": 31, "lng": 117, "answer_coord": "wgs84"}, "answer_coord"), ({"lat": 31, "lng": 117, "item": "a b"}, "item"),
    ({"lat": 31, "lng": 117, "open_now": "maybe"}, "open_now"),
])
def test_bad_input_is_a_422_problem_naming_the_field(map_client, query, field):
    body = assert_problem(map_client.get(NEARBY, query_string=query), 422, "validation_failed")
    reasons = body["errors"][field]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r) for r in reasons), reasons


def test_rate_limited_per_ip(make_app, town):
    client = make_app(MAP_PER_IP_MINUTE=3).test_client()
    for _ in range(3):
        assert client.get(NEARBY, query_string={"lat": 31.82, "lng": 117.2}).status_code == 200
    body = assert_problem(client.get(NEARBY, query_string={"lat": 31.82, "lng": 117.2}), 429, "map_rate_limited")
    assert body["retry_after"] >= 1


def test_a_hall_missing_from_the_database_is_left_out_not_a_500(app, map_client, town):
    with app.app_context(), db.connection_context():
        Hall.delete().where(Hall.code == "T-0").execute()
    assert codes(map_client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2})) == ["T-1", "T-2", "T-3", "T-4"]


def test_the_index_is_rebuilt_when_redis_lost_it(app, map_client, town):
    app.extensions["redis"].flushdb()
    assert codes(map_client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2}))[:1] == ["T-0"]


def test_an_import_is_seen_by_the_next_query(app, map_client, town, load_halls):
    before = map_client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2}).get_json()["items"][0]
    load_halls([hall("T-0", name="新名字", lng="117.2000", items="GA001")])
    after = map_client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2}).get_json()["items"][0]
    assert after["id"] == before["id"] and after["name"] == "新名字"


def test_openapi_documents_the_map_endpoints_with_problems(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    nearby = spec["paths"]["/api/v1/map/halls/nearby"]["get"]
    assert {"422", "429"} <= set(nearby["responses"]) and "security" not in nearby
    assert {p["name"] for p in nearby["parameters"]} >= {"lat", "lng", "coord", "radius_m", "item", "type", "open_now",
                                                         "limit", "answer_coord"}
    assert "404" in spec["paths"]["/api/v1/map/halls/{hall_id}"]["get"]["responses"]
    push = spec["paths"]["/api/v1/map/halls/{hall_code}/queue"]["put"]
    assert {"401", "403", "404", "422", "429"} <= set(push["responses"])
    assert json.dumps(push["responses"]["404"]).count("hall_not_found")


@pytest.mark.parametrize("query", [
    {"lat": 89, "lng": 117}, {"lat": -85.06, "lng": 0}, {"lat": 85.0511288, "lng": 117, "coord": "wgs84"},
    {"lat": -85.0511, "lng": 0, "coord": "bd09"},  # in range as given, beyond it once converted to GCJ-02
])
def test_a_latitude_redis_geo_cannot_search_is_a_422_not_a_500(map_client, query):
    """Issue 14 item 11: `lat=89` answered 500 (Redis GEO accepts only |lat| ≤ 85.05112878)."""
    body = assert_problem(map_client.get(NEARBY, query_string=query), 422, "validation_failed")
    assert body["errors"]["lat"] == ["纬度应在 -85.05112878 到 85.05112878 之间。"]


def test_the_edge_of_redis_geo_is_searchable(map_client, town):
    for lat in (85.05112878, -85.05112878):
        response = map_client.get(NEARBY, query_string={"lat": lat, "lng": 117.2})
        assert response.status_code == 200 and response.get_json()["items"] == []


def test_the_documented_latitude_range_is_redis_geo_s(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    lat = next(p for p in spec["paths"]["/api/v1/map/halls/nearby"]["get"]["parameters"] if p["name"] == "lat")
    assert (lat["schema"]["minimum"], lat["schema"]["maximum"]) == (-85.05112878, 85.05112878)


def test_the_home_screen_refuses_the_same_latitudes(client, login_citizen):
    """Issue 14 item 11, bff/home: the nearby part would have failed on lat=89."""
    token = login_citizen()["access_token"]
    response = client.get("/api/v1/bff/home", query_string={"lat": 89, "lng": 117},
                          headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["errors"]["lat"] == ["Latitude must be between -85.05112878 and 85.05112878."]
