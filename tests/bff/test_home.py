"""Home screen: every part live, L1 and elderly layouts, and partial degradation within budget."""
from __future__ import annotations

import re
import threading
import time

import marshmallow as ma
import pytest

from app import calendar
from app.db import db
from bff import home
from bff.schemas import HomeSchema
from mapsvc import directory, importer
from notify.tasks import NotifyWorker
from tests import vectors
from tests.fixtures.cases import event
from tests.fixtures.halls import hall
from tests.helpers import assert_problem, bearer
from tests.wallet.conftest import issue, issue_body

HOME = "/api/v1/bff/home"
PREFS = "/api/v1/bff/preferences"
ALL_HOURS = '{"mon-sun": ["00:00-23:59"]}'
HEFEI = "lat=31.8206&lng=117.2272"


@pytest.fixture
def citizen(verified_citizen):
    tokens = verified_citizen(vectors.ZHANG_SAN)
    return {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"]}


@pytest.fixture
def halls(app):
    """Four halls open round the clock at growing distances from central Hefei, one closed."""
    directory.forget()
    calendar.forget()
    records = [hall(f"H-{i}", lat=str(31.8206 + i * 0.002), hours=ALL_HOURS, holiday_rule="open") for i in range(4)]
    records.append(hall("H-CLOSED", lat="31.8206", lng="117.2273", hours='{"mon-sun": []}', holiday_rule="closed"))
    with app.app_context(), db.connection_context():
        importer.import_records(((i + 2, r) for i, r in enumerate(records)), "gcj02")
    yield
    directory.forget()
    calendar.forget()


@pytest.fixture
def lived_in(app, client, citizen, machine_token, halls):
    """Zhang San with a licence, four cases (one not accepted: closed) and their notices in the inbox."""
    issue(client, bearer(machine_token("licences:issue")), issue_body())
    dept = bearer(machine_token("cases:write"))
    for n, statuses in enumerate((("submitted",), ("submitted", "accepted"), ("accepted", "in_review"),
                                  ("not_accepted",))):
        for seq, status in enumerate(statuses, start=1):
            answer = client.post("/api/v1/dept/case-events", headers=dept,
                                 json=event(seq, status, case_no=f"C-2026-{n:04d}", day=seq + n))
            assert answer.status_code == 202, answer.get_json()
    NotifyWorker(app).drain()
    return citizen


def test_home_has_every_part(client, lived_in):
    answer = client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["partial"] == [] and body["layout"] == "standard"
    assert body["profile"]["assurance_level"] == "L2" and body["profile"]["name_masked"] == "张*"
    assert body["profile"]["elderly_mode"] is False and "id_number" not in str(body["profile"])
    assert [c["type_code"] for c in body["licences"]] == ["driving_licence"]
    assert vectors.ZHANG_SAN[1] not in answer.get_data(as_text=True)
    assert len(body["cases"]) == 3 and all(c["status_label"] for c in body["cases"])
    assert "C-2026-0003" not in [c["case_no"] for c in body["cases"]]  # closed: not active
    assert body["unread_notifications"] >= 4
    assert [h["name"] for h in body["nearby_halls"]] == ["测试网点H-0", "测试网点H-1", "测试网点H-2"]
    assert all(h["open_now"] for h in body["nearby_halls"])
    assert isinstance(body["notices"], list)


def _undeclared(schema, value, where="") -> list[str]:
    """The keys of `value` (an answer) that `schema` does not declare, nested schemas included."""
    found = []
    for key, item in value.items():
        field = schema.fields.get(key)
        if field is None:
            found.append(f"{where}{key}")
            continue
        inner = getattr(field, "inner", field)  # a List's item field
        if isinstance(inner, ma.fields.Nested) and item is not None:
            for one in (item if isinstance(item, list) else [item]):
                found += _undeclared(inner.schema, one, f"{where}{key}.")
    return found


def test_home_is_written_as_its_schema_dumps_it(client, lived_in):
    """The route sends the service's answer without a marshmallow dump: the same fields and forms."""
    body = client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"]).get_json()
    assert _undeclared(HomeSchema(), body) == []
    assert HomeSchema().dump(HomeSchema().load(body)) == body  # dates ISO, times RFC 3339 (China time)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", body["licences"][0]["valid_until"])
    assert all(c["status_at"].endswith("+08:00") for c in body["cases"])


def test_home_below_l2_and_without_location(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    body = client.get(HOME, headers=headers).get_json()
    assert body["profile"]["assurance_level"] == "L1"
    assert body["licences"] == [] and body["cases"] == [] and body["unread_notifications"] == 0
    assert body["nearby_halls"] is None and body["partial"] == []  # not asked for: not partial


def test_home_needs_a_citizen_and_refuses_bad_points(client, citizen):
    assert_problem(client.get(HOME), 401)
    assert_problem(client.get(f"{HOME}?lat=31.8", headers=citizen["headers"]), 422, "validation_failed")
    assert_problem(client.get(f"{HOME}?lat=91&lng=117", headers=citizen["headers"]), 422, "validation_failed")
    assert_problem(client.get(f"{HOME}?{HEFEI}&coord=utm", headers=citizen["headers"]), 422)


def test_a_slow_part_is_null_and_the_answer_stays_in_budget(app, client, lived_in, monkeypatch):
    """The halls (the map's Redis) run on the pool: late, they are null and the answer goes out."""
    app.config["BFF_PART_BUDGET_MS"] = 200
    monkeypatch.setitem(home.PARTS, "nearby_halls", lambda query: time.sleep(1.5))
    client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"])  # warm: pool threads, caches
    timings = []
    for _ in range(5):
        started = time.monotonic()
        body = client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"]).get_json()
        timings.append(time.monotonic() - started)
        assert body["nearby_halls"] is None and body["partial"] == ["nearby_halls"]
        assert body["licences"] and body["cases"] and body["profile"] and body["unread_notifications"] >= 4
    assert max(timings) <= 1.5 * 0.2, timings


def test_the_database_parts_run_in_the_request_and_a_late_one_is_kept_and_logged(app, client, lived_in, monkeypatch,
                                                                                caplog):
    """The parts that read the request's own database run inline (bff/home.py says why): one over
    its budget is not dropped (the answer has waited for it already) but logged for the operators."""
    app.config["BFF_PART_BUDGET_MS"] = 50
    seen = []

    def slow_unread(query):
        seen.append(threading.current_thread())
        time.sleep(0.1)
        return 7

    monkeypatch.setitem(home.PARTS, "unread_notifications", slow_unread)
    body = client.get(HOME, headers=lived_in["headers"]).get_json()
    assert seen == [threading.current_thread()]  # the test client runs the request in this thread
    assert body["unread_notifications"] == 7 and body["partial"] == []
    late = [r for r in caplog.records if r.getMessage() == "home part over budget"]
    assert [(r.part, r.budget_ms) for r in late] == [("unread_notifications", 50)]


def test_a_failing_part_is_null_and_logged_without_personal_data(client, lived_in, monkeypatch, caplog):
    def broken(query):
        raise RuntimeError(f"boom for {vectors.ZHANG_SAN[1]}")

    monkeypatch.setitem(home.PARTS, "licences", broken)
    answer = client.get(HOME, headers=lived_in["headers"])
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["licences"] is None and body["partial"] == ["licences"] and body["cases"]
    failure = [r for r in caplog.records if r.getMessage() == "home part failed"]
    assert failure and failure[0].part == "licences" and failure[0].error == "RuntimeError"
    assert vectors.ZHANG_SAN[1] not in caplog.text


def test_per_part_budget_overrides(app, client, citizen, monkeypatch):
    app.extensions["bff_settings"] = app.extensions["bff_settings"].__class__(
        **{**app.extensions["bff_settings"].__dict__, "part_budgets_ms": {"nearby_halls": 50}})
    monkeypatch.setitem(home.PARTS, "nearby_halls", lambda query: time.sleep(0.3) or [])
    started = time.monotonic()
    body = client.get(f"{HOME}?{HEFEI}", headers=citizen["headers"]).get_json()
    assert time.monotonic() - started < 0.25
    assert body["partial"] == ["nearby_halls"] and body["nearby_halls"] is None


def test_map_rate_limit_degrades_only_the_halls(make_app, lived_in):
    app = make_app(MAP_PER_IP_MINUTE=1)
    client = app.test_client()
    assert client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"]).get_json()["partial"] == []
    body = client.get(f"{HOME}?{HEFEI}", headers=lived_in["headers"]).get_json()
    assert body["partial"] == ["nearby_halls"] and body["nearby_halls"] is None and body["licences"]


def test_elderly_mode_simplifies_the_home(client, lived_in):
    headers = lived_in["headers"]
    assert client.get(PREFS, headers=headers).get_json() == {"elderly_mode": False, "language": None, "updated_at": None}
    answer = client.put(PREFS, json={"elderly_mode": True}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["elderly_mode"] is True
    body = client.get(f"{HOME}?{HEFEI}", headers=headers).get_json()
    assert body["layout"] == "elderly" and body["hints"]["font_scale"] >= 1.5
    assert body["profile"]["elderly_mode"] is True
    assert "unread_notifications" not in body and "notices" not in body
    assert len(body["nearby_halls"]) == 1 and body["nearby_halls"][0]["name"] == "测试网点H-0"
    assert "summary" not in body["licences"][0] and len(body["cases"]) == 3
    client.put(PREFS, json={"elderly_mode": False}, headers=headers)
    assert client.get(HOME, headers=headers).get_json()["layout"] == "standard"
    assert_problem(client.put(PREFS, json={"elderly_mode": "maybe"}, headers=headers), 422, "validation_failed")
    assert_problem(client.put(PREFS, json={}, headers=headers), 422, "empty_update")


def test_home_refuses_proxy_tokens(client, people, grant, proxy_session):
    made = grant(scopes=("licences:view", "cases:follow"))
    assert_problem(client.get(HOME, headers=proxy_session(made["id"])), 403, "proxy_not_allowed")
