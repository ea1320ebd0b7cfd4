"""Citizen API: devices, inbox, unread count, read marks, preferences, problems, OpenAPI."""
from __future__ import annotations

from notify.models import Device
from tests import vectors
from tests.helpers import assert_problem, bearer, rows

APNS = "cd" * 32


def test_device_registration_is_idempotent_and_tokens_are_not_shown(app, client, citizen):
    first = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}, headers=citizen["headers"])
    again = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}, headers=citizen["headers"])
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"] and first.get_json()["token_hint"] == "…" + APNS[-4:]
    assert APNS not in first.get_data(as_text=True)
    stored = rows(app, Device)
    assert len(stored) == 1 and APNS.encode() not in bytes(stored[0].token_enc)


def test_device_problems(client, citizen, login_citizen):
    assert_problem(client.post("/api/v1/devices", json={"platform": "apns", "token": "not-hex"},
                               headers=citizen["headers"]), 422, "device_token_invalid")
    assert_problem(client.post("/api/v1/devices", json={"platform": "pager", "token": "x"},
                               headers=citizen["headers"]), 422, "validation_failed")
    assert_problem(client.post("/api/v1/devices", json={"platform": "sms", "token": vectors.PHONES[1]},
                               headers=citizen["headers"]), 422, "device_token_invalid")
    assert client.post("/api/v1/devices", json={"platform": "sms", "token": vectors.PHONES[0]},
                       headers=citizen["headers"]).status_code == 201
    assert_problem(client.post("/api/v1/devices", json={"platform": "wechat", "token": "oNotMineOpenId00000001"},
                               headers=citizen["headers"]), 422, "device_token_invalid")
    assert_problem(client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}), 401)
    assert_problem(client.delete("/api/v1/devices/dev_nope", headers=citizen["headers"]), 404, "device_not_found")


def test_a_device_can_be_removed_only_by_its_owner(client, citizen, login_citizen):
    device = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS}, headers=citizen["headers"]).get_json()
    other = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    assert_problem(client.delete(f"/api/v1/devices/{device['id']}", headers=other), 404, "device_not_found")
    assert client.delete(f"/api/v1/devices/{device['id']}", headers=citizen["headers"]).status_code == 204


def test_inbox_pages_newest_first_counts_unread_and_marks_read(client, citizen, notice, make_worker, login_citizen):
    for n in range(5):
        notice(citizen["user_id"], title=f"通知 {n}", data={"case_id": f"case_{n}"})
    make_worker().drain()
    h = citizen["headers"]
    page = client.get("/api/v1/notifications?limit=3", headers=h).get_json()
    assert [i["title"] for i in page["items"]] == ["通知 4", "通知 3", "通知 2"] and page["next_cursor"]
    rest = client.get(f"/api/v1/notifications?limit=3&cursor={page['next_cursor']}", headers=h).get_json()
    assert [i["title"] for i in rest["items"]] == ["通知 1", "通知 0"] and rest["next_cursor"] is None
    assert page["items"][0]["data"] == {"case_id": "case_4"} and page["items"][0]["read"] is False
    assert client.get("/api/v1/notifications/unread-count", headers=h).get_json() == {"count": 5}
    read = client.post(f"/api/v1/notifications/{page['items'][0]['id']}/read", headers=h)
    assert read.status_code == 200 and read.get_json()["read"] is True
    again = client.post(f"/api/v1/notifications/{page['items'][0]['id']}/read", headers=h).get_json()
    assert again["read_at"] == read.get_json()["read_at"]
    assert client.get("/api/v1/notifications/unread-count", headers=h).get_json() == {"count": 4}
    unread = client.get("/api/v1/notifications?unread_only=true", headers=h).get_json()["items"]
    assert len(unread) == 4
    other = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    assert_problem(client.post(f"/api/v1/notifications/{page['items'][1]['id']}/read", headers=other), 404,
                   "notification_not_found")
    assert client.get("/api/v1/notifications", headers=other).get_json()["items"] == []
    assert client.post("/api/v1/notifications/read-all", headers=h).get_json() == {"updated": 4}
    assert_problem(client.get("/api/v1/notifications?cursor=abc", headers=h), 422, "cursor_invalid")
    assert_problem(client.get("/api/v1/notifications?limit=1000", headers=h), 422, "validation_failed")
    assert_problem(client.post("/api/v1/notifications/xyz/read", headers=h), 404, "notification_not_found")


def test_preferences_default_and_validation(client, citizen):
    h = citizen["headers"]
    answer = client.get("/api/v1/notifications/preferences", headers=h).get_json()
    assert answer["quiet_hours"] is True and all(answer["channels"].values())
    assert answer["quiet_hours_window"] == {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}
    assert_problem(client.put("/api/v1/notifications/preferences", json={"channels": {"pager": True}}, headers=h),
                   422, "validation_failed")
    assert_problem(client.put("/api/v1/notifications/preferences", json={"quiet_hours": "maybe"}, headers=h),
                   422, "validation_failed")
    kept = client.put("/api/v1/notifications/preferences", json={"channels": {"sms": False}}, headers=h).get_json()
    assert kept["channels"]["sms"] is False and kept["quiet_hours"] is True


def test_stream_problems_and_openapi(client, citizen):
    assert_problem(client.get("/api/v1/notifications/stream", headers={**citizen["headers"], "Last-Event-ID": "x"}),
                   422, "last_event_id_invalid")
    assert_problem(client.get("/api/v1/notifications/stream"), 401)
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/devices", "/api/v1/devices/{device_id}", "/api/v1/notifications",
                 "/api/v1/notifications/unread-count", "/api/v1/notifications/{entry_id}/read",
                 "/api/v1/notifications/stream", "/api/v1/notifications/preferences"):
        assert path in spec["paths"], path
    stream = spec["paths"]["/api/v1/notifications/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert "422" in stream["responses"] and "401" in stream["responses"]


def test_stream_replays_after_last_event_id_in_process(client, citizen, notice, make_worker):
    for n in range(3):
        notice(citizen["user_id"], title=f"通知 {n}")
    make_worker().drain()
    items = client.get("/api/v1/notifications", headers=citizen["headers"]).get_json()["items"]
    first_id = items[-1]["id"]
    response = client.get("/api/v1/notifications/stream", headers={**citizen["headers"], "Last-Event-ID": first_id},
                          buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    received = []
    while items[0]["id"] not in received:
        chunk = next(chunks)
        chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        if chunk.startswith("id: "):
            received.append(chunk.split("\n")[0][4:])
    response.close()
    # everything after Last-Event-ID, oldest first; the last two minutes are replayed too
    # (notify.inbox.RESUME_OVERLAP: live events may arrive out of id order), once each
    assert received[-2:] == [items[1]["id"], items[0]["id"]] and len(set(received)) == len(received)
