"""Fuzzing the published API with schemathesis (`make fuzz`; not part of `make test`).

Every operation of `/api/v1/openapi.json` gets the coverage cases of `schemathesis run`
(boundaries, every enum value, wrong types, missing parameters and headers, undocumented methods,
bad content types) and then a bounded, derandomised set of generated positive and negative
requests, against the in-process WSGI app, authenticated as whoever the operation is for (a
citizen at L2, a counter clerk, a machine client holding every scope). Every schemathesis check
runs on each answer and any finding fails the test (issue 14 items 12 and 14): no 5xx for client
input; only documented status codes (flask-smorest's catch-all `default` response is set aside,
else every status would count as documented), content types, headers and bodies; no operation that answers
without (valid) credentials when it documents bearer auth (`ignored_auth`, and a missing
Authorization header must give 401); every schema-invalid request refused and every schema-valid
request accepted (`positive_data_acceptance`); undocumented methods refused with a correct Allow
header. `use_after_free` and `ensure_resource_availability` need the stateful phase, which needs
OpenAPI links between operations; the document has none, so they have nothing to check.

The document states the constraints JSON Schema can state (pattern, lengths, enums, ranges); the
rules it cannot state carry a custom `format` (app/fields.py: `gb11643`, `signing-pin`,
`cn-mobile`) whose values are drawn by the strategies in tests/fuzz/formats.py. What a
schema-valid request may still meet is server state (an SMS or WeChat code, an opaque cursor, a QR
text, credentials) or a rule across fields: those refusals are documented on the operation and
listed in `REFUSALS` by status and problem `code`; any other refusal of valid data is a finding.

`FUZZ_PATHS=<regex>` fuzzes only the operations whose label ("POST /api/v1/...") matches, for a
quick loop on a subset: `FUZZ_PATHS='signing' make fuzz`; `FUZZ_EXAMPLES=<n>` draws n generated
cases per operation instead of 25, for a deeper run.

The log-hygiene fixture (tests/conftest.py) runs around it as around every test: no phone or ID
number reaches a log record during the run (a run with FUZZ_EXAMPLES=100 found a failed
client-credentials attempt logging the client_id it was sent, an ID number; now masked).

Measured on SQLite + embedded Redis, 2 shared cores: about 45 s with the default 25 generated
cases per operation, 100 s with FUZZ_EXAMPLES=100.

Left out, on purpose:
- `GET /notifications/stream` — Server-Sent Events never end; the WSGI transport would wait for
  the end of the body. tests/notify/test_api.py covers its handshake and errors.
- `/dev/...` — development-only helpers (not registered in production, not part of the contract).
"""
from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
# The coverage phase has no public Python API in 4.x (pyproject pins schemathesis < 5).
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.python._constants.orchestrator import make_constants_value_source

from app import create_app
from tests import vectors
from tests.conftest import _empty_tables
from tests.fuzz import formats
from tests.helpers import latest_code
from tests.issuers.registry import register_client

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))  # generated cases per operation, besides coverage
CLERK_PASSWORD = "Counter-Pass-2026!"
MACHINE_SCOPES = ("licences:issue cases:write signatures:verify halls:write matters:admin verifications:request "
                  "issuers:admin timestamps:request")

# Path prefixes → who calls them. Everything else with bearer auth is a citizen's.
_CLERK = ("/api/v1/counter/",)
_MACHINE = ("/api/v1/issuer/", "/api/v1/dept/", "/api/v1/verify/", "/api/v1/map/halls/{hall_code}/queue",
            "/api/v1/admin/matters", "/api/v1/admin/issuers",
            "/api/v1/verifier/", "/api/v1/timestamps")

# What positive_data_acceptance lets through anyway (schemathesis' default expected statuses).
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
_CURSOR = {422: {"cursor_invalid"}}  # an opaque cursor the server did not hand out
# The coverage phase draws from a field's pattern and ignores its custom format (the generation
# phase uses formats.py): an ID number of the right shape may still fail its check character.
_ID_NUMBER = "id_number_invalid"
# Documented refusals of schema-valid requests, per operation: status → problem codes. A code
# written `validation_failed[field]` is the generic 422 naming only that field (`_schema`: a rule
# across fields). Each status is documented on its operation (status_code_conformance holds it).
REFUSALS: dict[str, dict[int, set[str]]] = {
    # Codes the server sent (SMS) or WeChat issued: server state.
    "POST /api/v1/auth/login": {400: {"sms_code_invalid", "sms_code_expired", "sms_code_attempts_exceeded"}},
    "POST /api/v1/auth/wechat": {400: {"wechat_code_invalid"}},
    # Either wechat_code or phone + code: a rule across fields.
    "POST /api/v1/me/phone": {400: {"wechat_code_invalid", "sms_code_invalid", "sms_code_expired",
                                    "sms_code_attempts_exceeded"},
                              422: {"validation_failed[_schema]"}},
    "POST /api/v1/me/real-name": {422: {_ID_NUMBER, "real_name_mismatch"}},
    # `data` follows the catalogue entry named by type_code (GET /licence-types): across fields.
    # The holder: a person's id_number or an enterprise's uscc by `kind` (across fields), a USCC's check
    # characters (GB 32100 / GB 11714, stated in the field's description; issue 19).
    "POST /api/v1/issuer/licences": {422: {"licence_data_invalid", _ID_NUMBER, "validation_failed[holder]",
                                           "uscc_invalid"}},
    # A QR text the server issued; qr_text or manual_code, not both.
    # The matter: a code of the catalogue, which changes at run time (server state: 422 matter_unknown).
    "POST /api/v1/counter/verifications": {400: {"presentation_invalid"},
                                           422: {"validation_failed[qr_text]", "matter_unknown[matter]"}},
    # The catalogue of matters: a matter's types and fields must be the licence catalogue's, without
    # repeats; its code is unique; a change names the version it read (server state).
    "POST /api/v1/admin/matters": {409: {"matter_exists"}, 422: {"matter_invalid"}},
    # The issuer registry: a USCC's check characters, authority and region (GB 32100, stated in the
    # field's description), a region's province; a USCC is registered once and never changes.
    "POST /api/v1/admin/issuers": {409: {"uscc_taken"}, 422: {"uscc_invalid", "region_invalid"}},
    "PATCH /api/v1/admin/issuers/{issuer_id}": {409: {"uscc_taken", "uscc_fixed"},
                                                422: {"uscc_invalid", "region_invalid"}},
    "PATCH /api/v1/admin/matters/{code}": {409: {"matter_changed"}, 422: {"matter_invalid"}},
    # document_b64 or e_hex, exactly one (also per batch item); revoking: pin, or sms_code + liveness.
    "POST /api/v1/signing/requests": {422: {"validation_failed[_schema]"}},
    "POST /api/v1/signing/batches": {422: {"validation_failed[items]"}},
    "POST /api/v1/signing/certificate/revoke": {422: {"validation_failed[_schema]"}},
    # The new PIN must differ from the old one (across fields; 422 pin_unchanged).
    "POST /api/v1/signing/pin/change": {422: {"pin_unchanged"}},
    "GET /api/v1/signing/signatures": _CURSOR,
    "GET /api/v1/signing/requests": _CURSOR,
    # Base64, DER and PEM contents.
    "POST /api/v1/verify/signatures": {400: {"verification_input_invalid"}},
    "GET /api/v1/wallet/licences": _CURSOR,
    "GET /api/v1/wallet/usage": _CURSOR,
    "GET /api/v1/map/halls/{hall_id}/slots": {422: {"slot_date_out_of_range"}},  # a window around today
    "GET /api/v1/appointments": _CURSOR,
    # The token's shape depends on the platform; a WeChat openid or SMS phone must be the account's.
    "POST /api/v1/devices": {422: {"device_token_invalid"}},
    "GET /api/v1/notifications": _CURSOR,
    # quiet_start == quiet_end (with the stored value when one is left out: across fields and server state);
    # the locked category switched off (named in the detail, as the GET answer lists it locked)
    "PUT /api/v1/notifications/preferences": {422: {"quiet_hours_empty", "category_locked"}},
    "GET /api/v1/dept/follow-ups": _CURSOR,
    "GET /api/v1/cases": _CURSOR,
    # occurred_at not in the future (the clock), supplement_due only on supplement_required events
    # and not before occurred_at (across fields); an event_id or case_no already used otherwise
    "POST /api/v1/dept/case-events": {422: {"validation_failed[occurred_at]", "validation_failed[supplement_due]",
                                            "event_conflict", "case_mismatch", _ID_NUMBER,
                                            # id_number or uscc, exactly one; a USCC's checks (issue 19)
                                            "validation_failed[applicant]", "validation_failed[applicant,occurred_at]",
                                            "uscc_invalid"}},
    "GET /api/v1/proxies": _CURSOR,
    "POST /api/v1/proxies": {422: {"proxy_expiry_invalid"},  # later than now, within 365 days: the clock
                             # the step-up by signing PIN: a fuzzed PIN is wrong (and may lock signing)
                             400: {"pin_invalid"}, 423: {"signing_locked"}},
    # 用证授权: the matter's catalogue bounds the query (server state); direct_post needs an https
    # response_uri (across fields); a request's state and the citizen's licences, PIN and codes.
    "POST /api/v1/verifier/requests": {422: {"consent_matter_unknown", "consent_query_invalid",
                                             "consent_response_uri_invalid", "phone_invalid"}},
    "GET /api/v1/consent/requests": _CURSOR,
    "POST /api/v1/consent/requests/{request_id}/approve": {400: {"pin_invalid"}, 410: {"consent_request_expired"},
                                                          422: {"consent_licence_not_applicable",
                                                                "matter_not_applicable", "licence_not_valid"},
                                                          423: {"signing_locked"}},
    "POST /api/v1/consent/requests/{request_id}/refuse": {410: {"consent_request_expired"}},
    "POST /api/v1/consent/requests/{request_id}/step-up-code": {410: {"consent_request_expired"}},
    # lat and lng together or not at all.
    "GET /api/v1/bff/home": {422: {"validation_failed[lat]", "validation_failed[lng]"}},
    # 网号: a bizSeq the server issued (300 s, spent once) and the national app's answer for it: server state.
    "POST /api/v1/auth/ncid/login": {400: {"ncid_session_invalid", "ncid_result_invalid"}},
    "POST /api/v1/me/ncid": {400: {"ncid_session_invalid", "ncid_result_invalid"}},
    "POST /api/v1/me/ncid/step-up": {400: {"ncid_session_invalid", "ncid_result_invalid"}},
    "POST /api/v1/me/identity-consents": {400: {"ncid_session_invalid", "ncid_result_invalid"}},
}


def _login(client, phone: str) -> dict:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    answer = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _tokens(app) -> dict[str, str]:
    client, runner = app.test_client(), app.test_cli_runner()
    name, id_number = vectors.ZHANG_SAN
    runner.invoke(args=["registry", "add", "--name", name, "--id-number", id_number])
    citizen = _login(client, vectors.PHONES[0])["access_token"]
    answer = client.post("/api/v1/me/real-name", json={"name": name, "id_number": id_number},
                         headers={"Authorization": f"Bearer {citizen}"})
    assert answer.status_code == 200, answer.get_json()
    # Logout ends the session it is called with: it gets a session of its own, so the other
    # operations keep a valid token.
    throwaway = _login(client, vectors.PHONES[1])["access_token"]

    out = runner.invoke(args=["staff", "create", "--username", "fuzz.clerk", "--password", CLERK_PASSWORD,
                              "--role", "counter", "--hall", "H1"]).output
    assert "created" in out, out
    clerk = client.post("/api/v1/auth/staff-login", json={"username": "fuzz.clerk", "password": CLERK_PASSWORD})
    assert clerk.status_code == 200, clerk.get_json()

    out = runner.invoke(args=["clients", "create", "--name", "fuzz client", "--scopes", MACHINE_SCOPES]).output
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    register_client(runner, creds["client_id"])  # an issuing client acts for a registered department
    machine = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **{
        k: creds[k] for k in ("client_id", "client_secret")}})
    assert machine.status_code == 200, machine.get_json()
    return {"citizen": citizen, "logout": throwaway, "clerk": clerk.get_json()["access_token"],
            "machine": machine.get_json()["access_token"]}


@pytest.fixture(scope="module")
def fuzz_app(base_config, _schema):
    app = create_app(dict(base_config))
    app.config["FUZZ_TOKENS"] = _tokens(app)
    yield app
    app.extensions["redis"].flushdb()
    _empty_tables(_schema)


def _config() -> SchemathesisConfig:
    """Per operation, the documented refusals are statuses positive_data_acceptance accepts."""
    return SchemathesisConfig.from_dict({"operations": [
        {"include-name": label, "checks": {"positive_data_acceptance": {
            "expected-statuses": _ACCEPTED + [str(status) for status in refusals]}}}
        for label, refusals in REFUSALS.items() if refusals]})


def documented_refusal(ctx, response, case) -> None:
    """A schema-valid request refused with a status listed in REFUSALS must carry one of its codes."""
    meta = case.meta
    allowed = REFUSALS.get(case.operation.label, {}).get(response.status_code)
    if meta is None or not meta.generation.mode.is_positive or allowed is None:
        return
    problem = json.loads(response.content or b"{}")
    code = problem.get("code")
    named = f"{code}[{','.join(sorted(problem.get('errors') or {}))}]"
    if code not in allowed and named not in allowed:
        raise AssertionError(f"Schema-valid request refused with {response.status_code} {named}; documented: "
                             f"{sorted(allowed)}")


def _document(app) -> dict:
    """The published document without flask-smorest's `default` error response on every
    operation: with it, any status is "documented" and status_code_conformance checks nothing."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)
    return document


def operations(app) -> list:
    formats.register()
    # The RFC 3161 wire form (POST /timestamps): its DER body is sent as the bytes drawn for `format: binary`.
    schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
    schema = schemathesis.openapi.from_dict(_document(app), config=_config())
    schema.app, schema.location = app, "/api/v1/openapi.json"
    schema = schema.exclude(path="/api/v1/notifications/stream").exclude(path_regex=r"^/api/v1/dev/")
    # Unknown query parameters are ignored on purpose (webargs' default for the query string:
    # cache-busters and app versions must not break a list); negative cases keep every other
    # mutation.
    schema.config.generation.allow_extra_parameters = False
    # NUL is refused in every string by the kernel (app/input_guard.py, 422), a rule of the API as a
    # whole rather than of one field: positive cases do not draw it.
    schema.config.generation.allow_x00 = False
    only = re.compile(os.environ.get("FUZZ_PATHS", ""))
    return [op for op in (result.ok() for result in schema.get_all_operations()) if only.search(op.label)]


def caller(path: str) -> str:
    if path == "/api/v1/auth/logout":
        return "logout"
    if path.startswith(_CLERK):
        return "clerk"
    if path.startswith(_MACHINE):
        return "machine"
    return "citizen"


def coverage_cases(operation, feedback: FeedbackSources) -> CoverageGenerator:
    """The coverage phase of `schemathesis run` (boundaries, every enum value, wrong types, missing
    parameters, undocumented methods, bad content types): the cases that drive
    `missing_required_header`, `unsupported_method` and `allow_header_conformance`."""
    return CoverageGenerator(
        operation=operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None, override=Override(), feedback=feedback)


def fuzz(operation, tokens: dict[str, str], feedback: FeedbackSources) -> None:
    """Coverage cases, then generated positive and negative cases for one operation; raises on the
    first failing check."""
    auth = {}
    if operation.definition.raw.get("security"):
        auth = {"Authorization": f"Bearer {tokens[caller(operation.path)]}"}
    # Passed to the call, not set on the case: schemathesis then knows the credentials are real,
    # and `ignored_auth` probes the operation without them and with invalid ones.
    for case in coverage_cases(operation, feedback):
        case.call_and_validate(headers=auth, additional_checks=[documented_refusal])
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(strategy)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(headers=auth, additional_checks=[documented_refusal])

    run()


@pytest.mark.fuzz
def test_every_operation_passes_every_check(fuzz_app):
    findings = []
    selected = operations(fuzz_app)
    assert selected, f"no operation matches FUZZ_PATHS={os.environ.get('FUZZ_PATHS')!r}"
    feedback = FeedbackSources(constants_value_source=make_constants_value_source(selected[0].schema))
    for operation in selected:
        try:
            fuzz(operation, fuzz_app.config["FUZZ_TOKENS"], feedback)
        except (Exception, BaseExceptionGroup) as exc:  # collected: every operation runs, all are reported
            findings.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert not findings, f"{len(findings)} operations with findings:\n\n" + "\n\n".join(findings)
