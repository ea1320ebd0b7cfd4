"""Licence notices (issue 16 "Notices for everything that happens to a citizen"): issued (and
attached after parking), used, suspended, revoked, about to expire (30 and 7 days). Each is an
outbox row with zh and en texts and the deep link, and reaches the three channels: the inbox, a
live event on the holder's Redis channel (what the SSE stream relays) and a push to a device."""
from __future__ import annotations

import json
from datetime import datetime, time, timezone

import pytest
import time_machine

from notify.models import InboxEntry
from notify.outbox import OutboxEntry
from notify.quiet import SHANGHAI
from tests import vectors
from tests.fixtures.halls import hall
from tests.fixtures.notify import PUSH_TOKEN, Clock, daytime_clock, only, queued, register_device, three_channels
from tests.helpers import bearer, rows
from tests.wallet.conftest import ISSUE, MATTER, VERIFY, issue, issue_body, present

clock = daytime_clock


@pytest.fixture
def person(verified_citizen):
    """The verified holder: {"user_id", "headers"} (`register_device` gives them a phone for pushes)."""
    tokens = verified_citizen(vectors.ZHANG_SAN)
    return {"user_id": tokens["user"]["id"], "headers": bearer(tokens["access_token"])}


def _queued(app, kind: str) -> list[OutboxEntry]:
    return [row for row, _ in queued(app, kind)]


def _only(app, kind: str, licence_id: str) -> tuple[OutboxEntry, dict]:
    """The one outbox row of `kind`, checked for the English and the deep link; (row, data)."""
    row, data = only(app, kind, link=f"yiwang://wallet/licences/{licence_id}")
    assert (data["screen"], data["licence_id"]) == ("wallet", licence_id)
    return row, data


def _channels(app, client, person, make_worker, channels, kind: str) -> dict:
    """Run the notify worker; the notice of `kind` must reach the inbox, the live channel and the
    push channel. Returns the inbox item as the app reads it in English."""
    return three_channels(app, client, make_worker, channels, kind=kind, user_id=person["user_id"],
                          headers=person["headers"], link_prefix="yiwang://wallet/licences/")


def test_issued_to_a_verified_holder_notifies_once(app, client, issuer, person, make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer)
    row, data = _only(app, "licence_issued", licence["id"])
    assert row.user_id == person["user_id"] and row.title == "新证照已入夹"
    assert "机动车驾驶证" in row.body and "Motor vehicle driving licence" in data["body_en"]
    issue(client, issuer, status=200)  # the issuer retries: the same licence, no second notice
    assert len(_queued(app, "licence_issued")) == 1
    item = _channels(app, client, person, make_worker, channels, "licence_issued")
    assert item["title"] == "New licence in your wallet"


def test_a_parked_licence_is_notified_when_attached(app, client, issuer, verified_citizen):
    licence = issue(client, issuer)  # the holder has no account yet: parked, nobody to tell
    assert licence["parked"] and _queued(app, "licence_issued") == []
    tokens = verified_citizen(vectors.ZHANG_SAN)
    row, _ = _only(app, "licence_issued", licence["id"])
    assert row.user_id == tokens["user"]["id"]


def test_a_licence_suspended_while_parked_is_told_as_suspended_when_attached(app, client, issuer, verified_citizen):
    licence = issue(client, issuer)
    url = f"{ISSUE}/{licence['id']}/revoke"
    assert client.post(url, json={"status_code": "02", "reason": "暂扣"}, headers=issuer).status_code == 200
    assert _queued(app, "licence_suspended") == []  # parked: nobody to tell yet
    verified_citizen(vectors.ZHANG_SAN)
    _only(app, "licence_suspended", licence["id"])
    assert _queued(app, "licence_issued") == []  # not "ready to show": it is suspended


def test_used_names_who_where_what_for_and_which_fields_never_the_values(app, client, issuer, person, clerk,
                                                                        make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer)
    shown = present(client, person["headers"], licence["id"], fields=["name", "id_number", "vehicle_class",
                                                                       "address"], purpose="租车")
    verified = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=clerk())
    assert verified.status_code == 200
    row, data = _only(app, "licence_used", licence["id"])
    assert row.title == "证照已被核验"
    for said in ("clerk.one", "H1", "驾驶资格核查", "姓名", "准驾车型", "有效期止"):
        assert said in row.body, said
    assert "住址" not in row.body and "租车" not in row.body  # the matter's fields; the purpose decides nothing
    assert data["fields"] == ["name", "vehicle_class", "valid_until", "status"]
    assert data["title_en"] == "Licence verified" and "clerk.one" in data["body_en"] and "H1" in data["body_en"]
    assert "Driving entitlement check" in data["body_en"]
    name, id_number = vectors.ZHANG_SAN
    everything = row.title + row.body + row.data
    for value in (name, id_number, "长江中路", "C1"):
        assert value not in everything, value
    item = _channels(app, client, person, make_worker, channels, "licence_used")
    assert item["title"] == "Licence verified" and "Permitted vehicle class" in item["body"]
    pushed = channels["apns"].sent[-1][1]
    assert name not in pushed.body + pushed.title and id_number not in pushed.body


def test_suspended_then_revoked(app, client, issuer, person, make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer)
    url = f"{ISSUE}/{licence['id']}/revoke"
    assert client.post(url, json={"status_code": "02", "reason": "违法记分满12分"}, headers=issuer).status_code == 200
    row, data = _only(app, "licence_suspended", licence["id"])
    assert "暂扣" in row.body and "违法记分" not in row.body and data["status"] == "02"
    assert _channels(app, client, person, make_worker, channels, "licence_suspended")["title"] == "Licence suspended"
    assert client.post(url, json={"status_code": "07", "reason": "吊销"}, headers=issuer).status_code == 200
    row, data = _only(app, "licence_revoked", licence["id"])
    assert row.title == "证照状态变更：吊销" and data["title_en"] == "Licence status: Revoked"
    item = _channels(app, client, person, make_worker, channels, "licence_revoked")
    assert "can no longer be shown" in item["body"]


def test_restoring_a_suspended_licence_tells_the_holder_through_the_three_channels(app, client, issuer, person,
                                                                                  make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer)
    url = f"{ISSUE}/{licence['id']}/status"
    assert client.post(url, json={"status_code": "02", "reason": "暂扣"}, headers=issuer).status_code == 200
    assert _queued(app, "licence_restored") == []
    restored = client.post(url, json={"status_code": "01", "reason": "暂扣期满，解除暂扣"}, headers=issuer)
    assert restored.status_code == 200, restored.get_json()
    row, data = _only(app, "licence_restored", licence["id"])
    assert row.title == "证照已恢复有效" and "解除暂扣" in row.body and "恢复有效" in row.body
    assert "暂扣期满" not in row.body and data["status"] == "01"  # the department's words stay in the detail
    assert data["title_en"] == "Licence valid again" and "valid again" in data["body_en"]
    item = _channels(app, client, person, make_worker, channels, "licence_restored")
    assert item["title"] == "Licence valid again" and "lifted the suspension" in item["body"]


def test_a_reissue_tells_the_holder_the_new_version(app, client, issuer, person, make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer)
    url = f"{ISSUE}/{licence['id']}/reissue"
    assert client.post(url, json={"kind": "reissue", "reason": "遗失补领"}, headers=issuer).status_code == 200
    row, data = only(app, "licence_issued", link=f"yiwang://wallet/licences/{licence['id']}", event="reissue")
    assert row.title == "证照已补领" and "第 2 版" in row.body and data["version"] == 2
    assert data["identifier"].split(".")[-2] == "002" and data["title_en"] == "Licence re-issued"
    item = three_channels(app, client, make_worker, channels, kind="licence_issued", user_id=person["user_id"],
                          headers=person["headers"], title="证照已补领", link=f"yiwang://wallet/licences/{licence['id']}")
    assert item["title"] == "Licence re-issued" and "version 2" in item["body"]


def _china(day: str, hour: int = 9) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), tzinfo=SHANGHAI)


def test_expiry_reminders_at_30_and_7_days_once_each(app, client, issuer, person, runner, make_worker, channels):
    register_device(client, app, person["headers"])
    licence = issue(client, issuer, issue_body(valid_until="2030-05-01"))
    for day, count in (("2030-03-31", 0), ("2030-04-01", 1), ("2030-04-02", 0), ("2030-04-24", 1),
                        ("2030-04-25", 0), ("2030-05-01", 0)):
        with time_machine.travel(_china(day), tick=False):
            out = runner.invoke(args=["wallet", "remind-expiring"]).output
        assert f"queued {count} " in out, (day, out)
    found = _queued(app, "licence_expiring")
    assert [json.loads(r.data)["threshold"] for r in found] == [30, 7]
    assert "2030年5月1日" in found[0].body and "30 天" in found[0].body and "7 天" in found[1].body
    data = json.loads(found[1].data)
    assert data["link"] == f"yiwang://wallet/licences/{licence['id']}" and "2030-05-01" in data["body_en"]
    late = Clock(_china("2030-04-24", 10).astimezone(timezone.utc))
    make_worker(clock=late).drain()
    entries = rows(app, InboxEntry, InboxEntry.kind == "licence_expiring")
    assert len(entries) == 2
    assert len([m for t, m in channels["apns"].sent if t == PUSH_TOKEN and m.title == "证照即将到期"]) == 2


def test_a_licence_not_yet_in_a_wallet_gets_no_expiry_reminder(app, client, issuer, runner):
    issue(client, issuer, issue_body(valid_until="2030-05-01"))  # parked: nobody to tell
    with time_machine.travel(_china("2030-04-24"), tick=False):
        assert "queued 0 " in runner.invoke(args=["wallet", "remind-expiring"]).output


def test_used_says_the_halls_name_when_the_directory_knows_it(app, client, issuer, person, clerk, load_halls):
    """The citizen reads where: the hall's name from the service map, not its code (the code stays in
    `hall` of the usage record, the name beside it in `hall_name`)."""
    load_halls([hall("H1", name="蜀山区政务服务中心")])
    licence = issue(client, issuer)
    shown = present(client, person["headers"], licence["id"], fields=["name"], purpose="租车")
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=clerk()).status_code == 200
    row, data = _only(app, "licence_used", licence["id"])
    assert "蜀山区政务服务中心" in row.body and "“蜀山区政务服务中心”" in data["body_en"] and "H1" not in row.body
    assert (data["hall"], data["hall_name"]) == ("H1", "蜀山区政务服务中心")
    usage = client.get("/api/v1/wallet/usage", headers=person["headers"]).get_json()["items"]
    assert [(u["hall"], u["hall_name"]) for u in usage] == [("H1", "蜀山区政务服务中心")]
