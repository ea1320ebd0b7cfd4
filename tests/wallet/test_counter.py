"""Counter verification (柜台核验): one-time codes, refusals without licence data, the Redis-restart
backstop, revocation seen at once, and exactly one success under concurrent scans."""
from __future__ import annotations

import base64
import json
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine

from app import create_app
from app.audit import AuditEvent
from app.db import db
from tests import vectors
from tests.helpers import assert_problem, rows
from tests.wallet.conftest import ISSUE, MATTER, VERIFY, present
from wallet.models import Licence, Presentation, PresentationCheck

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def assert_refused(response, status: int, code: str) -> dict:
    body = assert_problem(response, status, code)
    # reason/since: why a licence is not valid and since which day (issue 16), as the detail says it
    assert set(body) <= {"type", "title", "status", "detail", "code", "request_id", "errors", "retry_after",
                         "reason", "since"}, body
    text = json.dumps({k: v for k, v in body.items() if k != "request_id"}, ensure_ascii=False)
    assert "张" not in text and "C1" not in text and "驾驶证" not in text
    return body


def test_clerk_verifies_once_and_sees_only_the_matters_fields(app, client, holder, licence, clerk):
    """The matter decides what the counter sees (issue 17): the holder chose to show the address and
    wrote a purpose, but a vehicle check shows the name (masked), the class, the validity and the
    status, and the purpose is only the holder's note."""
    shown = present(client, holder, licence["id"], fields=["name", "vehicle_class", "address"], purpose="租车")
    counter = clerk()
    response = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=counter)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["result"] == "verified" and body["purpose"] == "租车" and body["checked_at"]
    # The name is merged into `holder` (one row per fact: issue 14 item 17), as the matter shows it.
    assert body["licence"]["fields"] == {"vehicle_class": "C1"}
    assert body["licence"]["merged_fields"] == {"name": "holder.name", "valid_until": "licence.valid_until",
                                                "status": "licence.status"}
    assert {key: body["licence"][key] for key in ("identifier", "type_code", "type_name", "status", "status_label",
                                                  "valid_until")} == {
        "identifier": licence["identifier"], "type_code": "driving_licence", "type_name": "机动车驾驶证",
        "status": "01", "status_label": "有效", "valid_until": "2030-05-01"}
    assert body["licence"]["issuer"]
    assert body["holder"] == {"name_masked": "张*"}
    text = response.get_data(as_text=True)
    assert vectors.ZHANG_SAN[1] not in text and "长江中路" not in text and "张三" not in text

    assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"},
                               headers=counter), 409, "presentation_used")
    [row] = rows(app, Presentation)
    assert row.status == "used" and row.hall_code == "H1" and row.used_at is not None

    today = client.get(VERIFY, headers=counter).get_json()["items"]
    assert [i["result"] for i in today] == ["presentation_used", "verified"]
    assert today[1]["type_name"] == "机动车驾驶证" and today[1]["holder"]["name_masked"] == "张*"
    assert today[1]["fields"] == ["name", "vehicle_class", "valid_until", "status"]
    assert today[1]["matter"]["code"] == "vehicle_check" and "道路交通安全法" in today[1]["matter"]["legal_basis"]
    audits = rows(app, AuditEvent, AuditEvent.action == "wallet.presentation_verified")
    assert sorted(a.outcome for a in audits) == ["refused", "success"]
    usage = client.get("/api/v1/wallet/usage", headers=holder).get_json()["items"]
    assert [u["result"] for u in usage] == ["presentation_used", "verified"]


def test_the_identity_check_masks_the_name_and_the_id_number(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"], fields=["name", "id_number", "address"])
    body = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=clerk()).get_json()
    assert body["licence"]["fields"] == {}  # name and ID number: once each, in `holder`, masked
    assert body["licence"]["merged_fields"] == {"name": "holder.name", "id_number": "holder.id_number"}
    assert body["holder"] == {"name_masked": "张*", "id_number_masked": "3401**********1232"}


def test_only_clerks_verify(client, holder, licence, clerk, runner, machine_token):
    shown = present(client, holder, licence["id"])
    assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=holder), 403)
    assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}), 401)
    assert_problem(client.get(VERIFY, headers=holder), 403)
    assert_problem(client.post(VERIFY, json={}, headers=clerk()), 422)


def test_expired_code_is_gone(app, client, holder, licence, clerk):
    app.config["PRESENTATION_TTL"] = 1
    shown = present(client, holder, licence["id"])
    counter = clerk()
    with time_machine.travel(time.time() + 2.1):  # the code's own expiry, checked by the counter's clock
        assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter), 410,
                       "presentation_expired")
    assert rows(app, Presentation)[0].status == "expired"


def test_manual_code_works_once_and_is_rate_limited(app, client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    counter = clerk()
    ok = client.post(VERIFY, json={"manual_code": shown["manual_code"], "matter": MATTER}, headers=counter)
    assert ok.status_code == 200 and ok.get_json()["licence"]["identifier"] == licence["identifier"]
    assert_refused(client.post(VERIFY, json={"manual_code": shown["manual_code"], "matter": MATTER}, headers=counter), 409,
                   "presentation_used")
    assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter), 409,
                   "presentation_used")
    wrong = f"{(int(shown['manual_code']) + 1) % 10 ** 8:08d}"
    for _ in range(18):  # 2 + 18 = 20 lookups a minute
        assert_refused(client.post(VERIFY, json={"manual_code": wrong, "matter": MATTER}, headers=counter), 400, "presentation_invalid")
    assert_problem(client.post(VERIFY, json={"manual_code": wrong, "matter": MATTER}, headers=counter), 429, "rate_limited")
    assert_problem(client.post(VERIFY, json={"manual_code": wrong, "matter": MATTER}, headers=clerk("clerk.two")), 400)


def test_every_single_character_change_is_refused(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    text, counter = shown["qr_text"], clerk()
    assert len(text) <= 300
    # every position × every other character of the code's alphabet (base64url and the dot), plus
    # characters outside it: 47 × 69 texts, none accepted, none carrying licence data
    for position, char in enumerate(text):
        for other in ALPHABET + ".=+/ ":
            if other == char:
                continue
            tampered = text[:position] + other + text[position + 1:]
            response = client.post(VERIFY, json={"qr_text": tampered, "matter": MATTER}, headers=counter)
            assert response.status_code in (400, 409, 410), (position, other, response.status_code)
            assert_refused(response, response.status_code, response.get_json()["code"])
    assert client.post(VERIFY, json={"qr_text": text, "matter": MATTER}, headers=counter).status_code == 200


def test_a_forged_mac_and_garbage_are_invalid(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    counter = clerk()
    raw = bytearray(base64.urlsafe_b64decode(shown["qr_text"][4:] + "="))
    raw[15] ^= 1  # push the expiry by a second
    forged = "YW1." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for text in (forged, "YW1.", "hello", shown["qr_text"] + "A", shown["qr_text"][:-1], "x" * 300,
                 shown["qr_text"].lower()):
        assert_refused(client.post(VERIFY, json={"qr_text": text, "matter": MATTER}, headers=counter), 400, "presentation_invalid")
    assert_problem(client.post(VERIFY, json={"qr_text": "", "matter": MATTER}, headers=counter), 422)
    assert_problem(client.post(VERIFY, json={"qr_text": "x" * 301, "matter": MATTER}, headers=counter), 422)
    assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "manual_code": "12345678", "matter": MATTER},
                               headers=counter), 422)
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code == 200


def test_revocation_is_seen_in_the_same_second(client, issuer, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    revoked = client.post(f"{ISSUE}/{licence['id']}/revoke", json={"status_code": "07", "reason": "吊销"},
                          headers=issuer)
    assert revoked.status_code == 200
    assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=clerk()), 422,
                   "licence_not_valid")


def test_tampered_licence_signature_is_refused(app, client, issuer, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    with app.app_context(), db.connection_context():
        Licence.update(valid_until=None).where(Licence.id == licence["id"]).execute()  # not what was signed
    assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=clerk()), 422,
                   "licence_not_valid")


def test_a_used_code_put_back_into_redis_stays_used(app, client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    redis = app.extensions["redis"]
    [key] = redis.keys("wallet:pres:*")
    saved, ttl = redis.get(key), redis.ttl(key)
    counter = clerk()
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code == 200
    redis.set(key, saved, ex=ttl)  # as if Redis had been restored from before the scan
    assert_refused(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter), 409,
                   "presentation_used")
    assert len(rows(app, PresentationCheck, PresentationCheck.result == "verified")) == 1


def test_parallel_scans_in_threads_succeed_once(app, client, holder, licence, clerk):
    counter = clerk()
    for _ in range(5):
        shown = present(client, holder, licence["id"])
        barrier = threading.Barrier(25)

        def scan(_):
            scanner = app.test_client()
            barrier.wait()
            return scanner.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code

        with ThreadPoolExecutor(25) as pool:
            codes = list(pool.map(scan, range(25)))
        assert sorted(codes) == [200] + [409] * 24, codes


# --- Several processes, each its own app on the same database and Redis ------------------------

_worker = {}


def _init_worker(config: dict) -> None:
    _worker["client"] = create_app(config).test_client()


def _scan(args: tuple[str, dict, float]) -> int:
    qr_text, headers, start = args
    time.sleep(max(0.0, start - time.time()))
    return _worker["client"].post(VERIFY, json={"qr_text": qr_text, "matter": MATTER}, headers=headers).status_code


@pytest.mark.slow
def test_parallel_scans_from_several_processes_succeed_once(app, client, holder, licence, clerk, base_config):
    counter = clerk()
    context = multiprocessing.get_context("spawn")
    with context.Pool(8, initializer=_init_worker, initargs=(dict(base_config),)) as pool:
        pool.map(_scan, [("warm-up", counter, 0.0)] * 16)  # every worker has built its app
        for _ in range(20):
            shown = present(client, holder, licence["id"])
            start = time.time() + 0.05
            codes = pool.map(_scan, [(shown["qr_text"], counter, start)] * 50, chunksize=1)
            assert sorted(codes) == [200] + [409] * 49, codes
    assert len(rows(app, PresentationCheck, PresentationCheck.result == "verified")) == 20
    assert json.loads(rows(app, Presentation)[0].fields)
