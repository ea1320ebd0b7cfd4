"""The H5 settings (我的) on the demo data (issue 16): the account, English for the whole page (home,
tabs, a problem's detail), elderly mode, and both remembered by the account: signed out, on a fresh
tab (another device), signed in again, the page is in English and in large type at once."""
from __future__ import annotations

import re

import pytest

from identity.devdata import DEMO_CITIZEN
from tests.fixtures.h5 import H5_SETTINGS, sign_in_demo, snap, tab, text_of, visible, wait_text

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def app(make_app):
    """The demo citizen signs in twice in a test: no wait before a second code."""
    return make_app(**H5_SETTINGS, SMS_RESEND_COOLDOWN=0)


def tabs(cdp) -> list[str]:
    return cdp.js("Array.from(document.querySelectorAll('#tabs button')).map(b => b.innerText.replace(/\\d+$/, '').trim())")


def settings_open(cdp) -> str:
    tab(cdp, "settings")
    return visible(cdp, "settings-account")


def sign_out_from_settings(cdp) -> None:
    settings_open(cdp)
    cdp.js("document.getElementById('settings-logout').click(); true")
    cdp.wait_for("!document.getElementById('login-view').hidden && document.getElementById('tabs').hidden")


def test_the_account_and_english_for_the_whole_page(demo, phone):
    sign_in_demo(phone)
    account = settings_open(phone)
    assert "王*" in account and "138****0101" in account and "L2 · 已实名认证" in account
    page = text_of(phone, "#settings-view")
    for words in ("语言", "大字版（长辈模式）", "通知设置", "亲属代办", "退出登录"):
        assert words in page
    assert phone.js("document.getElementById('lang-zh').getAttribute('aria-pressed')") == "true"
    snap(phone, "settings-zh")
    # English: the page changes at once, tabs and header included.
    phone.js("document.getElementById('lang-en').click(); true")
    wait_text(phone, "#message", "Switched to English and saved to your account.")
    page = wait_text(phone, "#settings-view", "Language")
    assert not CJK.search(page.replace("中文", "").replace("王*", "")), page  # data, and the Chinese choice in Chinese
    assert "Level L2 · Real name verified" in page and "Sign out" in page and "Notification settings" in page
    assert phone.js("document.getElementById('lang-en').getAttribute('aria-pressed')") == "true"
    assert tabs(phone) == ["Home", "Licences", "Cases", "Messages", "Me"]
    assert text_of(phone, "#title") == "YiWang" and phone.js("document.documentElement.lang") == "en"
    snap(phone, "settings-en")
    tab(phone, "home")
    home = wait_text(phone, "#home-view", "Motor vehicle driving licence")
    assert "王*, hello" in home and "Level L2" in home and "unread" in home
    for words in ("My licences", "In progress", "Open nearby", "Licences", "Signing", "Halls", "Booking", "Family"):
        assert words in home
    assert not CJK.search(text_of(phone, "#home-services") + text_of(phone, "#profile").replace("王*", ""))
    snap(phone, "settings-home-en")
    # The links: notification preferences (the notices view's screen) and family proxies.
    tab(phone, "settings")
    phone.js("document.querySelector('#settings-links [data-go=\"notices/preferences\"]').click(); true")
    phone.wait_for("!document.getElementById('notices-view').hidden && location.hash === '#/notices/preferences'")
    tab(phone, "settings")
    phone.js("document.querySelector('#settings-links [data-go=proxies]').click(); true")
    phone.wait_for("!document.getElementById('proxies-view').hidden")
    # Signed out, the login screen stays in English; a problem's detail comes in English.
    sign_out_from_settings(phone)
    assert "You have signed out." in text_of(phone, "#message")
    assert "Sign in with your phone" in text_of(phone, "#login-view")
    phone.js(f"document.getElementById('phone').value = '{DEMO_CITIZEN[0]}';"
             "document.getElementById('phone-form').requestSubmit(); true")
    visible(phone, "dev-code")
    phone.wait_for("document.getElementById('code').value")
    wrong = "000000" if phone.js("document.getElementById('code').value") != "000000" else "999999"
    phone.js(f"document.getElementById('code').value = '{wrong}'; document.getElementById('code-form').requestSubmit(); true")
    said = wait_text(phone, "#message", "The verification code is wrong")
    assert not CJK.search(said) and "sms_code_invalid" not in said
    snap(phone, "settings-problem-en")


def test_language_and_elderly_mode_follow_the_account(demo, phone):
    sign_in_demo(phone)
    settings_open(phone)
    phone.js("document.getElementById('lang-en').click(); true")
    wait_text(phone, "#message", "saved to your account")
    phone.js("document.getElementById('elderly-toggle').click(); true")
    wait_text(phone, "#message", "Large type is on.")
    assert phone.js("document.documentElement.classList.contains('elderly')")
    assert phone.js("document.getElementById('elderly-toggle').checked")
    snap(phone, "settings-elderly-en")
    sign_out_from_settings(phone)
    # Another device: a fresh tab knows nothing of this account (Chinese, standard type) …
    phone.js("window.before = true; sessionStorage.clear(); location.reload(); true")
    phone.wait_for("!window.before && document.readyState === 'complete' && !document.getElementById('login-view').hidden")
    assert phone.js("document.documentElement.lang") == "zh-CN"
    assert not phone.js("document.documentElement.classList.contains('elderly')")
    assert "手机号登录" in text_of(phone, "#login-view")
    # … until the citizen signs in: the account's language and large type at once.
    sign_in_demo(phone)
    phone.wait_for("document.documentElement.lang === 'en' && document.documentElement.classList.contains('elderly')")
    home = wait_text(phone, "#home-services", "Show licence")
    assert "My cases" in home and "Settings" in home and ("Nearest" in home or "Halls nearby" in home)
    assert tabs(phone) == ["Home", "Licences", "Cases", "Messages", "Me"]
    snap(phone, "settings-remembered-home")
    settings_open(phone)
    assert phone.js("document.getElementById('lang-en').getAttribute('aria-pressed')") == "true"
    assert phone.js("document.getElementById('elderly-toggle').checked")
    # Back to Chinese and standard type, remembered the same way.
    phone.js("document.getElementById('lang-zh').click(); true")
    wait_text(phone, "#message", "已切换为中文")
    phone.js("document.getElementById('elderly-toggle').click(); true")
    wait_text(phone, "#message", "已关闭大字版")
    assert tabs(phone) == ["首页", "证照", "办件", "消息", "我的"]
    answer = phone.js("fetch('/api/v1/bff/preferences', {headers: {Authorization: 'Bearer ' + "
                      "JSON.parse(sessionStorage.getItem('yiwang.h5')).access}}).then(r => r.json())")
    assert answer["language"] == "zh-CN" and answer["elderly_mode"] is False
    tab(phone, "home")
    phone.wait_for("!document.getElementById('home-services').classList.contains('big') && "
                   "!document.getElementById('home-lists').hidden")
