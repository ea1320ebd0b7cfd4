"""The OpenAPI document states what the server enforces, and answers match it (issue 14 items 12
and 14): regressions for what `make fuzz` found, fast enough for `make test`."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import given, settings

from app.audit import AuditEvent
from app.idnumber import normalize_id_number, normalize_phone
from signing.pin import weak_reasons
from tests import vectors
from tests.fixtures.cases import event
from tests.fuzz import formats
from tests.fuzz.test_schemathesis import REFUSALS
from tests.helpers import bearer, rows


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _component(spec: dict, name: str) -> dict:
    return spec["components"]["schemas"][name]["properties"]


def test_rules_json_schema_cannot_state_have_a_named_format(spec):
    """Item 12: ID numbers, signing PINs and phones carry a custom format (and the pattern JSON
    Schema can state), so a client and the fuzzer know which values are valid."""
    id_number = _component(spec, "RealName")["id_number"]
    assert id_number["format"] == "gb11643" and re.search(id_number["pattern"], vectors.ZHANG_SAN[1])
    assert _component(spec, "Enrol")["pin"]["format"] == "signing-pin"
    phone = _component(spec, "Phone")["phone"]
    assert phone["format"] == "cn-mobile" and re.search(phone["pattern"], "+86 138-0013-8000")
    assert not re.search(phone["pattern"], "location")
    for component, holder in (("Holder", "id_number"), ("Applicant", "id_number")):
        assert _component(spec, component)[holder]["format"] == "gb11643"


def test_constraints_json_schema_can_state_are_stated(spec):
    """Item 12: enums, anchored patterns, named properties and a required body, where the server
    refused values the document allowed."""
    assert _component(spec, "ClientTokenRequest")["grant_type"]["enum"] == ["client_credentials"]
    assert spec["paths"]["/api/v1/oauth/token"]["post"]["requestBody"]["required"] is True
    assert "resident_id_card" in _component(spec, "IssueLicence")["type_code"]["enum"]
    assert "cases:follow" in _component(spec, "CreateProxy")["scopes"]["items"]["enum"]
    item = next(p for p in spec["paths"]["/api/v1/map/halls/nearby"]["get"]["parameters"] if p["name"] == "item")
    assert item["schema"]["pattern"].startswith("^")
    channels = spec["components"]["schemas"]["ChannelSwitches"]
    assert set(channels["properties"]) >= {"apns", "fcm", "sms"} and channels.get("additionalProperties") is False
    update = _component(spec, "PreferencesUpdate")["channels"]
    assert "anyOf" not in update and not update.get("nullable"), update  # anyOf [ref, any object] allows any key


@settings(max_examples=30, deadline=None, database=None)
@given(id_number=formats.id_numbers(), pin=formats.signing_pins(), phone=formats.phones())
def test_format_strategies_draw_values_the_server_accepts(id_number, pin, phone):
    """Item 12: what the fuzzer draws for a custom format passes the server's own rule."""
    assert normalize_id_number(id_number) == id_number
    assert weak_reasons(pin, id_number=vectors.ZHANG_SAN[1]) == []
    assert normalize_phone(phone) == phone


def _formats(node):
    """The `format` of every schema in the document (not the words of examples and defaults, where a
    property may be called "format": the consent query's credential format, say)."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str) and ("type" in node or "pattern" in node):
            yield node["format"]
        for key, value in node.items():
            if key not in ("example", "examples", "default"):
                yield from _formats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _formats(value)


def test_strategies_are_registered_for_every_custom_format(spec):
    """Item 12: every custom format in the document has a strategy (else schemathesis would draw
    arbitrary strings for it and positive_data_acceptance would fail)."""
    used = set(_formats(spec))
    standard = {"date", "date-time", "time", "email", "uri", "url", "uuid", "byte", "binary", "int32", "int64",
                "float", "double", "password", "ipv4", "ipv6", "hostname"}
    assert {"gb11643", "signing-pin", "cn-mobile"} <= used
    assert used - standard <= set(formats.STRATEGIES), used - standard


def test_a_case_waiting_for_its_first_event_matches_its_documented_answer(app, client, machine_token):
    """Item 14: a department case whose only event is out of order (seq 2 before 1) has no status,
    status time or submission time yet; the answer said null where the document promised strings."""
    dept = bearer(machine_token("cases:write"))
    answer = client.post("/api/v1/dept/case-events", json=event(2, "accepted", case_no="C-PENDING-1"), headers=dept)
    assert answer.status_code == 202 and answer.get_json()["state"] == "pending"
    response = client.get("/api/v1/dept/cases/C-PENDING-1", headers=dept)
    assert response.status_code == 200 and response.get_json()["status_label"] is None
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)["/api/v1/dept/cases/{case_no}"]["GET"]
    operation.validate_response(response)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/counter/verifications", {"qr_text": "0", "manual_code": "0"}),
    ("/api/v1/signing/batches", {"items": [{"title": "0"}]}),
])
def test_operations_with_cross_field_rules_ask_for_credentials_first(client, path, body):
    """Item 14: these two answered a request without credentials with 422 (the body's rule across
    fields ran before authentication); the document requires bearer auth, so 401 comes first."""
    answer = client.post(path, json=body)
    assert answer.status_code == 401, answer.get_json()


@pytest.mark.parametrize("lat", [-90, 90])
def test_nearby_halls_at_the_poles_is_not_a_server_error(client, lat):
    """Item 14: a latitude the document allows (±90) gave a 500; the fuzz's coverage phase found it."""
    answer = client.get(f"/api/v1/map/halls/nearby?lat={lat}&lng=117.2272")
    assert answer.status_code < 500, answer.get_json()


def test_a_client_id_shaped_like_an_id_number_is_masked_in_the_audit(app, client):
    """Item 14: the fuzz sent an ID number as client_id; the failed attempt's audit row and log
    record carried it in clear (the autouse log fixture fails on the log record)."""
    answer = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials",
                                                      "client_id": vectors.ZHANG_SAN[1], "client_secret": "x"})
    assert answer.status_code == 401
    [row] = rows(app, AuditEvent, AuditEvent.action == "auth.client_token")
    assert row.outcome == "failure" and vectors.ZHANG_SAN[1] not in row.actor_id and row.actor_id.endswith("1232")


def test_the_refusals_the_fuzz_accepts_are_documented_on_their_operations(spec):
    """Item 12: a schema-valid request may be refused only in a way its operation documents (the
    status with its problem code); /me/phone lacked sms_code_attempts_exceeded and phone_invalid."""
    missing = []
    for label, by_status in REFUSALS.items():
        method, path = label.split(" ", 1)
        responses = spec["paths"][path][method.lower()]["responses"]
        for status, codes in by_status.items():
            described = responses.get(str(status), {}).get("description", "")
            missing += [f"{label} {status} {code}" for code in codes
                        if not re.search(rf"\b{code.split('[')[0]}\b", described)]
    assert not missing, missing


def test_a_malformed_certificate_serial_is_a_documented_404(client, spec):
    """Item 14: with flask-smorest's catch-all `default` response set aside (the fuzz does), the
    public status of a certificate answered an undocumented 404 for a serial that is not hex."""
    answer = client.get("/api/v1/signing/certificates/resident_id_card/status")
    assert answer.status_code == 404 and answer.get_json()["code"] == "certificate_not_found"
    responses = spec["paths"]["/api/v1/signing/certificates/{serial}/status"]["get"]["responses"]
    assert "certificate_not_found" in responses["404"]["description"]
