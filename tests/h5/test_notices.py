"""The H5 messages journey (消息, issue 16) on the demo data: the inbox with its unread notices, a tap
that reads a notice and opens the screen of its deep link, 全部已读, the push deep link
yiwang://notifications?id=<id>, a notice arriving live on the stream (in the page's language), and the
notification settings (push channels, categories with the locked one, quiet hours 免打扰 and their window,
the notices that cannot be muted), in Chinese and in English."""
from __future__ import annotations

import json
import re
import time

import pytest

from app.db import db, unit_of_work
from notify.outbox import enqueue
from notify.tasks import NotifyWorker
from tests.fixtures.h5 import sign_in_demo, snap, tab, text_of, visible, wait_text
from tests.helpers import bearer

pytestmark = pytest.mark.slow

CJK = re.compile(r"[\u4e00-\u9fff]")


def _unread(cdp) -> int:
    """The badge on the 消息 tab (0 when hidden)."""
    return int(cdp.js("(b => b.hidden ? 0 : Number(b.getAttribute('data-count')))(document.getElementById('unread'))"))


def _inbox(cdp) -> None:
    tab(cdp, "notices")
    cdp.wait_for("document.querySelectorAll('#notices li[data-notice]').length >= 1")


def _headers(cdp) -> dict:
    return bearer(json.loads(cdp.js("sessionStorage.getItem('yiwang.h5')"))["access"])


def _english(cdp) -> None:
    cdp.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang:'en'})); location.reload(); true")
    cdp.wait_for("document.readyState === 'complete' && !document.getElementById('login-view').hidden"
                 " && document.documentElement.lang === 'en'")


def _reload(cdp, ready: str) -> None:
    """Reload the page and wait until the new one shows `ready` (the old page must not answer)."""
    cdp.js("window.__before_reload = true; true")
    cdp.send("Page.reload")
    for _ in range(50):
        try:
            cdp.wait_for(f"!window.__before_reload && document.readyState === 'complete' && ({ready})")
            return
        except AssertionError as e:  # the old page went away under the question: ask the new one
            if "navigated or closed" not in str(e):
                raise
            time.sleep(0.1)
    raise AssertionError("the page did not come back after a reload")


def _click(cdp, selector: str) -> None:
    cdp.wait_for(f"(e => e && (e.click(), true))(document.querySelector({json.dumps(selector)}))")


def test_the_inbox_shows_the_unread_notices_and_a_tap_opens_the_notice_screen(demo, phone):
    sign_in_demo(phone)
    phone.wait_for("Number(document.getElementById('unread').getAttribute('data-count')) >= 1")
    _inbox(phone)
    unread = phone.wait_for("document.querySelectorAll('#notices li.unread').length")
    assert unread >= 1 and _unread(phone) == unread  # the badge counts what the inbox shows unread
    first = text_of(phone, "#notices li.unread")
    assert "未读" in first and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", first)  # marked, with its time
    assert phone.js("getComputedStyle(document.querySelector('#notices li.unread .title')).fontWeight") in ("700", "bold")
    assert "实时消息已连接" in wait_text(phone, "#stream-state", "已连接")
    snap(phone, "notices-inbox")

    # A case notice opens the case, a licence notice the licence; each is read now and the badge drops.
    for step, (prefix, detail) in enumerate((("yiwang://cases/", "case-detail"), ("yiwang://wallet/licences/", None)), 1):
        if step > 1:
            _inbox(phone)
        notice, link = phone.wait_for(f"(li => li && [li.getAttribute('data-notice'), li.getAttribute('data-link')])"
                                      f"(document.querySelector('#notices li.unread[data-link^=\"{prefix}\"]'))")
        _click(phone, f"#notices li[data-notice='{notice}']")
        screen = link.removeprefix("yiwang://")
        phone.wait_for(f"location.hash === {json.dumps('#/' + screen)}")
        phone.wait_for(f"!document.getElementById('{screen.split('/')[0]}-view').hidden")
        if detail:
            phone.wait_for(f"!document.getElementById('{detail}').hidden")
        phone.wait_for(f"Number(document.getElementById('unread').getAttribute('data-count')) === {unread - step}")
        snap(phone, f"notices-opened-{screen.split('/')[0]}")

    # Back in the inbox the notice is no longer bold; the push deep link of another marks that one read.
    _inbox(phone)
    phone.wait_for(f"!document.querySelector('#notices li[data-notice=\"{notice}\"]').classList.contains('unread')")
    other = phone.wait_for("(li => li && li.getAttribute('data-notice'))(document.querySelector('#notices li.unread'))")
    phone.js(f"location.href = 'yiwang://notifications?id={other}'.replace('yiwang://', '#/'); true")
    phone.wait_for(f"(li => li && li.classList.contains('highlight') && !li.classList.contains('unread'))"
                   f"(document.querySelector('#notices li[data-notice=\"{other}\"]'))")
    phone.wait_for(f"Number(document.getElementById('unread').getAttribute('data-count')) === {unread - 3}"
                   f" || ({unread - 3} === 0 && document.getElementById('unread').hidden)")
    snap(phone, "notices-push-link")


def test_read_all_clears_the_unread_notices_and_the_badge(demo, phone):
    sign_in_demo(phone)
    _inbox(phone)
    unread = phone.wait_for("document.querySelectorAll('#notices li.unread').length")
    _click(phone, "#notices-read-all")
    assert re.search(r"已将 \d+ 条消息标为已读", wait_text(phone, "#message", "标为已读"))
    phone.wait_for("document.querySelectorAll('#notices li.unread').length === 0")
    phone.wait_for("document.getElementById('unread').hidden")
    assert "未读" not in text_of(phone, "#notices") and unread >= 1
    snap(phone, "notices-read-all")
    # Still read after a reload; read-all again says there is nothing left.
    _reload(phone, "!document.getElementById('notices-view').hidden && "
                   "document.querySelectorAll('#notices li[data-notice]').length >= 1")
    assert phone.js("document.querySelectorAll('#notices li.unread').length") == 0
    _click(phone, "#notices-read-all")
    wait_text(phone, "#message", "没有未读消息")


def test_a_notice_created_while_watching_appears_at_the_top(app, demo, phone):
    user_id = sign_in_demo(phone)
    _inbox(phone)
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    before = _unread(phone)
    count = phone.js("document.querySelectorAll('#notices li[data-notice]').length")
    with app.app_context(), db.connection_context(), unit_of_work():
        enqueue(user_id=user_id, kind="system", title="系统维护通知", body="今晚 23:00 起系统维护一小时。",
                dedupe_key="h5:notices:live", data={"title_en": "Maintenance tonight", "body_en": "One hour from 23:00."})
    NotifyWorker(app).drain()
    phone.wait_for("(li => li && li.innerText.includes('系统维护通知'))(document.querySelector('#notices li[data-notice]'))")
    assert phone.js("document.querySelectorAll('#notices li[data-notice]').length") == count + 1  # no reload, no double
    assert "今晚 23:00 起系统维护一小时" in text_of(phone, "#notices li[data-notice]")
    phone.wait_for(f"document.getElementById('unread').getAttribute('data-count') === '{before + 1}'")
    assert "新消息：系统维护通知" in text_of(phone, "#message")
    snap(phone, "notices-live")


def test_preferences_are_saved_kept_after_a_reload_and_a_refused_value_is_said(app, demo, phone):
    sign_in_demo(phone)
    _inbox(phone)
    _click(phone, "#notices-settings")
    phone.wait_for("location.hash === '#/notices/preferences' && !document.getElementById('notice-prefs').hidden")
    phone.wait_for("document.querySelectorAll('#prefs-channels input[data-channel]').length >= 3")
    shown = visible(phone, "notice-prefs")
    assert "微信服务通知" in shown and "短信" in shown and "华为推送" in shown
    assert "每天 22:00 至次日 08:00（北京时间）" in shown  # the quiet hours the API keeps
    assert "不能关闭" in shown and "新设备登录" in shown  # the security notices cannot be muted
    assert phone.js("document.getElementById('prefs-quiet').checked") is True  # on by default
    snap(phone, "notices-preferences")

    # WeChat off, quiet hours off: saved with a confirmation, still so after a reload and in the API.
    phone.js("document.querySelector('#prefs-channels [data-channel=wechat]').checked = false;"
             "document.getElementById('prefs-quiet').checked = false;"
             "document.getElementById('notice-prefs').requestSubmit(); true")
    assert "通知设置已保存" in wait_text(phone, "#prefs-saved", "已保存")
    snap(phone, "notices-preferences-saved")
    _reload(phone, "!document.getElementById('notice-prefs').hidden && !document.getElementById('prefs-save').disabled")
    assert phone.js("document.querySelector('#prefs-channels [data-channel=wechat]').checked") is False
    assert phone.js("document.querySelector('#prefs-channels [data-channel=sms]').checked") is True
    assert phone.js("document.getElementById('prefs-quiet').checked") is False
    stored = app.test_client().get("/api/v1/notifications/preferences", headers=_headers(phone)).get_json()
    assert stored["channels"]["wechat"] is False and stored["quiet_hours"] is False

    # A channel this server does not know (a page older than the server): refused, said in words.
    phone.js("document.querySelector('#prefs-channels [data-channel=sms]').setAttribute('data-channel', 'pager');"
             "document.getElementById('prefs-save').scrollIntoView(); document.getElementById('prefs-save').click(); true")
    said = visible(phone, "message")
    assert "pager" not in said or CJK.search(said)
    assert CJK.search(said) and "validation_failed" not in said and "请求失败" not in said
    assert phone.js("document.getElementById('prefs-saved').hidden")
    # said where the person is looking: the message line is scrolled into the phone's screen
    phone.wait_for("(r => r.top >= 0 && r.bottom <= innerHeight)(document.getElementById('message').getBoundingClientRect())")
    snap(phone, "notices-preferences-refused")
    # Quiet hours back on.
    _reload(phone, "!document.getElementById('notice-prefs').hidden && !document.getElementById('prefs-save').disabled")
    phone.js("document.getElementById('prefs-quiet').checked = true;"
             "document.getElementById('notice-prefs').requestSubmit(); true")
    wait_text(phone, "#prefs-saved", "已保存")
    assert app.test_client().get("/api/v1/notifications/preferences",
                                 headers=_headers(phone)).get_json()["quiet_hours"] is True


def _prefs(cdp) -> None:
    _inbox(cdp)
    _click(cdp, "#notices-settings")
    cdp.wait_for("location.hash === '#/notices/preferences' && !document.getElementById('prefs-save').disabled"
                 " && document.querySelectorAll('#prefs-categories input[data-category]').length >= 6")


def _set_time(cdp, input_id: str, value: str) -> None:
    """Type a time into a type=time input as a person's picker leaves it (value + input/change events)."""
    cdp.js(f"(i => {{ i.focus(); i.value = {json.dumps(value)}; i.dispatchEvent(new Event('input', {{bubbles: true}}));"
           f" i.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})(document.getElementById('{input_id}'))")


def test_a_quiet_window_and_a_muted_category_are_kept_and_an_empty_window_is_refused(app, demo, phone):
    sign_in_demo(phone)
    _prefs(phone)
    shown = visible(phone, "notice-prefs")
    for words in ("消息类别", "证照", "签名", "办件", "预约", "亲属代办", "服务通知", "账号与安全", "不能关闭", "开始", "结束"):
        assert words in shown, (words, shown)
    # the locked category: on, not switchable, and why
    assert phone.js("(i => i.checked && i.disabled)(document.querySelector('[data-category=security]'))") is True
    assert "证照暂扣或吊销" in text_of(phone, "#prefs-categories .lock-reason")
    assert phone.js("document.getElementById('prefs-quiet-start').type") == "time"
    assert phone.js("[document.getElementById('prefs-quiet-start').value, document.getElementById('prefs-quiet-end').value]") == [
        "22:00", "08:00"]
    snap(phone, "notices-categories")

    # 22:30–07:00 and 预约 muted: saved, said, and still so after a reload (and in the API)
    _set_time(phone, "prefs-quiet-start", "22:30")
    _set_time(phone, "prefs-quiet-end", "07:00")
    _click(phone, "[data-category=appointments]")
    phone.js("document.getElementById('notice-prefs').requestSubmit(); true")
    assert "通知设置已保存" in wait_text(phone, "#prefs-saved", "已保存")
    assert "每天 22:30 至次日 07:00（北京时间）" in text_of(phone, "#prefs-window")
    _reload(phone, "!document.getElementById('notice-prefs').hidden && !document.getElementById('prefs-save').disabled"
                   " && document.querySelectorAll('#prefs-categories input[data-category]').length >= 6")
    assert phone.js("[document.getElementById('prefs-quiet-start').value, document.getElementById('prefs-quiet-end').value]") == [
        "22:30", "07:00"]
    assert phone.js("document.querySelector('[data-category=appointments]').checked") is False
    assert phone.js("document.querySelector('[data-category=cases]').checked") is True
    assert "每天 22:30 至次日 07:00" in visible(phone, "notice-prefs")
    stored = app.test_client().get("/api/v1/notifications/preferences", headers=_headers(phone)).get_json()
    assert (stored["quiet_start"], stored["quiet_end"]) == ("22:30", "07:00")
    assert {c["id"]: c["on"] for c in stored["categories"]}["appointments"] is False
    snap(phone, "notices-categories-saved")

    # a window that starts when it ends: refused by the API, said in words, nothing saved
    _set_time(phone, "prefs-quiet-end", "22:30")
    phone.js("document.getElementById('notice-prefs').requestSubmit(); true")
    said = wait_text(phone, "#message", "不能相同")
    assert "免打扰的开始时间和结束时间不能相同" in said and "quiet_hours_empty" not in said
    assert phone.js("document.getElementById('prefs-saved').hidden")
    assert app.test_client().get("/api/v1/notifications/preferences",
                                 headers=_headers(phone)).get_json()["quiet_end"] == "07:00"
    snap(phone, "notices-window-refused")


def test_the_messages_and_their_settings_in_english(app, demo, phone):
    _english(phone)
    user_id = sign_in_demo(phone)
    _inbox(phone)
    assert text_of(phone, "#notices-view h2") == "Messages"
    assert "Mark all read" in text_of(phone, "#notices-read-all")
    wait_text(phone, "#stream-state", "Live updates on")
    # A notice arriving live is read in English too (the producer gave its English).
    with app.app_context(), db.connection_context(), unit_of_work():
        enqueue(user_id=user_id, kind="system", title="系统维护通知", body="今晚 23:00 起系统维护一小时。",
                dedupe_key="h5:notices:live-en", data={"title_en": "Maintenance tonight", "body_en": "One hour from 23:00."})
    NotifyWorker(app).drain()
    phone.wait_for("(li => li && li.innerText.includes('Maintenance tonight') && li.innerText.includes('One hour from 23:00.'))"
                   "(document.querySelector('#notices li[data-notice]'))")
    # worded by the stream itself (the page asks the inbox nothing for it), and said so at the top
    assert "New message: Maintenance tonight" in text_of(phone, "#message")
    titles = phone.js("Array.from(document.querySelectorAll('#notices li[data-notice] .notice-title')).map(e => e.innerText)")
    assert any(not CJK.search(t) for t in titles), titles  # the API gives the notices' English
    assert "Unread" in text_of(phone, "#notices li.unread")
    snap(phone, "notices-inbox-en")

    _click(phone, "#notices-settings")
    phone.wait_for("document.querySelectorAll('#prefs-channels input[data-channel]').length >= 3")
    shown = visible(phone, "notice-prefs")
    for words in ("Push channels", "WeChat service messages", "Quiet hours: 22:00–08:00 (Beijing time)",
                  "cannot be switched off", "Save", "Categories", "Appointments", "Family proxies",
                  "Account and security", "Always on", "From", "Until"):
        assert words in shown, shown
    assert not CJK.search(text_of(phone, "#prefs-categories")), text_of(phone, "#prefs-categories")
    phone.js("document.querySelector('#prefs-channels [data-channel=sms]').setAttribute('data-channel', 'pager');"
             "document.getElementById('notice-prefs').requestSubmit(); true")
    said = visible(phone, "message")
    assert not CJK.search(said) and "validation_failed" not in said, said
    snap(phone, "notices-preferences-refused-en")
    _click(phone, "#prefs-back")
    phone.wait_for("location.hash === '#/notices' && !document.getElementById('notices-inbox').hidden")


def test_after_switching_to_english_in_settings_the_next_live_notice_is_english(app, demo, phone):
    """The stream is worded for its connection: the page reconnects it when its language changes."""
    user_id = sign_in_demo(phone)
    _inbox(phone)
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    tab(phone, "settings")
    _click(phone, "#lang-en")
    phone.wait_for("document.documentElement.lang === 'en'")
    _inbox(phone)
    wait_text(phone, "#stream-state", "Live updates on")
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    with app.app_context(), db.connection_context(), unit_of_work():
        enqueue(user_id=user_id, kind="system", title="系统维护通知", body="今晚 23:00 起系统维护一小时。",
                dedupe_key="h5:notices:live-switched", data={"title_en": "Maintenance tonight",
                                                              "body_en": "One hour from 23:00."})
    NotifyWorker(app).drain()
    phone.wait_for("(li => li && li.innerText.includes('Maintenance tonight'))(document.querySelector('#notices li[data-notice]'))")
    assert "系统维护" not in text_of(phone, "#notices li[data-notice]")
    assert "New message: Maintenance tonight" in text_of(phone, "#message")
    snap(phone, "notices-live-after-switch-en")
