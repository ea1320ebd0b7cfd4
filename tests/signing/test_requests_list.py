"""What a citizen's client needs to show signing requests (issue 16): the list of the citizen's own
requests (newest first, the house's cursor pagination, by status, `expired` computed from
expires_at), a batch with its documents before it is authorised, an optional refusal reason (kept
encrypted, shown on the request, never in the audit row or the logs) and who asked for each
request (`requested_by`: the citizen's own app, or a machine client by its registered name)."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from app.audit import AuditEvent
from app.db import db, utcnow
from identity.devdata import DEMO_CITIZEN
from signing import service
from signing.models import SigningRequest
from tests import vectors
from tests.helpers import assert_problem, bearer, latest_code, rows
from tests.signing.conftest import BASE, DOCUMENT, PIN, authorize, b64, enrol, new_request

REASON = "金额与约定不符，请联系张三 13800138000"


def _list(client, headers, query: str = "") -> dict:
    response = client.get(f"{BASE}/requests{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _batch(client, headers, *titles: str) -> dict:
    items = [{"title": t, "document_b64": b64(DOCUMENT + t.encode())} for t in titles]
    response = client.post(f"{BASE}/batches", json={"items": items}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _expire(app, request_id: str) -> None:
    with app.app_context(), db.connection_context():
        SigningRequest.update(expires_at=utcnow() - timedelta(seconds=1)).where(
            SigningRequest.id == request_id).execute()


def _refuse(client, headers, request_id: str, **kwargs):
    return client.post(f"{BASE}/requests/{request_id}/refuse", headers=headers, **kwargs)


class _Records(logging.Handler):
    """Every log record's message and fields, as text (the page's tests run without caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.getMessage()} {record.__dict__}")


@pytest.fixture
def log_records():
    handler, root = _Records(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler.texts
    root.removeHandler(handler)
    root.setLevel(level)


# --- The list -----------------------------------------------------------------------------------

def test_the_list_is_mine_newest_first_by_status_and_paginated(app, client, signer, verified_citizen):
    headers, _ = signer
    signed = new_request(client, headers, title="已签的合同")
    assert authorize(client, headers, signed["id"]).status_code == 200
    refused = new_request(client, headers, DOCUMENT + b"2", title="拒签的委托书")
    assert _refuse(client, headers, refused["id"]).status_code == 200
    expired = new_request(client, headers, DOCUMENT + b"3", title="过期的申请表")
    _expire(app, expired["id"])
    batch = _batch(client, headers, "批量一", "批量二")
    waiting = new_request(client, headers, DOCUMENT + b"4", title="待签的协议")

    everything = _list(client, headers)
    assert [r["title"] for r in everything["items"]] == ["待签的协议", "批量二", "批量一", "过期的申请表",
                                                        "拒签的委托书", "已签的合同"]
    assert everything["next_cursor"] is None
    by_title = {r["title"]: r for r in everything["items"]}
    assert by_title["过期的申请表"]["status"] == "expired"  # computed from expires_at; stored pending
    assert by_title["已签的合同"]["status"] == "signed" and by_title["已签的合同"]["signed_at"]
    assert by_title["拒签的委托书"]["status"] == "refused" and by_title["拒签的委托书"]["refused_at"]
    assert {by_title["批量一"]["batch_id"], by_title["批量二"]["batch_id"]} == {batch["id"]}
    assert by_title["待签的协议"] == client.get(f"{BASE}/requests/{waiting['id']}", headers=headers).get_json()

    def titles(status: str) -> list[str]:
        return [r["title"] for r in _list(client, headers, f"?status={status}")["items"]]

    assert titles("pending") == ["待签的协议", "批量二", "批量一"]
    assert titles("expired") == ["过期的申请表"]
    assert titles("signed") == ["已签的合同"]
    assert titles("refused") == ["拒签的委托书"]
    assert client.get(f"{BASE}/requests/{expired['id']}", headers=headers).get_json()["status"] == "expired"
    assert_problem(authorize(client, headers, expired["id"]), 410, "signing_request_expired")

    # Pages of two, in the same order, each row once; the last page's cursor is null.
    seen, cursor = [], None
    for _ in range(3):
        page = _list(client, headers, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["items"]) == 2
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None and seen == [r["id"] for r in everything["items"]]
    pending = _list(client, headers, "?status=pending&limit=2")
    assert [r["title"] for r in _list(client, headers, f"?status=pending&cursor={pending['next_cursor']}")["items"]] \
        == ["批量一"]

    # Another citizen's list holds none of them.
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert _list(client, other) == {"items": [], "next_cursor": None}


def test_the_list_refuses_what_it_cannot_read(client, signer):
    headers, _ = signer
    body = assert_problem(client.get(f"{BASE}/requests?status=overdue", headers=headers), 422, "validation_failed")
    assert "status" in body["errors"] and "pending" in str(body["errors"]["status"])
    assert "limit" in assert_problem(client.get(f"{BASE}/requests?limit=51", headers=headers), 422)["errors"]
    assert_problem(client.get(f"{BASE}/requests?cursor=bm90LWEtY3Vyc29y", headers=headers), 422, "cursor_invalid")
    english = client.get(f"{BASE}/requests?cursor=x", headers={**headers, "Accept-Language": "en"}).get_json()
    assert english["code"] == "cursor_invalid" and english["detail"] == "The cursor is invalid."
    assert_problem(client.get(f"{BASE}/requests"), 401)


def test_a_citizen_not_enrolled_has_an_empty_list(client, citizen):
    assert _list(client, citizen) == {"items": [], "next_cursor": None}


# --- A batch ------------------------------------------------------------------------------------

def test_a_batch_reads_with_its_documents_before_and_after_it_is_signed(app, client, signer):
    headers, _ = signer
    made = _batch(client, headers, "购房合同", "贷款合同", "抵押合同")
    url = f"{BASE}/batches/{made['id']}"
    batch = client.get(url, headers=headers).get_json()
    assert batch["id"] == made["id"] and batch["status"] == "pending"
    assert [i["title"] for i in batch["items"]] == ["购房合同", "贷款合同", "抵押合同"]  # as listed
    assert [i["e_hex"] for i in batch["items"]] == [i["e_hex"] for i in made["items"]]
    assert all(i["batch_id"] == made["id"] and i["status"] == "pending" for i in batch["items"])
    assert batch["requested_by"] == {"kind": "citizen", "name": "本人"}
    assert batch["expires_at"] == made["expires_at"] and batch["created_at"]
    assert made["status"] == "pending" and made["requested_by"] == batch["requested_by"]

    response = client.post(f"{url}/authorize", json={"pin": PIN}, headers=headers)
    assert response.status_code == 200, response.get_json()
    after = client.get(url, headers=headers).get_json()
    assert after["status"] == "signed" and {i["status"] for i in after["items"]} == {"signed"}
    assert all(i["signed_at"] for i in after["items"])

    expired = _batch(client, headers, "过期一", "过期二")
    for item in expired["items"]:
        _expire(app, item["id"])
    assert client.get(f"{BASE}/batches/{expired['id']}", headers=headers).get_json()["status"] == "expired"
    body = assert_problem(client.get(f"{BASE}/batches/sgb_nothing", headers=headers), 404, "signing_request_not_found")
    assert body["detail"] == "批量签署请求不存在。"
    english = client.get(f"{BASE}/batches/sgb_nothing", headers={**headers, "Accept-Language": "en"}).get_json()
    assert english["detail"] == "The signing request does not exist."


# --- Refusing with a reason ---------------------------------------------------------------------

def test_a_refusal_reason_is_stripped_kept_encrypted_and_shown(app, client, signer, log_records):
    headers, _ = signer
    request = new_request(client, headers)
    response = _refuse(client, headers, request["id"], json={"reason": f"  {REASON}  "})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["refusal_reason"] == REASON and response.get_json()["status"] == "refused"
    shown = client.get(f"{BASE}/requests/{request['id']}", headers=headers).get_json()
    assert shown["refusal_reason"] == REASON and shown["refused_at"] and shown["signed_at"] is None
    assert _list(client, headers, "?status=refused")["items"][0]["refusal_reason"] == REASON

    row = rows(app, SigningRequest, SigningRequest.id == request["id"])[0]
    assert row.refuse_reason_enc and REASON.encode() not in bytes(row.refuse_reason_enc)
    event = rows(app, AuditEvent, AuditEvent.action == "signing.refuse")[0]
    assert event.target == request["id"] and '"reason_given": true' in event.details
    assert "金额" not in event.details and "13800138000" not in event.details
    assert log_records and not [t for t in log_records if "金额与约定不符" in t or "13800138000" in t]


@pytest.mark.parametrize("body", [None, {}, {"reason": None}, {"reason": "   "}],
                         ids=["no-body", "empty-object", "null", "blank"])
def test_a_refusal_without_a_reason_still_works(app, client, signer, body):
    headers, _ = signer
    request = new_request(client, headers)
    response = _refuse(client, headers, request["id"], **({} if body is None else {"json": body}))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "refused" and response.get_json()["refusal_reason"] is None
    assert rows(app, SigningRequest, SigningRequest.id == request["id"])[0].refuse_reason_enc is None
    assert '"reason_given": false' in rows(app, AuditEvent, AuditEvent.action == "signing.refuse")[0].details


@pytest.mark.parametrize("reason", ["x" * 201, "第一行\n第二行", "制表\t符", "响铃\x07", "删除\x7f", "C1\x85"],
                         ids=["201-chars", "newline", "tab", "bell", "del", "c1-control"])
def test_a_refusal_reason_too_long_or_with_control_characters_is_refused(app, client, signer, reason):
    headers, _ = signer
    request = new_request(client, headers)
    body = assert_problem(_refuse(client, headers, request["id"], json={"reason": reason}), 422, "validation_failed")
    assert "reason" in body["errors"]
    assert client.get(f"{BASE}/requests/{request['id']}", headers=headers).get_json()["status"] == "pending"


def test_a_refusal_reason_of_200_characters_and_the_words_in_english(client, signer):
    headers, _ = signer
    request = new_request(client, headers)
    english = {**headers, "Accept-Language": "en"}
    answer = _refuse(client, english, request["id"], json={"reason": "a\nb"})
    body = answer.get_json()
    assert answer.status_code == 422 and body["code"] == "validation_failed"
    assert body["errors"]["reason"] == ["Must not contain line breaks or other control characters."]
    response = _refuse(client, headers, request["id"], json={"reason": "好" * 200})
    assert response.status_code == 200 and response.get_json()["refusal_reason"] == "好" * 200


def test_the_order_of_checks_on_a_refusal(client, signer, login_citizen, verified_citizen):
    """401, then 403 (an L1 citizen), then 422 (the body), then the business answer (404, 409)."""
    headers, _ = signer
    request = new_request(client, headers)
    url = f"{BASE}/requests/{request['id']}/refuse"
    bad = {"reason": "x" * 201}
    assert_problem(client.post(url, json=bad), 401)
    l1 = bearer(login_citizen(vectors.PHONES[2])["access_token"])
    assert_problem(client.post(url, json=bad, headers=l1), 403, "assurance_level_insufficient")
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert_problem(client.post(url, json=bad, headers=other), 422, "validation_failed")
    assert_problem(client.post(url, json={"reason": "不是我的"}, headers=other), 404, "signing_request_not_found")
    assert _refuse(client, headers, request["id"], json={"reason": "第一次"}).status_code == 200
    assert_problem(_refuse(client, headers, request["id"], json={"reason": "第二次"}), 409,
                   "signing_request_not_pending")
    assert client.get(f"{BASE}/requests/{request['id']}", headers=headers).get_json()["refusal_reason"] == "第一次"


# --- Who asked ----------------------------------------------------------------------------------

def test_who_asked_the_citizens_own_app_or_a_machine_client(app, client, signer, runner):
    headers, _ = signer
    mine = new_request(client, headers)
    assert mine["requested_by"] == {"kind": "citizen", "name": "本人"}
    english = client.get(f"{BASE}/requests/{mine['id']}", headers={**headers, "Accept-Language": "en"}).get_json()
    assert english["requested_by"] == {"kind": "citizen", "name": "You"}

    out = runner.invoke(args=["clients", "create", "--name", "合肥市住房公积金管理中心", "--scopes",
                              "signatures:verify"]).output
    client_id = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)["client_id"]
    user_id = client.get("/api/v1/me", headers=headers).get_json()["id"]
    with app.test_request_context():
        asked = service.create_request(user_id=user_id, title="住房公积金提取申请表", client_id=client_id,
                                       document_b64=b64(DOCUMENT + b"gjj"))
        batch = service.create_batch(user_id=user_id, client_id=client_id, items=[
            {"title": "贷款合同", "document_b64": b64(b"loan")}, {"title": "委托扣款协议", "document_b64": b64(b"debit")}])
    who = {"kind": "client", "name": "合肥市住房公积金管理中心"}
    assert asked["requested_by"] == who and batch["requested_by"] == who
    assert client.get(f"{BASE}/requests/{asked['id']}", headers=headers).get_json()["requested_by"] == who
    assert client.get(f"{BASE}/requests/{asked['id']}", headers={**headers, "Accept-Language": "en"}
                      ).get_json()["requested_by"] == who  # a registered name is not translated
    assert client.get(f"{BASE}/batches/{batch['id']}", headers=headers).get_json()["requested_by"] == who
    assert [r["requested_by"]["kind"] for r in _list(client, headers)["items"]] == ["client", "client", "client",
                                                                                    "citizen"]
    event = rows(app, AuditEvent, AuditEvent.action == "signing.request", AuditEvent.target == asked["id"])[0]
    assert (event.actor_kind, event.actor_id) == ("client", client_id) and user_id in event.details
    event = rows(app, AuditEvent, AuditEvent.action == "signing.request", AuditEvent.target == mine["id"])[0]
    assert (event.actor_kind, event.actor_id) == ("citizen", user_id)


# --- The contract ------------------------------------------------------------------------------

def test_the_openapi_document_states_the_constraints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    listing = {p["name"]: p["schema"] for p in paths["/api/v1/signing/requests"]["get"]["parameters"]}
    assert [s for s in listing["status"]["enum"] if s] == ["pending", "signed", "refused", "expired"]
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 50)
    assert listing["cursor"]["maxLength"] == 256
    assert {"401", "422"} <= set(paths["/api/v1/signing/requests"]["get"]["responses"])
    assert {"401", "404"} <= set(paths["/api/v1/signing/batches/{batch_id}"]["get"]["responses"])

    refuse = paths["/api/v1/signing/requests/{request_id}/refuse"]["post"]
    assert not refuse["requestBody"].get("required", False)
    ref = refuse["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    reason = spec["components"]["schemas"][ref]["properties"]["reason"]
    assert reason["maxLength"] == 200 and reason["pattern"] and reason.get("nullable") is True
    assert {"401", "403", "404", "409", "422"} <= set(refuse["responses"])

    request = spec["components"]["schemas"]["SigningRequest"]["properties"]
    assert {"requested_by", "refusal_reason", "refused_at", "signed_at"} <= set(request)
    assert {"requested_by", "status", "items"} <= set(spec["components"]["schemas"]["Batch"]["properties"])


def test_an_enrolled_citizen_may_list_before_any_request(client, citizen):
    enrol(client, citizen)
    assert _list(client, citizen, "?status=pending") == {"items": [], "next_cursor": None}


def test_the_demos_requests_name_the_departments_that_asked(app, client, runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert client.post("/api/v1/auth/sms-codes", json={"phone": DEMO_CITIZEN[0]}).status_code == 202
    login = client.post("/api/v1/auth/login",
                        json={"phone": DEMO_CITIZEN[0], "code": latest_code(client, DEMO_CITIZEN[0])})
    waiting = _list(client, bearer(login.get_json()["access_token"]), "?status=pending")["items"]
    assert [(r["title"], r["requested_by"]) for r in waiting] == [
        ("住房公积金提取申请表（演示）", {"kind": "client", "name": "合肥市住房公积金管理中心"}),
        ("房屋租赁合同（演示）", {"kind": "client", "name": "合肥市住房保障和房产管理局"})]
