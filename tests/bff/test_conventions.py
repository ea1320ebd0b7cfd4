"""Client conventions: the version gate (426/400), ETag → 304, gzip, app-config, their OpenAPI."""
from __future__ import annotations

import gzip
import json

import pytest

from app.config import ConfigError
from app.version_gate import parse_version
from tests import vectors
from tests.helpers import assert_problem, bearer

HOME = "/api/v1/bff/home"
APP_CONFIG = "/api/v1/bff/app-config"
MINIMUMS = json.dumps({"app": "3.0.0", "miniprogram": "2.1.0"})
URLS = json.dumps({"app": "https://yiwang.gov.cn/download", "miniprogram": "weixin://upgrade"})
NOTICES = [{"id": f"n{i}", "title": f"系统维护通知{i}", "body": "本周六 0:00–6:00 暂停电子证照服务，敬请谅解。" * 4}
           for i in range(8)]


@pytest.fixture
def gated(make_app):
    return make_app(CLIENT_MIN_VERSIONS=MINIMUMS, CLIENT_UPGRADE_URLS=URLS, BFF_NOTICES=json.dumps(NOTICES),
                    BFF_FEATURES='{"proxies": true, "signing": false}').test_client()


def test_old_clients_are_told_to_upgrade(gated):
    problem = assert_problem(gated.post("/api/v1/auth/sms-codes", json={"phone": vectors.PHONES[0]},
                                        headers={"X-Client": "app", "X-Client-Version": "2.9.9"}),
                             426, "client_upgrade_required")
    assert problem["min_version"] == "3.0.0" and problem["upgrade_url"] == "https://yiwang.gov.cn/download"
    assert problem["client"] == "app" and problem["current_version"] == "2.9.9" and "升级" in problem["detail"]
    assert_problem(gated.get(HOME, headers={"X-Client": "miniprogram", "X-Client-Version": "2.0"}), 426,
                   "client_upgrade_required")


def test_current_unknown_minimum_and_anonymous_clients_pass(gated):
    for headers in ({"X-Client": "app", "X-Client-Version": "3.0.0"}, {"X-Client": "App", "X-Client-Version": "10.0.1"},
                    {"X-Client": "miniprogram", "X-Client-Version": "2.1.0-beta.2"},
                    {"X-Client": "h5", "X-Client-Version": "0.0.1"}, {"X-Client": "app"}, {}):
        assert gated.get(HOME, headers=headers).status_code == 401, headers  # past the gate, at the auth


def test_malformed_identification_is_400(gated):
    assert_problem(gated.get(HOME, headers={"X-Client": "app", "X-Client-Version": "three"}), 400,
                   "client_version_invalid")
    assert_problem(gated.get(HOME, headers={"X-Client-Version": "1.2.3.4"}), 400, "client_version_invalid")
    assert_problem(gated.get(HOME, headers={"X-Client": "desktop", "X-Client-Version": "1.0.0"}), 400,
                   "client_invalid")


def test_health_docs_and_app_config_are_exempt(gated):
    old = {"X-Client": "app", "X-Client-Version": "1.0.0"}
    assert gated.get("/healthz", headers=old).status_code == 200
    assert gated.get("/api/v1/openapi.json", headers=old).status_code == 200
    answer = gated.get(APP_CONFIG, headers=old)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["min_versions"] == {"app": "3.0.0", "miniprogram": "2.1.0"}
    assert body["upgrade_urls"]["miniprogram"] == "weixin://upgrade"
    assert body["features"] == {"proxies": True, "signing": False} and len(body["notices"]) == 8


def test_etag_and_304(gated):
    first = gated.get(APP_CONFIG)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    assert "Accept-Encoding" in first.headers["Vary"]
    again = gated.get(APP_CONFIG, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert gated.get(APP_CONFIG, headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    assert gated.get(APP_CONFIG, headers={"If-None-Match": 'W/"stale", ' + etag}).status_code == 304
    assert gated.get(APP_CONFIG, headers={"If-None-Match": 'W/"stale"'}).status_code == 200


def test_home_etag_changes_with_the_data(client, verified_citizen):
    headers = bearer(verified_citizen()["access_token"])
    etag = client.get(HOME, headers=headers).headers["ETag"]
    assert client.get(HOME, headers={**headers, "If-None-Match": etag}).status_code == 304
    client.put("/api/v1/bff/preferences", json={"elderly_mode": True}, headers=headers)
    changed = client.get(HOME, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["layout"] == "elderly"
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert client.get(HOME, headers={**other, "If-None-Match": etag}).status_code == 200  # someone else's


def test_large_bodies_are_gzipped_when_accepted(gated):
    plain = gated.get(APP_CONFIG)
    assert "Content-Encoding" not in plain.headers and len(plain.get_data()) > 1024
    packed = gated.get(APP_CONFIG, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert len(packed.get_data()) < len(plain.get_data())
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()
    assert packed.headers["ETag"] == plain.headers["ETag"]
    refused = gated.get(APP_CONFIG, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_small_bodies_and_other_routes_are_left_alone(client):
    small = client.get(APP_CONFIG, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and small.status_code == 200
    catalogue = client.get("/api/v1/licence-types", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in catalogue.headers  # keeps its own ETag, outside the BFF


def test_bad_settings_fail_the_start(make_app):
    for settings in ({"CLIENT_MIN_VERSIONS": "{app: 3}"}, {"CLIENT_MIN_VERSIONS": '{"tv": "1.0.0"}'},
                     {"CLIENT_MIN_VERSIONS": '{"app": "latest"}'}, {"BFF_NOTICES": "{}"},
                     {"BFF_PART_BUDGETS_MS": '{"cases": -1}'}):
        with pytest.raises(ConfigError):
            make_app(**settings)


def test_versions_compare_as_numbers():
    assert parse_version("3.10.0") > parse_version("3.9.9")
    assert parse_version("3.1") == (3, 1, 0) and parse_version("2.1.0+build.7") == (2, 1, 0)
    assert parse_version("v3") is None and parse_version("") is None


def test_openapi_documents_the_conventions(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    home = spec["paths"][HOME]["get"]
    assert {"200", "304", "422", "426", "401"} <= set(home["responses"])
    assert "client_upgrade_required" in home["responses"]["426"]["description"]
    assert "426" in spec["paths"]["/api/v1/auth/sms-codes"]["post"]["responses"]
    assert "426" not in spec["paths"][APP_CONFIG]["get"]["responses"]
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/bff/preferences"])
