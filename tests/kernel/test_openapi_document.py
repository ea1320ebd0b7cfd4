"""The OpenAPI document: every identity operation, problem responses, protected operations, the docs page."""
from __future__ import annotations

import pytest

from tests.helpers import assert_problem

PROBLEM = "application/problem+json"

IDENTITY_OPERATIONS = {
    "/api/v1/auth/sms-codes": "post",
    "/api/v1/auth/login": "post",
    "/api/v1/auth/refresh": "post",
    "/api/v1/auth/logout": "post",
    "/api/v1/auth/wechat": "post",
    "/api/v1/auth/staff-login": "post",
    "/api/v1/oauth/token": "post",
    "/api/v1/me": "get",
    "/api/v1/me/real-name": "post",
    "/api/v1/me/phone": "post",
    "/api/v1/me/liveness": "post",
    "/api/v1/me/liveness/{session_id}/confirm": "post",
}


# --- OpenAPI ---------------------------------------------------------------------------------

@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec
        for part in parts:
            node = node[part]
    return node


def test_openapi_lists_every_identity_operation(spec):
    assert spec["openapi"].startswith("3.")
    for path, method in IDENTITY_OPERATIONS.items():
        assert path in spec["paths"], path
        assert method in spec["paths"][path], (path, method)


def test_openapi_documents_problem_responses(spec):
    problem = _resolve(spec, {"$ref": "#/components/schemas/Problem"})
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    for path, method in IDENTITY_OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        errors = {status: r for status, r in responses.items() if status == "default" or int(status) >= 400}
        assert errors, (path, method)
        for status, response in errors.items():
            content = _resolve(spec, response).get("content", {})
            assert PROBLEM in content, (path, method, status, list(content))
            ref = content[PROBLEM]["schema"]["$ref"]
            # a 403 that can ask for a step-up names its fields (AssuranceProblem extends Problem, issue 19)
            assert ref.endswith("/Problem") or (status == "403" and ref.endswith("/AssuranceProblem")), (path, method)
            assert set(problem["properties"]) <= set(_resolve(spec, {"$ref": ref})["properties"])
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "sms_code_invalid" in login["400"]["description"]
    assert "real_name_mismatch" in spec["paths"]["/api/v1/me/real-name"]["post"]["responses"]["422"]["description"]


def test_problem_schema_admits_the_members_the_app_sends(client, spec):
    problem = _resolve(spec, {"$ref": "#/components/schemas/Problem"})
    client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"})
    limited = client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"})
    body = assert_problem(limited, 429, "sms_resend_too_soon")
    undeclared = set(body) - set(problem["properties"])
    assert not undeclared or problem.get("additionalProperties", True) is not False, undeclared


def test_openapi_marks_protected_operations(spec):
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_api_docs_serve_html(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True).lower()
    assert "swagger" in page and "openapi.json" in page


def test_every_protected_operation_documents_401_and_403_as_problems(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    protected = [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                 if isinstance(op, dict) and op.get("security")]
    assert len(protected) > 20
    for method, path, op in protected:
        for status in ("401", "403"):
            answer = op["responses"].get(status)
            assert answer is not None, (method, path, status)
            assert "application/problem+json" in answer["content"], (method, path, status)
