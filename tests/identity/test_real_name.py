"""Real-name verification (实名核验, L2), ID numbers (GB 11643), the registry adapter wired in, and liveness (L3)."""
from __future__ import annotations

import time
from datetime import date

import pytest

from app.db import db
from app.idnumber import IdNumberError, check_char, normalize_id_number, normalize_phone
from identity.models import RegistryEntry, User
from tests import vectors
from tests.fakes.registry import FakeRegistry
from tests.fakes.server import FakeServer
from tests.helpers import assert_problem, bearer

ZHANG_NAME, ZHANG_ID = vectors.ZHANG_SAN
LI_NAME, LI_ID = vectors.LI_SI
REG_APP_ID, REG_APP_SECRET = "yiwang-realname-test", "registry-shared-secret-2"
WRONG_CHECK = ZHANG_ID[:17] + ("3" if ZHANG_ID[17] != "3" else "4")


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


FUTURE_BIRTH = with_check("34010220990101123")  # check digit right, born 2099



def real_name(client, token: str, name: str, id_number: str):
    return client.post("/api/v1/me/real-name", json={"name": name, "id_number": id_number}, headers=bearer(token))


def me(client, token: str) -> dict:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()


def sms_login(client, phone: str) -> str:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    code = client.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"][0]["code"]
    response = client.post("/api/v1/auth/login", json={"phone": phone, "code": code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def add_to_registry(runner, name: str, id_number: str):
    return runner.invoke(args=["registry", "add", "--name", name, "--id-number", id_number])


class ExplodingRegistry:
    """Stands in for the population registry where no call may happen."""

    calls = 0

    def verify(self, name, id_number):
        ExplodingRegistry.calls += 1
        raise AssertionError("the registry must not be called")


# --- GB 11643 ID numbers (unit) -------------------------------------------------------------

@pytest.mark.parametrize("number", vectors.ALL_ID_NUMBERS)
def test_valid_id_numbers(number):
    assert normalize_id_number(number) == number


def test_id_number_ending_in_x_and_lowercase_x():
    assert normalize_id_number("11010519491231002X") == "11010519491231002X"
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"


def test_check_char_follows_iso_7064():
    assert check_char("34010219900307123") == "2"
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize("number, reason", [
    (WRONG_CHECK, "check_digit"),
    ("11010519491231002Y", "format"),
    ("110105194912310021X", "format"),  # 19 chars
    ("11010519491231002", "format"),  # 17 chars
    ("", "format"),
    ("34010219900307123A", "format"),
    ("3401021990O307123X", "format"),
    (with_check("99010219900307123"), "area_code"),
    (with_check("00010219900307123"), "area_code"),
    (with_check("34010219900230123"), "birth_date"),  # 30 February
    (with_check("34010219901301123"), "birth_date"),  # month 13
    (FUTURE_BIRTH, "birth_date"),
    (with_check("34010218800101123"), "birth_date"),  # 1880
])
def test_invalid_id_numbers(number, reason):
    with pytest.raises(IdNumberError) as info:
        normalize_id_number(number)
    assert info.value.reason == reason
    assert str(info.value)  # a readable (Chinese) message


def test_birth_date_relative_to_today():
    number = with_check("34010220240601123")
    assert normalize_id_number(number, today=date(2024, 6, 1)) == number
    with pytest.raises(IdNumberError):
        normalize_id_number(number, today=date(2024, 5, 31))


def test_normalize_phone():
    assert normalize_phone("13800138000") == "13800138000"
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    for bad in ("1380013800", "23800138000", "1380013800a", "", "+1 13800138000"):
        assert normalize_phone(bad) is None


# --- POST /me/real-name ----------------------------------------------------------------------

def test_real_name_success_raises_to_l2(client, runner, login_citizen):
    assert add_to_registry(runner, ZHANG_NAME, ZHANG_ID).exit_code == 0
    token = login_citizen()["access_token"]
    response = real_name(client, token, ZHANG_NAME, ZHANG_ID)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["assurance_level"] == "L2"
    assert body["real_name_verified"] is True
    assert body["real_name_verified_at"]
    assert body["name_masked"] == "张*"
    assert body["id_number_masked"] == "3401**********1232"
    assert ZHANG_ID not in response.get_data(as_text=True)
    profile = me(client, token)
    assert profile["assurance_level"] == "L2" and profile["id_number_masked"] == "3401**********1232"


def test_lowercase_x_is_accepted_and_stored_normalised(client, runner, login_citizen):
    name, number = vectors.WITH_X
    add_to_registry(runner, name, number)
    token = login_citizen()["access_token"]
    response = real_name(client, token, name, number.lower())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id_number_masked"] == "1101**********002X"


def test_wrong_check_digit_refused_without_registry_call(app, client, runner, login_citizen, monkeypatch):
    add_to_registry(runner, ZHANG_NAME, ZHANG_ID)
    token = login_citizen()["access_token"]
    ExplodingRegistry.calls = 0
    monkeypatch.setattr(app.extensions["identity"], "registry", ExplodingRegistry())
    body = assert_problem(real_name(client, token, ZHANG_NAME, WRONG_CHECK), 422, "id_number_invalid")
    assert "id_number" in body["errors"]
    assert ExplodingRegistry.calls == 0
    assert me(client, token)["assurance_level"] == "L1"


def test_future_birth_date_refused(app, client, login_citizen, monkeypatch):
    token = login_citizen()["access_token"]
    monkeypatch.setattr(app.extensions["identity"], "registry", ExplodingRegistry())
    body = assert_problem(real_name(client, token, ZHANG_NAME, FUTURE_BIRTH), 422, "id_number_invalid")
    assert "id_number" in body["errors"]


def test_malformed_name_refused(client, runner, login_citizen):
    add_to_registry(runner, ZHANG_NAME, ZHANG_ID)
    token = login_citizen()["access_token"]
    body = assert_problem(real_name(client, token, "张3<script>", ZHANG_ID), 422, "name_invalid")
    assert "name" in body["errors"]
    assert me(client, token)["assurance_level"] == "L1"


def test_mismatch_and_unknown_person_look_the_same(client, runner, login_citizen):
    add_to_registry(runner, ZHANG_NAME, ZHANG_ID)
    token = login_citizen()["access_token"]
    mismatch = real_name(client, token, "张四", ZHANG_ID)  # known number, wrong name
    unknown = real_name(client, token, LI_NAME, LI_ID)  # number not in the registry
    a = assert_problem(mismatch, 422, "real_name_mismatch")
    b = assert_problem(unknown, 422, "real_name_mismatch")
    a.pop("request_id", None), b.pop("request_id", None)
    assert a == b
    assert me(client, token)["assurance_level"] == "L1"


def test_id_number_bound_to_another_account(client, runner, verified_citizen, login_citizen):
    verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])
    other = login_citizen(vectors.PHONES[1])["access_token"]
    assert_problem(real_name(client, other, ZHANG_NAME, ZHANG_ID), 409, "id_number_bound")
    assert me(client, other)["real_name_verified"] is False


def test_already_verified(client, runner, verified_citizen):
    token = verified_citizen()["access_token"]
    add_to_registry(runner, LI_NAME, LI_ID)
    assert_problem(real_name(client, token, LI_NAME, LI_ID), 409, "already_verified")
    assert me(client, token)["id_number_masked"] == "3401**********1232"


def test_five_attempts_a_day(client, runner, login_citizen):
    add_to_registry(runner, ZHANG_NAME, ZHANG_ID)
    token = login_citizen()["access_token"]
    for _ in range(5):
        assert_problem(real_name(client, token, "张四", ZHANG_ID), 422, "real_name_mismatch")
    response = real_name(client, token, ZHANG_NAME, ZHANG_ID)  # right this time, but too late today
    assert_problem(response, 429, "real_name_attempts_exceeded")
    assert int(response.headers["Retry-After"]) > 3600
    assert me(client, token)["assurance_level"] == "L1"


def test_personal_data_encrypted_at_rest(app, client, runner, verified_citizen):
    user_id = me(client, verified_citizen()["access_token"])["id"]
    with db.connection_context():
        row = User.get_by_id(user_id)
        entry = RegistryEntry.get()
    columns = {
        "id_number_enc": (row.id_number_enc, ZHANG_ID),
        "phone_enc": (row.phone_enc, vectors.PHONES[0]),
        "name_enc": (row.name_enc, ZHANG_NAME),
        "registry.id_number_enc": (entry.id_number_enc, ZHANG_ID),
        "registry.name_enc": (entry.name_enc, ZHANG_NAME),
    }
    for column, (blob, plain) in columns.items():
        raw = bytes(blob)
        assert raw, column
        for encoding in ("utf-8", "utf-16-le", "gb18030"):
            assert plain.encode(encoding) not in raw, column
    for index in (row.id_number_bidx, row.phone_bidx, entry.id_number_bidx):
        assert index and ZHANG_ID not in index and vectors.PHONES[0] not in index
        assert ZHANG_ID[6:14] not in index  # not even the birth date
    cipher = app.extensions["pii"]
    assert cipher.decrypt(row.id_number_enc, "user.id_number") == ZHANG_ID
    assert cipher.decrypt(row.name_enc, "user.name") == ZHANG_NAME


def test_registry_cli_refuses_bad_number(runner):
    result = add_to_registry(runner, ZHANG_NAME, WRONG_CHECK)
    assert result.exit_code != 0
    assert "校验" in result.output
    with db.connection_context():
        assert RegistryEntry.select().count() == 0
    assert add_to_registry(runner, ZHANG_NAME, ZHANG_ID).exit_code == 0
    with db.connection_context():
        assert RegistryEntry.select().count() == 1


def test_real_name_needs_login(client):
    response = client.post("/api/v1/me/real-name", json={"name": ZHANG_NAME, "id_number": ZHANG_ID})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


# --- The production registry adapter wired into the app --------------------------------------

@pytest.fixture
def registry_server():
    fake = FakeRegistry({REG_APP_ID: REG_APP_SECRET}, {ZHANG_ID: ZHANG_NAME})
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()


def http_registry_app(make_app, url: str):
    return make_app(REGISTRY_BACKEND="http", REGISTRY_URL=url, REGISTRY_APP_ID=REG_APP_ID,
                    REGISTRY_APP_SECRET=REG_APP_SECRET)


def test_http_registry_match_gives_l2(make_app, registry_server):
    fake, server = registry_server
    client = http_registry_app(make_app, server.url).test_client()
    token = sms_login(client, vectors.PHONES[0])
    response = real_name(client, token, ZHANG_NAME, ZHANG_ID)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assurance_level"] == "L2"
    assert fake.checked == [(ZHANG_NAME, ZHANG_ID)]
    assert fake.rejections == []


def test_http_registry_mismatch(make_app, registry_server):
    fake, server = registry_server
    client = http_registry_app(make_app, server.url).test_client()
    token = sms_login(client, vectors.PHONES[0])
    assert_problem(real_name(client, token, "张四", ZHANG_ID), 422, "real_name_mismatch")
    assert_problem(real_name(client, token, LI_NAME, LI_ID), 422, "real_name_mismatch")
    assert len(fake.checked) == 2
    assert me(client, token)["assurance_level"] == "L1"


def test_http_registry_down_fails_closed(make_app):
    client = http_registry_app(make_app, "http://127.0.0.1:1").test_client()  # nothing listens there
    token = sms_login(client, vectors.PHONES[0])
    assert_problem(real_name(client, token, ZHANG_NAME, ZHANG_ID), 503, "registry_unavailable")
    assert me(client, token)["assurance_level"] == "L1"
    assert me(client, token)["real_name_verified"] is False


@pytest.mark.parametrize("mode", ["error500", "unsigned", "wrong_key", "bad_result"])
def test_http_registry_untrustworthy_answer_fails_closed(make_app, registry_server, mode):
    fake, server = registry_server
    fake.mode = mode
    client = http_registry_app(make_app, server.url).test_client()
    token = sms_login(client, vectors.PHONES[0])
    assert_problem(real_name(client, token, ZHANG_NAME, ZHANG_ID), 503, "registry_unavailable")
    assert me(client, token)["assurance_level"] == "L1"


def test_http_registry_hanging_fails_closed(make_app, registry_server):
    fake, server = registry_server
    fake.mode, fake.hang_seconds = "hang", 30
    client = http_registry_app(make_app, server.url).test_client()
    token = sms_login(client, vectors.PHONES[0])
    started = time.monotonic()
    assert_problem(real_name(client, token, ZHANG_NAME, ZHANG_ID), 503, "registry_unavailable")
    assert time.monotonic() - started < 10  # bounded by the adapter's read timeout
    fake.release.set()
    assert me(client, token)["assurance_level"] == "L1"


# --- Face liveness (L3) ----------------------------------------------------------------------

def start_liveness(client, token: str):
    return client.post("/api/v1/me/liveness", headers=bearer(token))


def confirm(client, token: str, session_id: str):
    return client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=bearer(token))


def complete(client, session_id: str, passed: bool):
    response = client.post(f"/api/v1/dev/liveness/{session_id}/complete", json={"passed": passed})
    assert response.status_code == 204
    return response


def test_liveness_needs_l2(client, login_citizen):
    token = login_citizen()["access_token"]
    assert_problem(start_liveness(client, token), 403, "assurance_level_insufficient")


def test_liveness_pass_gives_l3(client, verified_citizen):
    token = verified_citizen()["access_token"]
    started = start_liveness(client, token)
    assert started.status_code == 201, started.get_json()
    session = started.get_json()
    assert session["session_id"] and session["biz_token"]
    assert_problem(confirm(client, token, session["session_id"]), 409, "liveness_pending")
    complete(client, session["session_id"], passed=True)
    response = confirm(client, token, session["session_id"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["assurance_level"] == "L3"
    assert body["liveness_verified_at"]
    assert me(client, token)["assurance_level"] == "L3"


def test_liveness_failed(client, verified_citizen):
    token = verified_citizen()["access_token"]
    session_id = start_liveness(client, token).get_json()["session_id"]
    complete(client, session_id, passed=False)
    assert_problem(confirm(client, token, session_id), 422, "liveness_failed")
    assert me(client, token)["assurance_level"] == "L2"


def test_liveness_of_another_user_is_refused(client, verified_citizen):
    alice = verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])["access_token"]
    bob = verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"]
    session_id = start_liveness(client, alice).get_json()["session_id"]
    complete(client, session_id, passed=True)
    assert_problem(confirm(client, bob, session_id), 404, "liveness_session_not_found")
    assert me(client, bob)["assurance_level"] == "L2"
    assert me(client, bob)["liveness_verified_at"] is None
    # Bob's attempt did not spend the result: Alice still confirms her own check.
    assert confirm(client, alice, session_id).status_code == 200
    assert me(client, alice)["assurance_level"] == "L3"


def test_liveness_result_is_single_use(client, verified_citizen):
    token = verified_citizen()["access_token"]
    session_id = start_liveness(client, token).get_json()["session_id"]
    complete(client, session_id, passed=True)
    assert confirm(client, token, session_id).status_code == 200
    assert_problem(confirm(client, token, session_id), 404, "liveness_session_not_found")


def test_liveness_unknown_session(client, verified_citizen):
    token = verified_citizen()["access_token"]
    assert_problem(confirm(client, token, "lv_doesnotexist"), 404, "liveness_session_not_found")
    assert client.post("/api/v1/dev/liveness/lv_doesnotexist/complete", json={"passed": True}).status_code == 404
