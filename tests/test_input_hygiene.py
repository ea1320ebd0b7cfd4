"""Input the kernel refuses before any schema sees it, and the house's strict input parts.

Issue 14 item 8: unparsable bodies (100k-deep nesting, a 5,000-digit integer, invalid UTF-8) gave
500 with a stack trace; a lone surrogate or NUL in a string did too. Item 13: `elderly_mode: 0`
was taken as a boolean and empty PUT bodies were accepted. Item 18: a OneOf failure did not say
which values are allowed.
"""
from __future__ import annotations

import json
import logging

import marshmallow as ma
import pytest

from app.errors import ChoiceReason, mark_choices, translate_reason
from app.fields import QueryBoolean, StrictBoolean, UpdateSchema
from mapsvc.models import HALL_TYPES
from tests.helpers import assert_problem, bearer

STAFF_LOGIN = "/api/v1/auth/staff-login"
JSON = {"Content-Type": "application/json"}
NEARBY = "/api/v1/map/halls/nearby"


def _post(client, url: str, payload, headers: dict | None = None):
    """JSON with \\u escapes (the test client's own encoder refuses lone surrogates)."""
    return client.post(url, data=json.dumps(payload), headers={**JSON, **(headers or {})})


def _no_stack_trace(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"username": "a", "password": ' + b"9" * 5000 + b"}",
    b'{"username": "\xed\xa0\x80", "password": "x"}',  # a surrogate encoded as UTF-8: invalid UTF-8
    b'{"username": "a", "password": NaN}',
    b'{"username": "a",',
    b"  ",
], ids=["100k-deep", "5000-digit-int", "invalid-utf8", "nan", "truncated", "whitespace"])
def test_unparsable_bodies_are_400_without_a_stack_trace(client, caplog, body):
    """Issue 14 item 8: these answered 500 and logged a traceback."""
    caplog.set_level(logging.INFO)
    body = assert_problem(client.post(STAFF_LOGIN, data=body, headers=JSON), 400, "body_unparsable")
    assert "errors" not in body
    _no_stack_trace(caplog)


def _nested(depth: int) -> str:
    return '{"username": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + ', "password": "x"}'


def test_nesting_is_limited_to_32_levels(client):
    """Issue 14 item 8: a depth limit, checked without recursion."""
    assert_problem(client.post(STAFF_LOGIN, data=_nested(33), headers=JSON), 400, "body_unparsable")
    body = assert_problem(client.post(STAFF_LOGIN, data=_nested(32), headers=JSON), 422, "validation_failed")
    assert "username" in body["errors"]


def test_a_body_over_the_size_limit_is_413(app, client):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    assert_problem(client.post(STAFF_LOGIN, data=b" " * size, headers=JSON), 413, "payload_too_large")


def test_english_names_the_problem_too(client):
    response = client.post(STAFF_LOGIN, data="{", headers={**JSON, "Accept-Language": "en"})
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize("field, value", [("username", "ad\ud800min"), ("password", "pass\x00word")])
def test_staff_login_refuses_a_lone_surrogate_or_nul(client, caplog, field, value):
    """Issue 14 item 8: a lone surrogate in the staff login crashed the password hashing (500)."""
    caplog.set_level(logging.INFO)
    payload = {"username": "admin", "password": "secret", field: value}
    body = assert_problem(_post(client, STAFF_LOGIN, payload), 422, "validation_failed")
    assert list(body["errors"]) == [field]
    assert "代理字符" in body["errors"][field][0]
    _no_stack_trace(caplog)


def test_a_surrogate_in_a_key_is_named_printably(client):
    response = client.post(STAFF_LOGIN, data='{"\\udc00x": 1, "deep": [{"a": "\\u0000"}]}',
                           headers={**JSON, "Accept-Language": "en"})
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "validation_failed"
    assert set(body["errors"]) == {"\\udc00x", "deep.0.a"}
    assert body["errors"]["deep.0.a"] == ["Must not contain NUL or an unpaired surrogate character."]


def test_a_surrogate_pair_is_an_ordinary_character(client):
    response = client.post(STAFF_LOGIN, json={"username": "admin\U0001F600", "password": "secret"})
    assert response.status_code == 401  # refused as wrong credentials, not as bad input


def test_signing_title_with_a_lone_surrogate_is_422(client, verified_citizen):
    """Issue 14 item 8: the signing title (stored and put into the audit log) crashed with 500."""
    token = verified_citizen()["access_token"]
    response = _post(client, "/api/v1/signing/requests", {"title": "合同\ud800", "e_hex": "00" * 32}, bearer(token))
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["title"]


def test_presentation_purpose_with_a_lone_surrogate_is_422(client, verified_citizen):
    """Issue 14 item 8: the presentation purpose crashed with 500 (an L2 holder: presentations need L2
    before their input is read)."""
    token = verified_citizen()["access_token"]
    response = _post(client, "/api/v1/wallet/licences/x1/presentations", {"purpose": "\udfff"}, bearer(token))
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["purpose"]


def test_nul_in_the_query_string_is_422(client):
    response = client.get(NEARBY, query_string={"lat": "31.8", "lng": "117.2", "item": "GA\x00001"})
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["item"]


def test_nul_in_a_form_body_is_422(client):
    response = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": "a\x00"})
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["client_id"]


# --- Item 13: strict booleans, empty updates -----------------------------------------------------

@pytest.mark.parametrize("value", [0, 1, "true", "false", None, "yes"])
def test_elderly_mode_takes_only_a_json_boolean(client, login_citizen, value):
    """Issue 14 item 13: `elderly_mode: 0` was taken as false."""
    token = login_citizen()["access_token"]
    response = client.put("/api/v1/bff/preferences", json={"elderly_mode": value}, headers=bearer(token))
    assert "elderly_mode" in assert_problem(response, 422, "validation_failed")["errors"]
    assert client.get("/api/v1/bff/preferences", headers=bearer(token)).get_json()["elderly_mode"] is False


def test_elderly_mode_true_is_taken(client, login_citizen):
    token = login_citizen()["access_token"]
    response = client.put("/api/v1/bff/preferences", json={"elderly_mode": True}, headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["elderly_mode"] is True


@pytest.mark.parametrize("value, status", [("true", 200), ("false", 200), ("1", 422), ("True", 422), ("yes", 422)])
def test_query_flags_are_the_text_true_or_false(client, value, status):
    response = client.get(NEARBY, query_string={"lat": "31.8", "lng": "117.2", "open_now": value})
    assert response.status_code == status, response.get_json()


def test_an_empty_preferences_update_is_refused(client, login_citizen):
    """Issue 14 item 13: an empty PUT body was accepted although it changes nothing."""
    token = login_citizen()["access_token"]
    response = client.put("/api/v1/notifications/preferences", json={}, headers=bearer(token))
    assert_problem(response, 422, "empty_update")
    english = client.put("/api/v1/notifications/preferences", json={},
                         headers={**bearer(token), "Accept-Language": "en"}).get_json()
    assert english["detail"] == "Nothing to change: give at least one field."
    ok = client.put("/api/v1/notifications/preferences", json={"quiet_hours": True}, headers=bearer(token))
    assert ok.status_code == 200 and ok.get_json()["quiet_hours"] is True


def _argument_schemas(app):
    """(method, rule, location, schema) of every operation's @blp.arguments."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        handlers = [(m, getattr(view.view_class, m.lower(), None)) for m in rule.methods] \
            if hasattr(view, "view_class") else [(m, view) for m in rule.methods]
        for method, handler in handlers:
            if method in ("HEAD", "OPTIONS"):
                continue
            for argument in getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                schema = argument["schema"]
                yield method, rule.rule, argument["in"], schema() if isinstance(schema, type) else schema


def _fields(schema: ma.Schema):
    stack = list(schema.fields.items())
    while stack:
        name, field = stack.pop()
        yield name, field
        if isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
            stack.extend((f"{name}.{n}", f) for n, f in field.schema.fields.items())
        for inner in (getattr(field, "inner", None), getattr(field, "value_field", None)):
            if inner is not None:
                stack.append((f"{name}[]", inner))


def test_every_boolean_argument_is_a_house_boolean(app):
    """Issue 14 item 13: no plain marshmallow Boolean (which takes 0, 1, "yes" …) reads input."""
    plain = []
    for method, rule, location, schema in _argument_schemas(app):
        for name, field in _fields(schema):
            if isinstance(field, ma.fields.Boolean) and not field.dump_only:
                house = QueryBoolean if location == "query" else StrictBoolean
                if not isinstance(field, house):
                    plain.append(f"{method} {rule} {location}:{name}")
    assert not plain, plain


def test_every_all_optional_update_refuses_an_empty_body(app, client):
    """Issue 14 item 13: a PUT/PATCH whose fields are all optional is an UpdateSchema, documented
    with minProperties: 1."""
    spec = client.get("/api/v1/openapi.json").get_json()
    loose = []
    for method, rule, location, schema in _argument_schemas(app):
        if method in ("PUT", "PATCH") and location == "json":
            if not any(f.required for f in schema.fields.values()) and not isinstance(schema, UpdateSchema):
                loose.append(f"{method} {rule}")
    assert not loose, loose
    assert spec["components"]["schemas"]["PreferencesUpdate"]["minProperties"] == 1


# --- Item 18: OneOf failures name the allowed values ---------------------------------------------

def test_an_unknown_hall_type_lists_the_types(client):
    """Issue 14 item 18: `errors` said 未知的网点类型 without the allowed values."""
    response = client.get(NEARBY, query_string={"lat": "31.8", "lng": "117.2", "type": "castle"})
    reason = assert_problem(response, 422, "validation_failed")["errors"]["type"][0]
    assert reason.startswith("未知的网点类型。可选值：")
    assert all(code in reason for code in HALL_TYPES)
    english = client.get(NEARBY, query_string={"lat": "31.8", "lng": "117.2", "type": "castle"},
                         headers={"Accept-Language": "en"}).get_json()["errors"]["type"][0]
    assert english.startswith("Unknown hall type. Allowed values: ")
    assert all(code in english for code in HALL_TYPES)


def test_a_default_one_of_message_lists_the_values_in_chinese(client, login_citizen):
    token = login_citizen()["access_token"]
    response = client.get("/api/v1/proxies", query_string={"role": "boss"}, headers=bearer(token))
    reason = assert_problem(response, 422, "validation_failed")["errors"]["role"][0]
    assert reason == "取值不在允许范围内。可选值：principal、proxy。"


def test_a_message_that_already_names_the_values_is_left_alone(client):
    response = client.get(NEARBY, query_string={"lat": "31.8", "lng": "117.2", "coord": "utm"})
    assert assert_problem(response, 422)["errors"]["coord"] == ["坐标系应为 gcj02、wgs84 或 bd09。"]


def test_the_document_states_the_input_rules(client):
    """Issue 14 item 8: the 400/413 refusals are documented on every operation with a body."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "U+0000" in spec["info"]["description"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                answers = operation["responses"]
                assert "body_unparsable" in answers["400"]["description"], f"{method} {path}"
                assert "413" in answers, f"{method} {path}"


def test_a_one_of_failure_outside_a_route_schema_keeps_its_values(app):
    """Issue 14 item 18: marshmallow's own "Must be one of: …" became 取值不在允许范围内 without them."""
    with app.test_request_context():
        assert translate_reason("Must be one of: a, b.") == "取值不在允许范围内。可选值：a、b。"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert translate_reason("Must be one of: a, b.") == "Must be one of: a, b."


def test_nul_in_a_path_id_is_422_naming_it(client, login_citizen):
    token = login_citizen()["access_token"]
    response = client.get("/api/v1/wallet/licences/ab%00cd", headers=bearer(token))
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["licence_id"]


def test_choices_are_found_in_lists_nested_schemas_and_dict_keys():
    """Issue 14 item 18, once in the kernel: every place a OneOf can sit in a schema."""
    class Inner(ma.Schema):
        kind = ma.fields.String(validate=ma.validate.OneOf(["a", "b"]))

    class Outer(ma.Schema):
        items = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(["x", "y"])))
        inner = ma.fields.Nested(Inner, many=True)
        flags = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(["p"], error="未知：{input}。")))

    schema = Outer()
    marked = mark_choices(schema.validate({"items": ["z"], "inner": [{"kind": "c"}], "flags": {"q": 1}}), schema)
    found = [marked["items"][0][0], marked["inner"][0]["kind"][0], marked["flags"]["q"]["key"][0]]
    assert all(isinstance(reason, ChoiceReason) for reason in found)
    assert [reason.choices for reason in found] == [("x", "y"), ("a", "b"), ("p",)]


@pytest.mark.parametrize("url", ["/api/v1/signing/requests", "/api/v1/wallet/licences/x1/presentations"])
def test_unparsable_bodies_on_signing_and_presentations(client, caplog, verified_citizen, url):
    """Issue 14 item 8, the other routes the issue names: 400, no stack trace."""
    caplog.set_level(logging.INFO)
    headers = {**JSON, **bearer(verified_citizen()["access_token"])}
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"title": "t", "purpose": ' + b"1" * 5000 + b"}"):
        assert_problem(client.post(url, data=body, headers=headers), 400, "body_unparsable")
    _no_stack_trace(caplog)
