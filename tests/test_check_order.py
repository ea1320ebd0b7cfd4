"""The order of checks on every protected operation (API.md): 401 → 403 → 422.

Walks every operation of the OpenAPI document that declares bearer security and calls it with
an invalid body and query: anonymously it must answer 401, with a token of the wrong kind 403 —
never 422 with a field list (issue 14 item 10: validation ran before authentication).
"""
from __future__ import annotations

import re

import pytest

from app.security.auth import view_requirement
from tests.helpers import assert_problem, bearer

# Wrong on purpose for any schema: a list where an object is expected, numbers out of every range.
_BAD_BODY = ["not", "an", "object"]
_BAD_QUERY = {"lat": "999", "lng": "x", "limit": "-1", "cursor": "@" * 300, "date": "31-31-31", "status": "?"}


def _operations(client) -> list[tuple[str, str, list]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and {"bearerAuth": []} in (operation.get("security") or []):
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "x1", path), operation.get("parameters", [])))
    return found


def _call(client, method: str, url: str, headers: dict | None = None):
    if method in ("GET", "HEAD", "DELETE"):
        return client.open(url, method=method, query_string=_BAD_QUERY, headers=headers or {})
    return client.open(url, method=method, query_string=_BAD_QUERY, json=_BAD_BODY, headers=headers or {})


def test_the_walk_covers_the_protected_operations(client):
    operations = _operations(client)
    assert len(operations) > 40
    paths = {path for _, path, _ in operations}
    for expected in ("/api/v1/issuer/licences", "/api/v1/signing/requests", "/api/v1/proxies",
                     "/api/v1/dept/case-events", "/api/v1/counter/verifications", "/api/v1/appointments",
                     "/api/v1/me/real-name"):
        assert expected in paths


def test_anonymous_calls_get_401_before_any_validation(client):
    """Issue 14 item 10: an anonymous POST with an invalid body answered 422 with the field list."""
    wrong = {}
    for method, url, _ in _operations(client):
        response = _call(client, method, url)
        if response.status_code != 401:
            wrong[f"{method} {url}"] = response.status_code
            continue
        body = assert_problem(response, 401)
        assert "errors" not in body
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not wrong, wrong


@pytest.fixture
def tokens(app, client, login_citizen, machine_token):
    return {"citizen": login_citizen()["access_token"], "client": machine_token("licences:issue")}


def test_a_token_of_the_wrong_kind_gets_403_before_any_validation(app, client, tokens):
    """Issue 14 item 10: a machine token on a citizen route (or a citizen's on a machine route) is 403."""
    wrong = {}
    for method, url, _ in _operations(client):
        with app.test_request_context(url, method=method):
            requirement = view_requirement(app)
        assert requirement is not None, f"{method} {url} documents bearer security but has no auth_required"
        caller = "citizen" if "client" in requirement.kinds else "client"
        response = _call(client, method, url, headers=bearer(tokens[caller]))
        if response.status_code != 403:
            wrong[f"{method} {url} as {caller}"] = response.status_code
            continue
        assert "errors" not in assert_problem(response, 403)
    assert not wrong, wrong


def test_a_missing_scope_comes_before_validation(client, machine_token):
    token = machine_token("signatures:verify")
    response = client.post("/api/v1/issuer/licences", json={"type_code": 1}, headers=bearer(token))
    assert_problem(response, 403, "insufficient_scope")


def test_a_declared_assurance_level_comes_before_validation(client, login_citizen):
    """An L1 citizen enrolling for signing with a malformed PIN is told the level it lacks (403
    naming `required_level`), not that the PIN is malformed."""
    token = login_citizen()["access_token"]
    response = client.post("/api/v1/signing/enrol", json={"pin": "x"}, headers=bearer(token))
    body = assert_problem(response, 403, "assurance_level_insufficient")
    assert body["required_level"] == "L2"
    assert "errors" not in body


def test_the_right_caller_still_gets_the_validation_failure(client, verified_citizen):
    token = verified_citizen()["access_token"]
    response = client.post("/api/v1/signing/enrol", json={"pin": "x"}, headers=bearer(token))
    assert "pin" in assert_problem(response, 422, "validation_failed")["errors"]


def test_a_public_route_is_not_asked_for_a_token(client):
    assert client.get("/api/v1/licence-types").status_code == 200
    assert client.options("/api/v1/issuer/licences").status_code == 200  # Flask's automatic OPTIONS


@pytest.mark.parametrize("method, url, payload", [
    ("GET", "/api/v1/wallet/licences?limit=0", None),
    ("POST", "/api/v1/wallet/licences/x1/presentations", {"fields": "all"}),
    ("GET", "/api/v1/cases?limit=0", None),
    ("POST", "/api/v1/proxies", {"phone": 1}),
    ("POST", "/api/v1/signing/requests", {"title": ""}),
])
def test_an_l1_citizen_is_told_the_level_before_the_input_is_checked(client, login_citizen, method, url, payload):
    """Issue 14 item 10: routes that need L2 answered an L1 citizen's malformed input with 422."""
    token = login_citizen()["access_token"]
    response = client.open(url, method=method, json=payload, headers=bearer(token))
    assert assert_problem(response, 403, "assurance_level_insufficient")["required_level"] == "L2"
