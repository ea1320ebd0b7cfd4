"""网号 login on the H5 page (issue 19): 国家网络身份认证 opens the development "模拟国家网络身份认证" dialog
(the national app's part, views/ncid.js), whose credential the server checks as the platform's; a new
account lands on the home screen at the mode's level (网证 + 口令: L3) with no name or ID number stored;
the same 网号 reaches the same account again; a cancelled dialog leaves the person on the login screen,
and a credential replayed (the same biz_seq twice) is refused in words."""
from __future__ import annotations

import json

from app.db import db
from identity.models import User
from tests.fixtures.h5 import snap, text_of, wait_text

PERSON = "h5NcidPerson0000000001"  # the development 网络身份应用标识 this test authenticates as


def dialog(cdp, element_id: str) -> str:
    """A dialog over the page (position: fixed, so no offsetParent): what it shows once it is there."""
    return cdp.wait_for(f"(e => !!e && e.innerText)(document.getElementById({json.dumps(element_id)}))")


def click(cdp, element_id: str) -> None:
    cdp.wait_for(f"(b => !!b && !b.disabled && b.offsetParent !== null && (b.click(), true))(document.getElementById({json.dumps(element_id)}))")


def national_app(cdp, person: str = PERSON, mode: str = "R02") -> str:
    """The dialog opened: what it shows, then the person and mode filled in."""
    text = dialog(cdp, "ncid-app")
    cdp.js(f"document.getElementById('ncid-person').value = {json.dumps(person)};"
           f"document.getElementById('ncid-mode').value = {json.dumps(mode)}; true")
    return text


def test_ncid_login_creates_an_account_then_reaches_it_again(app, phone):
    assert "国家网络身份认证" in text_of(phone, "#login-view")
    click(phone, "ncid-login")
    dialog = national_app(phone)
    assert "模拟国家网络身份认证" in dialog and "wx.ncidas" in dialog and "登录一网" in dialog
    assert phone.js("document.getElementById('ncid-app').getAttribute('data-purpose')") == "login"
    snap(phone, "ncid-app")
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('ncid-app') && !document.getElementById('home-view').hidden")
    assert "已通过国家网络身份认证创建账号并登录" in wait_text(phone, "#message", "国家网络身份认证")
    profile = wait_text(phone, "#profile", "L3")
    assert "认证等级 L3" in profile, profile
    stored = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))
    user_id = stored["user"]["id"]
    assert PERSON not in json.dumps(stored)  # the page keeps no 网号 identifier with the session
    with app.app_context(), db.connection_context():
        user = User.get_by_id(user_id)
        assert user.real_name_source == "ncid" and user.assurance_level == 3
        assert user.name_enc is None and user.id_number_enc is None  # zero plaintext: no name, no ID number
    snap(phone, "ncid-home")

    # Signed out, and in again with the same 网号: the same account, not a new one.
    phone.js("document.getElementById('logout').click(); true")
    phone.wait_for("!document.getElementById('login-view').hidden")
    click(phone, "ncid-login")
    national_app(phone)
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('home-view').hidden")
    assert "已通过国家网络身份认证登录" in wait_text(phone, "#message", "国家网络身份认证登录")
    assert json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["user"]["id"] == user_id


def test_a_cancelled_dialog_signs_nobody_in_and_a_replay_is_refused(app, phone):
    click(phone, "ncid-login")
    national_app(phone)
    click(phone, "ncid-app-cancel")
    phone.wait_for("!document.getElementById('ncid-app')")
    assert not phone.js("document.getElementById('login-view').hidden")
    assert phone.js("sessionStorage.getItem('yiwang.h5')") is None
    assert not phone.js("document.getElementById('ncid-login').disabled")

    # A credential sent twice (the same biz_seq): the second is refused as a replay, in words.
    replay = """(async () => {
      const post = (p, b) => fetch('/api/v1' + p, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                    body: JSON.stringify(b)}).then(r => r.json().then(d => [r.status, d]));
      const [, s] = await post('/auth/ncid/sessions', {purpose: 'login'});
      const [, c] = await post('/dev/ncid/credentials', {biz_seq: s.biz_seq, person: %s, mode: 'R02'});
      const body = {biz_seq: s.biz_seq, id_card_auth_data: c.id_card_auth_data, auth_mode: c.auth_mode};
      const first = await post('/auth/ncid/login', body);
      const second = await post('/auth/ncid/login', body);
      return [first[0], second[0], second[1].code];
    })()""" % json.dumps(PERSON)
    assert phone.js(replay) == [200, 400, "ncid_session_invalid"]
