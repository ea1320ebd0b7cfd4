"""Signing notices (issue 16 "Notices for everything that happens to a citizen"): a signing request
waiting (one or a batch), signed, refused, the certificate issued, about to expire (30 and 7 days)
and revoked. Each is an outbox row with zh and en texts and the deep link, and reaches the three
channels: the inbox, a live event on the citizen's Redis channel (what the SSE stream relays) and a
push to a device."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest
import time_machine

from app.audit import AuditEvent
from notify.outbox import OutboxEntry
from notify.quiet import SHANGHAI
from tests import vectors
from tests.fixtures.notify import Clock, daytime_clock, only, queued, three_channels
from tests.helpers import assert_problem, bearer, rows
from tests.signing.conftest import BASE, DOCUMENT, authorize, b64, enrol, new_request, revoke

clock = daytime_clock


@pytest.fixture
def enrolled(client, person_with_device):
    """A verified citizen (张三) with a phone for pushes, enrolled: {"user_id", "headers", "certificate"}."""
    return person_with_device | {"certificate": enrol(client, person_with_device["headers"])}


def _queued(app, kind: str) -> list[OutboxEntry]:
    return [row for row, _ in queued(app, kind)]


def _only(app, kind: str, link: str, event: str) -> tuple[OutboxEntry, dict]:
    """The one outbox row of `kind` for `event`, checked for the English and the deep link."""
    row, data = only(app, kind, link=link, event=event)
    assert data["screen"] == "signing"
    return row, data


def _channels(app, client, person, make_worker, channels, row: OutboxEntry, worker_clock=None) -> dict:
    """Run the notify worker; the notice `row` must reach the inbox, the live channel and the push
    channel. Returns the inbox item as the app reads it in English."""
    return three_channels(app, client, make_worker, channels, kind=row.kind, user_id=person["user_id"],
                          headers=person["headers"], link=json.loads(row.data)["link"], title=row.title,
                          body=row.body, worker_clock=worker_clock)


def test_certificate_issued_and_revoked_carry_the_certificate_link(app, client, enrolled, make_worker, channels):
    serial = enrolled["certificate"]["serial"]
    link = f"yiwang://signing/certificate/{serial}"
    row, data = _only(app, "signing_security", link, "enrolled")
    assert row.title == "电子签名已开通" and serial[-8:].upper() in row.body and data["serial"] == serial
    item = _channels(app, client, enrolled, make_worker, channels, row)
    assert item["title"] == data["title_en"]
    assert revoke(client, enrolled["headers"]).status_code == 200
    row, _ = _only(app, "signing_security", link, "revoked")
    assert row.title == "电子签名证书已吊销"
    _channels(app, client, enrolled, make_worker, channels, row)


def test_a_request_waiting_is_told_once_with_its_link(app, client, enrolled, make_worker, channels):
    request = new_request(client, enrolled["headers"], title="租赁合同")
    row, data = _only(app, "signing_request", f"yiwang://signing/requests/{request['id']}", "waiting")
    assert row.title == "有文件待签署" and "租赁合同" in row.body and data["request_id"] == request["id"]
    assert "张三" not in row.body + row.data and "三千" not in row.body + row.data  # no document contents
    item = _channels(app, client, enrolled, make_worker, channels, row)
    assert item["title"] == "Document waiting for your signature" and "租赁合同" in item["body"]


def test_a_batch_waiting_is_one_notice_with_the_batch_link(app, client, enrolled):
    items = [{"title": f"合同{i}", "document_b64": b64(DOCUMENT + bytes([i]))} for i in range(3)]
    response = client.post(f"{BASE}/batches", json={"items": items}, headers=enrolled["headers"])
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    row, data = _only(app, "signing_request", f"yiwang://signing/batches/{batch['id']}", "waiting")
    assert data["count"] == 3 and "3 份文件" in row.body and "合同0" in row.body
    assert len(_queued(app, "signing_request")) == 1
    answer = client.post(f"{BASE}/batches/{batch['id']}/authorize", json={"pin": "802417"},
                         headers=enrolled["headers"])
    assert answer.status_code == 200, answer.get_json()
    row, data = _only(app, "signing_signed", f"yiwang://signing/batches/{batch['id']}", "signed")
    assert data["count"] == 3 and len(_queued(app, "signing_signed")) == 1


def test_signed_is_told_once(app, client, enrolled, make_worker, channels):
    request = new_request(client, enrolled["headers"])
    assert authorize(client, enrolled["headers"], request["id"], pin="000000").status_code == 400
    assert _queued(app, "signing_signed") == []  # a wrong PIN signs nothing
    assert authorize(client, enrolled["headers"], request["id"]).status_code == 200
    assert authorize(client, enrolled["headers"], request["id"]).status_code == 409
    row, _ = _only(app, "signing_signed", f"yiwang://signing/requests/{request['id']}", "signed")
    assert row.title == "文件已签署" and "租赁合同" in row.body
    item = _channels(app, client, enrolled, make_worker, channels, row)
    assert item["title"] == "Document signed"


def test_refusing_a_pending_request(app, client, enrolled, verified_citizen, make_worker, channels):
    request = new_request(client, enrolled["headers"])
    url = f"{BASE}/requests/{request['id']}/refuse"
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert_problem(client.post(url, headers=other), 404, "signing_request_not_found")
    response = client.post(url, headers=enrolled["headers"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "refused"
    assert_problem(client.post(url, headers=enrolled["headers"]), 409, "signing_request_not_pending")
    assert authorize(client, enrolled["headers"], request["id"]).status_code == 409  # no longer signable
    assert _queued(app, "signing_signed") == []
    events = rows(app, AuditEvent, AuditEvent.action == "signing.refuse")
    assert len(events) == 1 and events[0].target == request["id"]
    row, _ = _only(app, "signing_refused", f"yiwang://signing/requests/{request['id']}", "refused")
    assert row.title == "已拒绝签署" and "租赁合同" in row.body
    item = _channels(app, client, enrolled, make_worker, channels, row)
    assert item["title"] == "Signature refused"


def test_a_signed_request_cannot_be_refused(app, client, enrolled):
    request = new_request(client, enrolled["headers"])
    assert authorize(client, enrolled["headers"], request["id"]).status_code == 200
    assert_problem(client.post(f"{BASE}/requests/{request['id']}/refuse", headers=enrolled["headers"]), 409,
                   "signing_request_not_pending")
    assert _queued(app, "signing_refused") == []


def _china(day, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def test_certificate_expiry_reminders_at_30_and_7_days_once_each(app, client, enrolled, runner, make_worker,
                                                                 channels):
    not_after = datetime.fromisoformat(enrolled["certificate"]["not_after"].replace("Z", "+00:00"))
    until = not_after.astimezone(SHANGHAI).date()
    for days_before, count in ((31, 0), (30, 1), (29, 0), (7, 1), (6, 0), (0, 0)):
        with time_machine.travel(_china(until - timedelta(days=days_before)), tick=False):
            out = runner.invoke(args=["signing", "remind-expiring"]).output
        assert f"queued {count} " in out, (days_before, out)
    found = _queued(app, "signing_cert_expiring")
    assert [json.loads(r.data)["threshold"] for r in found] == [30, 7]
    assert f"{until.year}年{until.month}月{until.day}日" in found[0].body and "30 天" in found[0].body
    assert "7 天" in found[1].body
    data = json.loads(found[1].data)
    serial = enrolled["certificate"]["serial"]
    assert data["link"] == f"yiwang://signing/certificate/{serial}" and until.isoformat() in data["body_en"]
    late = Clock(_china(until - timedelta(days=7), 10).astimezone(timezone.utc))
    item = _channels(app, client, enrolled, make_worker, channels, found[1], worker_clock=late)
    assert item["title"] == "Signing certificate expiring soon"


def test_a_revoked_certificate_gets_no_expiry_reminder(app, client, enrolled, runner):
    not_after = datetime.fromisoformat(enrolled["certificate"]["not_after"].replace("Z", "+00:00"))
    assert revoke(client, enrolled["headers"]).status_code == 200
    with time_machine.travel(_china(not_after.astimezone(SHANGHAI).date() - timedelta(days=7)), tick=False):
        assert "queued 0 " in runner.invoke(args=["signing", "remind-expiring"]).output
