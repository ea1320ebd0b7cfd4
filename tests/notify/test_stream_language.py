"""Issue 16: notices in the reader's language. The worker publishes each notice once, with both texts;
every live stream (the Flask route and the stream server) words it in its connection's language
(Accept-Language), live and when resuming; a device registered with `locale: en` gets its pushes in
English, the others in Chinese (zh-CN, the default)."""
from __future__ import annotations

import json

import pytest

from notify.inbox import bilingual_item, for_reader
from notify.sse import StreamState
from tests.helpers import assert_problem
from tests.notify.test_stream_server import RunningStreamServer, Sse
from tests.notify.test_worker import APNS, FCM, _device

STREAM = "/api/v1/notifications/stream"
ENGLISH = {"title_en": "Case update: accepted", "body_en": "Your application has been accepted."}


def _live(notice, user_id: str, **kw) -> None:
    notice(user_id, title="办件进度：已受理", body="您办理的事项已受理。", data={"link": "yiwang://cases/1", **ENGLISH}, **kw)


def _events(response, wanted: int, limit: int = 30) -> list[dict]:
    """The first `wanted` notification events of a Flask stream response (at most `limit` chunks)."""
    chunks, found = iter(response.response), []
    for _ in range(limit):
        chunk = next(chunks)
        chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        if "event: notification" in chunk:
            found.append(json.loads(chunk.split("data: ", 1)[1]))
            if len(found) == wanted:
                break
    return found


def test_the_stream_speaks_its_connections_language_live(client, citizen, notice, make_worker):
    english = client.get(STREAM, headers={**citizen["headers"], "Accept-Language": "en-GB,en;q=0.9"}, buffered=False)
    chinese = client.get(STREAM, headers={**citizen["headers"], "Accept-Language": "zh-CN"}, buffered=False)
    try:
        assert english.status_code == chinese.status_code == 200
        _live(notice, citizen["user_id"])
        notice(citizen["user_id"], title="系统维护通知", body="今晚系统维护。", kind="system")  # no English given
        make_worker().drain()
        got_en, got_zh = _events(english, 2), _events(chinese, 2)
    finally:
        english.close()
        chinese.close()
    assert [(e["title"], e["body"]) for e in got_en] == [(ENGLISH["title_en"], ENGLISH["body_en"]),
                                                         ("系统维护通知", "今晚系统维护。")]
    assert [e["title"] for e in got_zh] == ["办件进度：已受理", "系统维护通知"]
    for event in got_en + got_zh:  # the public item: no second language, no English left in data
        assert "en" not in event and "title_en" not in event["data"] and "body_en" not in event["data"]
        assert set(event) == {"id", "kind", "title", "body", "data", "urgent", "created_at", "read", "read_at"}
    assert got_en[0]["data"] == {"link": "yiwang://cases/1"} and got_en[0]["id"] == got_zh[0]["id"]


def test_a_resumed_stream_replays_in_its_language_as_the_inbox_answers(client, citizen, notice, make_worker):
    _live(notice, citizen["user_id"])
    make_worker().drain()
    headers = {**citizen["headers"], "Accept-Language": "en"}
    inbox = client.get("/api/v1/notifications", headers=headers).get_json()["items"][0]
    response = client.get(STREAM, headers={**headers, "Last-Event-ID": "0"}, buffered=False)
    try:
        (event,) = _events(response, 1)
    finally:
        response.close()
    assert event == inbox and event["title"] == "Case update: accepted"


def test_the_published_event_carries_both_texts_and_each_reader_takes_its_own():
    row = (7, 70, "u1", "case_status", "办件进度：已受理", "您办理的事项已受理。",
           json.dumps({"link": "yiwang://cases/1", **ENGLISH}), False, "2026-12-06T01:00:00", None)
    item = bilingual_item(row)
    assert item["title"] == "办件进度：已受理" and item["en"] == {"title": ENGLISH["title_en"], "body": ENGLISH["body_en"]}
    assert for_reader(item, "en")["body"] == ENGLISH["body_en"] and "en" not in for_reader(item, "zh-CN")
    state = StreamState(user_id="u1", session_id=None, stream_id="s", last=0, lang="en")
    chunk, _ = state.handle({"type": "message", "channel": "notify:user:u1", "data": json.dumps(item)})
    assert '"title":"Case update: accepted"' in chunk and '"en":' not in chunk
    # an event published before this change (one language only) is sent as it is
    old = {k: v for k, v in item.items() if k != "en"} | {"id": "8"}
    chunk, _ = state.handle({"type": "message", "channel": "notify:user:u1", "data": json.dumps(old)})
    assert '"title":"办件进度：已受理"' in chunk


def test_the_stream_server_speaks_its_connections_language(app, client, citizen, notice, make_worker):
    with RunningStreamServer(app) as server:
        english = Sse(server.url, {**citizen["headers"], "Accept-Language": "en"})
        chinese = Sse(server.url, citizen["headers"])
        try:
            # the streams have subscribed once the server answered their headers
            _live(notice, citizen["user_id"])
            make_worker().drain()
            kind_en, data_en, _ = english.next_event()
            kind_zh, data_zh, _ = chinese.next_event()
        finally:
            english.close()
            chinese.close()
    assert kind_en == kind_zh == "notification"
    assert data_en["title"] == ENGLISH["title_en"] and data_zh["title"] == "办件进度：已受理"
    assert "en" not in data_en and "title_en" not in data_en["data"]


def test_a_device_registered_in_english_gets_its_pushes_in_english(app, client, citizen, notice, make_worker,
                                                                    channels):
    h = citizen["headers"]
    created = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS, "locale": "en"}, headers=h)
    assert created.status_code == 201 and created.get_json()["locale"] == "en"
    _device(client, citizen, "fcm", FCM)  # no locale: zh-CN
    assert {d["platform"]: d["locale"] for d in client.get("/api/v1/devices", headers=h).get_json()["items"]} == {
        "apns": "en", "fcm": "zh-CN"}
    _live(notice, citizen["user_id"])
    notice(citizen["user_id"], title="系统维护通知", body="今晚系统维护。", kind="system")  # no English: Chinese
    make_worker().drain()
    apns = [(m.title, m.body) for _, m in channels["apns"].sent if m.kind != "new_device"]
    fcm = [(m.title, m.body) for _, m in channels["fcm"].sent if m.kind != "new_device"]
    assert apns == [(ENGLISH["title_en"], ENGLISH["body_en"]), ("系统维护通知", "今晚系统维护。")]
    assert fcm == [("办件进度：已受理", "您办理的事项已受理。"), ("系统维护通知", "今晚系统维护。")]
    assert all("title_en" not in m.data and m.data["link"] == "yiwang://cases/1"
               for _, m in channels["apns"].sent if m.kind == "case_status")
    # the same token registered again in Chinese: its pushes follow
    again = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS, "locale": "zh-CN"}, headers=h)
    assert again.status_code == 200 and again.get_json()["locale"] == "zh-CN"
    _live(notice, citizen["user_id"])
    make_worker().drain()
    assert channels["apns"].sent[-1][1].title == "办件进度：已受理"


@pytest.mark.parametrize("locale", ["fr", "en-US", "", 1])
def test_a_locale_outside_the_languages_is_refused(client, citizen, locale):
    body = assert_problem(client.post("/api/v1/devices", json={"platform": "apns", "token": APNS, "locale": locale},
                                      headers=citizen["headers"]), 422, "validation_failed")
    assert "locale" in json.dumps(body.get("errors", body))
