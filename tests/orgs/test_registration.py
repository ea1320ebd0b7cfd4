"""POST /enterprises: registration by the legal representative against the business registry (fake
gateway over HTTP). Order 401 → 403 (level) → 422 (USCC, before any registry call) → 404 → 409
inactive → 403 not the LR → 409 exists → 201, with the row, the audit row and the signal."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from app.audit import AuditEvent
from app.db import db, unit_of_work
from app.uscc import mod31_check_char
from identity import service as identity
from orgs.models import Enterprise
from orgs.signals import enterprise_registered
from tests import vectors
from tests.fakes.bizreg import LOOKUP, VERIFY, FakeBizreg
from tests.fakes.server import FakeServer
from tests.helpers import assert_problem, bearer, latest_code, rows

APP_ID, SECRET = "yiwang-test", "bizreg-shared-secret"
USCC = "91340100MA2RX7K01F"
NAME, ID_NUMBER = vectors.ZHANG_SAN
ENTITY = {"name": "示例科技有限公司", "entity_type": "有限责任公司", "status": "1", "lr_name": NAME,
          "lr_id_number": ID_NUMBER}


@pytest.fixture
def gateway():
    fake = FakeBizreg({APP_ID: SECRET}, {USCC: dict(ENTITY)})
    with FakeServer(fake) as server:
        yield fake, server
        fake.release.set()


@pytest.fixture
def app(make_app, gateway):
    _, server = gateway
    return make_app(BIZREG_BACKEND="http", BIZREG_URL=server.url, BIZREG_APP_ID=APP_ID, BIZREG_APP_SECRET=SECRET)


def _user_id(app, token: str) -> str:
    return app.test_client().get("/api/v1/me", headers=bearer(token)).get_json()["id"]


def _face_pass(app, user_id: str) -> None:
    """A face check now: a fresh L3 event (what POST /me/liveness/{id}/confirm records)."""
    with app.app_context(), db.connection_context(), unit_of_work():
        identity.record_assurance(user_id=user_id, level=3, method="face")


@pytest.fixture
def lr(app, verified_citizen):
    """The LR (张三) at L3 with a fresh face check; returns (token, user id)."""
    token = verified_citizen()["access_token"]
    user_id = _user_id(app, token)
    _face_pass(app, user_id)
    return token, user_id


def json_reason(row) -> str:
    return json.loads(row.details)["reason"]


def _register(client, token, uscc=USCC, **extra):
    return client.post("/api/v1/enterprises", json={"uscc": uscc, **extra}, headers=bearer(token))


def _audit(app, outcome):
    return [r for r in rows(app, AuditEvent, AuditEvent.action == "orgs.enterprise_register")
            if r.outcome == outcome]


def test_success_201_row_audit_signal(app, client, gateway, lr):
    fake, _ = gateway
    token, user_id = lr
    received = []

    def on_registered(sender, **kw):
        received.append((sender, kw))

    enterprise_registered.connect(on_registered)
    try:
        response = _register(client, token, uscc=" 91340100ma2rx7k01f ")
    finally:
        enterprise_registered.disconnect(on_registered)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["uscc"] == USCC and body["name"] == "示例科技有限公司" and body["status"] == "1"
    assert body["role"] == "legal_representative" and body["id"].startswith("en_") and len(body["id"]) == 19
    [row] = rows(app, Enterprise)
    assert (row.id, row.uscc, row.legal_rep_user_id, row.status, row.region_code, row.entity_type) == (
        body["id"], USCC, user_id, "1", "340100", "有限责任公司")
    [audit] = _audit(app, "success")
    assert (audit.actor_id, audit.target) == (user_id, body["id"]) and ID_NUMBER not in (audit.details or "")
    assert received == [(body["id"], {"uscc": USCC})]
    assert [p for p, _ in fake.calls] == [LOOKUP, VERIFY]
    assert fake.calls[1][1]["lr_name"] == NAME and fake.calls[1][1]["id_number"] == ID_NUMBER
    listed = client.get("/api/v1/enterprises", headers=bearer(token)).get_json()["items"]
    assert [(i["id"], i["role"], i["scopes"]) for i in listed] == [(body["id"], "legal_representative", None)]


def test_without_token_401(client, gateway):
    assert_problem(client.post("/api/v1/enterprises", json={"uscc": USCC}), 401)
    assert gateway[0].calls == []


def test_l2_citizen_is_refused_naming_l3_and_600_s(app, client, gateway, verified_citizen):
    token = verified_citizen()["access_token"]
    body = assert_problem(_register(client, token), 403, "assurance_level_insufficient")
    assert body["required_level"] == "L3" and body["max_age"] == 600 and body["current_level"] == "L2"
    assert "required_level=L3" in body["step_up_url"] and "max_age=600" in body["step_up_url"]
    assert gateway[0].calls == [] and rows(app, Enterprise) == []
    # 403 before 422: a bad body from an L2 citizen is still refused for the level
    assert_problem(client.post("/api/v1/enterprises", json={"uscc": 7}, headers=bearer(token)), 403,
                   "assurance_level_insufficient")
    assert_problem(_register(client, token, uscc="bad"), 403, "assurance_level_insufficient")


def test_stale_face_check_needs_a_step_up(app, client, gateway, verified_citizen):
    token = verified_citizen()["access_token"]
    user_id = _user_id(app, token)
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        _face_pass(app, user_id)
    with time_machine.travel(start + timedelta(seconds=601), tick=False):
        body = assert_problem(_register(client, token), 403, "step_up_required")
    assert body["required_level"] == "L3" and body["max_age"] == 600 and body["current_level"] == "L3"
    assert gateway[0].calls == []
    with time_machine.travel(start + timedelta(seconds=599), tick=False):
        assert _register(client, token).status_code == 201


def _with_check(first17: str) -> str:
    return first17 + mod31_check_char(first17)


@pytest.mark.parametrize("uscc", [
    "91340100MA2RX7K01G",  # overall MOD 31 check character wrong
    _with_check("91340100MA2RX7K02"),  # MOD 31 balanced, GB 11714 inner check wrong
    _with_check("91990000MA2RX7K0" + "1"),  # no such region (99)
    "91340100MA2RX7KO1F",  # O is not in the alphabet
    "9134010",
])
def test_bad_uscc_422_before_any_registry_call(app, client, gateway, lr, uscc):
    fake, _ = gateway
    fake.entities[uscc] = dict(ENTITY)  # even a code the registry "knows" is never sent
    body = assert_problem(_register(client, lr[0], uscc=uscc), 422, "uscc_invalid")
    assert "uscc" in body["errors"]
    assert fake.calls == [] and fake.rejections == [] and rows(app, Enterprise) == []


def test_missing_uscc_is_a_validation_error(client, gateway, lr):
    assert_problem(client.post("/api/v1/enterprises", json={}, headers=bearer(lr[0])), 422, "validation_failed")
    assert gateway[0].calls == []


def test_not_in_the_registry_404(app, client, gateway, lr):
    body = assert_problem(_register(client, lr[0], uscc="91110000600037341L"), 404, "enterprise_not_found")
    assert body["code"] == "enterprise_not_found"
    assert [p for p, _ in gateway[0].calls] == [LOOKUP] and rows(app, Enterprise) == []
    assert [json_reason(r) for r in _audit(app, "refused")] == ["not_found"]


@pytest.mark.parametrize("status", ["2", "3", "4", "9"])  # 吊销, 注销, 迁出, 其他
def test_inactive_enterprise_409(app, client, gateway, lr, status):
    fake, _ = gateway
    fake.entities[USCC]["status"] = status
    body = assert_problem(_register(client, lr[0]), 409, "enterprise_inactive")
    assert body["registry_status"] == status
    assert [p for p, _ in fake.calls] == [LOOKUP]  # the LR's ID number was not sent for a dead entity
    assert rows(app, Enterprise) == []


@pytest.mark.parametrize("field, value", [("lr_name", "李四"), ("lr_id_number", vectors.LI_SI[1])])
def test_not_the_legal_representative_403(app, client, gateway, lr, field, value):
    fake, _ = gateway
    fake.entities[USCC][field] = value
    assert_problem(_register(client, lr[0]), 403, "not_legal_representative")
    assert [p for p, _ in fake.calls] == [LOOKUP, VERIFY] and rows(app, Enterprise) == []
    assert [json_reason(r) for r in _audit(app, "refused")] == ["not_legal_representative"]


def test_already_registered_409_only_after_the_lr_check(app, client, gateway, lr):
    assert _register(client, lr[0]).status_code == 201
    assert_problem(_register(client, lr[0]), 409, "enterprise_exists")
    assert len(rows(app, Enterprise)) == 1


def test_registry_unavailable_503_nothing_written(app, client, gateway, lr):
    fake, _ = gateway
    fake.mode = "wrong_key"
    assert_problem(_register(client, lr[0]), 503, "business_registry_unavailable")
    assert rows(app, Enterprise) == []


def test_another_citizen_sees_nothing(app, client, gateway, lr, verified_citizen):
    enterprise_id = _register(client, lr[0]).get_json()["id"]
    other = verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"]
    assert client.get("/api/v1/enterprises", headers=bearer(other)).get_json()["items"] == []
    assert_problem(client.get(f"/api/v1/enterprises/{enterprise_id}", headers=bearer(other)), 404,
                   "enterprise_not_found")
    mine = client.get(f"/api/v1/enterprises/{enterprise_id}", headers=bearer(lr[0]))
    assert mine.status_code == 200 and mine.get_json()["role"] == "legal_representative"


def test_dev_registry_cli_and_the_dev_backend(make_app, verified_citizen_dev):
    app, client, runner, token, user_id = verified_citizen_dev
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", USCC.lower(), "--name", "示例科技有限公司",
                              "--lr-name", NAME, "--lr-id-number", ID_NUMBER])
    assert out.exit_code == 0, out.output
    bad = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", "91340100MA2RX7K01G", "--name", "x",
                              "--lr-name", NAME, "--lr-id-number", ID_NUMBER])
    assert bad.exit_code != 0 and "USCC" in bad.output
    response = _register(client, token)
    assert response.status_code == 201, response.get_json()
    assert rows(app, Enterprise)[0].legal_rep_user_id == user_id


@pytest.fixture
def verified_citizen_dev(make_app):
    """The default (dev) business registry: an app of its own, 张三 at a fresh L3."""
    app = make_app()
    client, runner = app.test_client(), app.test_cli_runner()
    runner.invoke(args=["registry", "add", "--name", NAME, "--id-number", ID_NUMBER])
    phone = vectors.PHONES[0]
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    token = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)}
                        ).get_json()["access_token"]
    assert client.post("/api/v1/me/real-name", json={"name": NAME, "id_number": ID_NUMBER},
                       headers=bearer(token)).status_code == 200
    user_id = _user_id(app, token)
    _face_pass(app, user_id)
    return app, client, runner, token, user_id


@pytest.fixture
def ncid_lr(app, lr):
    """张三 as a 网号 account (D3): real_name_source ncid, the name encrypted and only the ID number's
    blind index — no ID number to send to the registry unless the citizen types it."""
    from app.security.pii import field_cipher
    from identity.models import User
    token, user_id = lr
    with app.app_context(), db.connection_context(), unit_of_work():
        c = field_cipher()
        User.update(real_name_source="ncid", real_name_verified_at=None, id_number_enc=None,
                    name_enc=c.encrypt(NAME, "user.name"), id_number_bidx=c.blind_index("id", ID_NUMBER)
                    ).where(User.id == user_id).execute()
    return token, user_id


def _consent(app, user_id):
    from identity.models import insert_consent
    with app.app_context(), db.connection_context(), unit_of_work():
        insert_consent(user_id=user_id, purpose="enterprise_registration", now=datetime.now(timezone.utc))


def test_ncid_account_without_consent_is_asked_for_it(app, client, gateway, ncid_lr):
    body = assert_problem(_register(client, ncid_lr[0]), 403, "identity_consent_required")
    assert body["purpose"] == "enterprise_registration"
    assert gateway[0].calls == []


def test_ncid_account_types_its_own_id_number(app, client, gateway, ncid_lr):
    fake, _ = gateway
    token, user_id = ncid_lr
    _consent(app, user_id)
    assert_problem(_register(client, token), 422, "legal_rep_id_number_invalid")
    assert_problem(_register(client, token, legal_rep_id_number=vectors.LI_SI[1]), 422, "legal_rep_id_number_invalid")
    assert fake.calls == []
    response = _register(client, token, legal_rep_id_number=ID_NUMBER.lower())
    assert response.status_code == 201, response.get_json()
    assert fake.calls[-1][0] == VERIFY and fake.calls[-1][1]["id_number"] == ID_NUMBER
    assert rows(app, Enterprise)[0].legal_rep_user_id == user_id


def test_attempts_reaching_the_registry_are_limited(app, client, gateway, lr):
    fake, _ = gateway
    for _ in range(10):
        assert_problem(_register(client, lr[0], uscc="91110000600037341L"), 404, "enterprise_not_found")
    body = assert_problem(_register(client, lr[0]), 429, "enterprise_register_attempts_exceeded")
    assert body["retry_after"] > 0 and len(fake.calls) == 10
    assert_problem(_register(client, lr[0], uscc="bad"), 422, "uscc_invalid")  # the local check costs nothing
