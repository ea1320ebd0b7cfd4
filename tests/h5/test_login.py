"""The H5 login journeys on the demo data (issue 16): the SMS code with its resend countdown, WeChat
login as the mini-program does it (binding the demo citizen's phone the first time, straight in the
next), and real-name verification on a new phone, a wrong ID number said in words (in English too)."""
from __future__ import annotations

import json
import re

import pytest

from identity.devdata import DEMO_CITIZEN
from tests import vectors
from tests.fixtures.h5 import H5_SETTINGS, snap, text_of, visible, wait_text

COOLDOWN = 3  # seconds before a new code may be asked for: short enough to watch it run out

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def app(make_app):
    return make_app(**H5_SETTINGS, SMS_RESEND_COOLDOWN=COOLDOWN)


def fill(cdp, element_id: str, value: str) -> None:
    cdp.js(f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}; true")


def submit(cdp, form_id: str) -> None:
    cdp.js(f"document.getElementById({json.dumps(form_id)}).requestSubmit(); true")


def click(cdp, element_id: str) -> None:
    cdp.js(f"document.getElementById({json.dumps(element_id)}).click(); true")


def shown(cdp, element_id: str) -> bool:
    return cdp.js(f"(e => !e.hidden && e.offsetParent !== null)(document.getElementById({json.dumps(element_id)}))")


def message(cdp, text: str) -> str:
    return wait_text(cdp, "#message", text)


def test_sms_login_counts_down_sends_again_and_says_a_wrong_code(demo, phone):
    login = text_of(phone, "#login-view")
    assert "手机号登录" in login and "微信登录" in login
    fill(phone, "phone", DEMO_CITIZEN[0])
    submit(phone, "phone-form")
    first = visible(phone, "dev-code")
    assert "开发环境：验证码" in first
    # The send button waits, counting the seconds down, then offers a new code.
    wait = phone.wait_for("(b => b.disabled && b.getAttribute('data-wait'))(document.getElementById('send-code'))")
    assert int(wait) <= COOLDOWN and re.fullmatch(r"重新获取（\d 秒）", text_of(phone, "#send-code"))
    snap(phone, "login-code")
    phone.wait_for(f"(b => b.getAttribute('data-wait') && +b.getAttribute('data-wait') < {int(wait)})"
                   "(document.getElementById('send-code'))")
    phone.wait_for("!document.getElementById('send-code').disabled", timeout=COOLDOWN + 5)
    assert text_of(phone, "#send-code") == "重新获取验证码"
    # A wrong code: said in words, and the citizen stays on the login screen.
    fill(phone, "code", "000000" if "000000" not in first else "999999")
    submit(phone, "code-form")
    assert "验证码错误" in message(phone, "验证码错误")
    assert shown(phone, "login-view")
    # A new code, filled in again: the first one is no longer the one shown.
    submit(phone, "phone-form")
    phone.wait_for(f"(t => t && t !== {json.dumps(first)})(document.getElementById('dev-code').innerText)")
    assert phone.js("document.getElementById('send-code').disabled")
    snap(phone, "login-resend")
    submit(phone, "code-form")
    phone.wait_for("!document.getElementById('home-view').hidden")
    assert "王*" in wait_text(phone, "#profile", "王*")
    assert "L2" in text_of(phone, "#profile")


def test_wechat_login_binds_the_demo_phone_then_signs_in_straight(demo, phone):
    click(phone, "wechat-login")
    phone.wait_for("!document.getElementById('bind-step').hidden && !document.getElementById('realname-view').hidden")
    assert "微信登录成功，请绑定手机号" in message(phone, "绑定手机号")
    assert not shown(phone, "realname-step") and shown(phone, "bind-form")
    assert phone.js("document.getElementById('tabs').hidden")
    snap(phone, "login-wechat-bind")
    fill(phone, "bind-phone", DEMO_CITIZEN[0])
    click(phone, "bind-send")
    assert "开发环境：验证码" in visible(phone, "bind-dev-code")
    phone.wait_for("document.getElementById('bind-send').disabled")
    code = phone.js("document.getElementById('bind-code').value")
    assert re.fullmatch(r"\d{6}", code)
    # A wrong code first: refused in words, nothing bound.
    fill(phone, "bind-code", "000000" if code != "000000" else "999999")
    submit(phone, "bind-form")
    assert "验证码错误" in message(phone, "验证码错误")
    assert shown(phone, "bind-step")
    fill(phone, "bind-code", code)
    submit(phone, "bind-form")
    # The phone has an account (the demo citizen's): WeChat joins it, and it is real-named already.
    phone.wait_for("!document.getElementById('home-view').hidden")
    assert "王*" in wait_text(phone, "#profile", "王*")
    phone.wait_for("document.querySelectorAll('#home-licences li:not(.empty)').length >= 1")
    snap(phone, "login-wechat-home")
    # Signed out and back with WeChat: the same WeChat user reaches the same account, no binding.
    click(phone, "logout")
    phone.wait_for("!document.getElementById('login-view').hidden")
    click(phone, "wechat-login")
    phone.wait_for("!document.getElementById('home-view').hidden")
    assert "王*" in wait_text(phone, "#profile", "王*")
    assert phone.js("JSON.parse(sessionStorage.getItem('yiwang.h5')).user.phone_bound") is True


def test_wechat_refused_code_is_said_in_words(demo, phone):
    """A code WeChat refuses (here: one already used, as a replayed wx.login code would be)."""
    phone.js("crypto.getRandomValues = (a) => a.fill(7); true")  # every code this tab makes is the same
    click(phone, "wechat-login")
    phone.wait_for("!document.getElementById('realname-view').hidden")
    click(phone, "logout")
    phone.wait_for("!document.getElementById('login-view').hidden")
    click(phone, "wechat-login")  # the same code again
    text = message(phone, "微信登录凭证无效")
    assert "微信登录凭证无效或已使用，请重新登录。" in text and "wechat_code_invalid" not in text
    assert shown(phone, "login-view")


def test_real_name_on_a_new_phone_with_a_wrong_id_said_in_words_in_english(demo, phone, runner):
    runner.invoke(args=["registry", "add", "--name", vectors.WITH_X[0], "--id-number", vectors.WITH_X[1]])
    click(phone, "login-lang")  # the login screen in English
    login = wait_text(phone, "#login-view", "Sign in with your phone")
    assert "Sign in with WeChat" in login and "Mobile number" in login and not CJK.search(
        login.replace("中文", ""))
    assert phone.js("document.getElementById('phone').placeholder") == "11-digit number"
    snap(phone, "login-english")
    fill(phone, "phone", vectors.PHONES[3])
    submit(phone, "phone-form")
    assert "Development: code" in visible(phone, "dev-code")
    phone.wait_for("document.getElementById('code').value")
    submit(phone, "code-form")
    phone.wait_for("!document.getElementById('realname-view').hidden")
    assert shown(phone, "realname-step") and not shown(phone, "bind-step")
    page = text_of(phone, "#realname-view")
    assert "Verify your real name" in page and "150****5678" in page
    # A wrong check character: said in words, in English.
    fill(phone, "rn-name", vectors.WITH_X[0])
    fill(phone, "rn-id", vectors.WITH_X[1][:-1] + "1")
    submit(phone, "realname-form")
    said = phone.wait_for("(m => !m.hidden && m.innerText)(document.getElementById('message'))")
    assert not CJK.search(said) and "ID" in said and "id_number_invalid" not in said, said
    snap(phone, "login-realname-wrong")
    # A name the registry does not hold for this number: said in words too.
    fill(phone, "rn-name", "赵七")
    fill(phone, "rn-id", vectors.WITH_X[1])
    submit(phone, "realname-form")
    said = phone.wait_for(f"(m => !m.hidden && m.innerText !== {json.dumps(said)} && m.innerText)"
                          "(document.getElementById('message'))")
    assert not CJK.search(said) and "real_name_mismatch" not in said, said
    assert not phone.js("document.getElementById('realname-view').hidden")
    fill(phone, "rn-name", vectors.WITH_X[0])
    submit(phone, "realname-form")
    phone.wait_for("!document.getElementById('home-view').hidden")
    profile = wait_text(phone, "#profile", "hello")
    assert "L2" in profile and "Level" in profile
    assert "Your real name is verified." in text_of(phone, "#message")
    assert vectors.WITH_X[1] not in phone.js("document.body.innerText")
    snap(phone, "login-realname-done")
