"""The H5 home screen on the demo data (issue 16): the demo citizen's licences, cases and unread
messages; the services grid opening each journey; elderly mode (大字版) a simpler home in larger type."""
from __future__ import annotations

import json
import re

from tests.fixtures.h5 import sign_in_demo, snap, tab, text_of, wait_text

GRID = ["wallet", "signing", "halls", "appointments", "cases", "proxies", "settings"]


def services(cdp) -> list[list[str]]:
    """The services grid as a person sees it: [[route, words], …]."""
    return cdp.js("Array.from(document.querySelectorAll('#home-services button'))"
                  ".map(b => [b.getAttribute('data-go'), b.innerText])")


def box(cdp, selector: str) -> dict:
    return cdp.js(f"(r => ({{w: r.width, h: r.height}}))(document.querySelector({json.dumps(selector)}).getBoundingClientRect())")


def home_loaded(cdp) -> None:
    cdp.wait_for("!document.getElementById('home-view').hidden && document.querySelectorAll('#home-services button').length")


def test_home_shows_the_demo_licences_cases_and_unread(demo, phone):
    sign_in_demo(phone)
    licences = phone.wait_for("(t => t.includes('营业执照') && t)(document.getElementById('home-licences').innerText)")
    assert "居民身份证" in licences and "机动车驾驶证" in licences and "暂扣" in licences  # one of the three suspended
    cases = text_of(phone, "#home-cases")
    assert re.search(r"DEMO-2026-000\d", cases) and "暂无办理中的事项" not in cases
    assert len(phone.js("Array.from(document.querySelectorAll('#home-cases li'))")) == 3
    halls = text_of(phone, "#home-halls")
    assert "附近暂无开放的网点" in halls or "米" in halls or "公里" in halls
    # The unread messages: the tab's badge and a line on the profile card that opens them.
    count = int(phone.wait_for("(b => !b.hidden && b.getAttribute('data-count'))(document.getElementById('unread'))"))
    assert count > 0
    profile = text_of(phone, "#profile")
    assert "王*，您好" in profile and "L2" in profile and f"您有 {count} 条未读消息" in profile
    assert [go for go, _ in services(phone)] == GRID
    assert [words for _, words in services(phone)] == ["证照", "签名", "网点", "预约", "办件", "亲属代办", "设置"]
    assert phone.js("innerWidth") == 390 and phone.js("document.documentElement.scrollWidth") <= 390
    snap(phone, "home-standard")
    phone.js("document.getElementById('home-unread').click(); true")
    phone.wait_for("!document.getElementById('notices-view').hidden")
    assert phone.js("document.querySelector('#tabs [data-view=notices]').classList.contains('active')")
    # A licence on the home screen opens it in the wallet.
    tab(phone, "home")
    phone.wait_for("!!document.querySelector('#home-licences li.tap')")
    phone.js("document.querySelector('#home-licences li.tap').click(); true")
    phone.wait_for("!document.getElementById('wallet-view').hidden")
    assert location_hash(phone).startswith("#/wallet/licences/")


def location_hash(cdp) -> str:
    return cdp.js("location.hash")


def test_the_services_grid_opens_each_journey(demo, phone):
    sign_in_demo(phone)
    for go in GRID:
        tab(phone, "home")
        home_loaded(phone)
        phone.js(f"document.querySelector('#home-services [data-go={go}]').click(); true")
        phone.wait_for(f"!document.getElementById('{go}-view').hidden && location.hash === '#/{go}'")
        assert phone.js("document.querySelectorAll('main > section.view:not([hidden])').length") == 1
    assert phone.js("document.querySelector('#tabs [data-view=settings]').classList.contains('active')")
    tab(phone, "home")
    home_loaded(phone)
    snap(phone, "home-grid")


def test_elderly_home_is_simpler_and_larger(demo, phone):
    sign_in_demo(phone)
    home_loaded(phone)
    phone.wait_for("document.querySelectorAll('#home-licences li').length >= 3")
    standard = {"font": phone.js("getComputedStyle(document.documentElement).fontSize"),
                "tile": box(phone, "#home-services button")}
    # Elderly mode on (the settings' switch), back to the home screen.
    tab(phone, "settings")
    phone.js("document.getElementById('elderly-toggle').click(); true")
    wait_text(phone, "#message", "已开启大字版")
    tab(phone, "home")
    phone.wait_for("document.getElementById('home-services').classList.contains('big')")
    assert phone.js("document.documentElement.classList.contains('elderly')")
    assert float(phone.js("getComputedStyle(document.documentElement).fontSize")[:-2]) >= 1.25 * float(standard["font"][:-2])
    # Four big entries saying what waits there; no secondary lists.
    entries = services(phone)
    assert [go for go, _ in entries] == ["wallet", "cases", "halls", "settings"]
    assert [words.split("\n")[0] for _, words in entries] == ["亮证", "办件", "网点", "设置"]
    assert "3 张证照" in entries[0][1] and "件办理中" in entries[1][1]
    assert phone.js("document.getElementById('home-lists').hidden")
    assert phone.js("document.getElementById('home-licences').offsetParent") is None
    big = box(phone, "#home-services button")
    assert big["h"] >= 1.5 * standard["tile"]["h"] and big["w"] >= 1.5 * standard["tile"]["w"]
    assert big["h"] >= 60  # 适老化: large touch targets
    assert "大字版" in text_of(phone, "#profile")
    snap(phone, "home-elderly")
    phone.js("document.querySelector('#home-services [data-go=wallet]').click(); true")
    phone.wait_for("!document.getElementById('wallet-view').hidden")
