"""ASSURANCE_POLICY is one table an operator may tighten or loosen (JSON in the environment, merged over
the defaults, checked at start-up), and the routes read the live table, not the one they were built with."""
from __future__ import annotations

import pytest

from app.config import DEFAULTS, ConfigError, load_settings
from tests.helpers import assert_problem, bearer


def test_the_environment_overrides_rows_of_the_policy_as_json():
    settings = load_settings(environ={"ASSURANCE_POLICY": '{"agent_add": [3, 60], "licence_present": [3, null]}'})
    table = settings["ASSURANCE_POLICY"]
    assert table["agent_add"] == [3, 60] and table["licence_present"] == [3, None]
    assert table["signing"] == DEFAULTS["ASSURANCE_POLICY"]["signing"]  # the rest stays


@pytest.mark.parametrize("raw, named", [
    ("not json", "ASSURANCE_POLICY must be a JSON object"),
    ('["signing"]', "ASSURANCE_POLICY must be a JSON object"),
    ('{"signin": [3, 600]}', "unknown operation 'signin'"),
    ('{"signing": [5, 600]}', "ASSURANCE_POLICY['signing']"),
    ('{"signing": [3, 0]}', "ASSURANCE_POLICY['signing']"),
    ('{"signing": 3}', "ASSURANCE_POLICY['signing']"),
])
def test_a_malformed_policy_stops_the_start(raw, named):
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"ASSURANCE_POLICY": raw})
    assert named in str(refused.value)


def test_a_route_reads_the_live_policy(make_app, verified_citizen):
    bad_uscc = {"uscc": "91340100MA2RX7K01X"}  # wrong check character: 422 once the level is met
    strict = make_app().test_client()
    token = bearer(verified_citizen()["access_token"])  # L2, no face check
    body = assert_problem(strict.post("/api/v1/enterprises", json=bad_uscc, headers=token), 403)
    assert body["required_level"] == "L3" and body["max_age"] == 600
    loose = make_app(ASSURANCE_POLICY={**DEFAULTS["ASSURANCE_POLICY"], "enterprise_register": (2, None)})
    assert_problem(loose.test_client().post("/api/v1/enterprises", json=bad_uscc, headers=token), 422, "uscc_invalid")
