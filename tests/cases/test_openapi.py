"""Every case endpoint is in the OpenAPI document with its problem+json answers."""
from __future__ import annotations

import pytest

from app import create_app

PATHS = {
    ("/api/v1/dept/case-events", "post"): {"202", "401", "403", "409", "422"},
    ("/api/v1/dept/case-events:batch", "post"): {"200", "401", "403", "422"},
    ("/api/v1/dept/cases/{case_no}", "get"): {"200", "401", "403", "404"},
    ("/api/v1/dept/follow-ups", "get"): {"200", "401", "403", "422"},
    ("/api/v1/dept/follow-ups/{follow_up_id}/answer", "post"): {"200", "401", "403", "404", "409", "422"},
    ("/api/v1/cases", "get"): {"200", "401", "403", "422"},
    ("/api/v1/cases/{case_id}", "get"): {"200", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/evaluation", "post"): {"201", "401", "403", "404", "409", "422"},
}


@pytest.fixture(scope="module")
def spec(make_app_module):
    return make_app_module.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture(scope="module")
def make_app_module(base_config, _schema):
    return create_app(base_config)


@pytest.mark.parametrize("path, method", sorted(PATHS))
def test_documented_with_problem_answers(spec, path, method):
    operation = spec["paths"][path][method]
    assert operation["summary"] and operation["security"] == [{"bearerAuth": []}]
    assert PATHS[(path, method)] <= set(operation["responses"])
    for status, answer in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert "application/problem+json" in answer["content"], (path, status)


def test_codes_named_in_the_answers(spec):
    event = spec["paths"]["/api/v1/dept/case-events"]["post"]["responses"]
    assert "illegal_transition" in event["409"]["description"]
    assert "event_conflict" in event["422"]["description"]
    evaluation = spec["paths"]["/api/v1/cases/{case_id}/evaluation"]["post"]["responses"]
    assert "evaluation_reason_required" in evaluation["422"]["description"]
