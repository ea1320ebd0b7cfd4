"""The H5 proxies journey (亲属代办, issue 16) on the demo data: the family member acts for the demo
citizen 王五 (the banner on every screen, 王五's licences and cases through the delegated token, kept
over a reload, stopped from the banner), and 王五 invites a new relative with a step-up SMS code, who
accepts and acts; 王五 sees the grant active, reads what was done and revokes it after a confirmation."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from app.db import db
from identity import service as identity
from identity.devdata import DEMO_CITIZEN, DEMO_FAMILY
from proxies import service as proxies
from tests import vectors
from tests.fixtures.h5 import H5_SETTINGS, sign_in, sign_in_demo, snap, tab, text_of, visible, wait_text

ACTING = "sessionStorage.getItem('yiwang.h5.acting')"


@pytest.fixture
def app(make_app):
    # Several sign-ins and two step-up codes on the same phones within a minute: a 1 s resend cooldown.
    return make_app(**H5_SETTINGS, SMS_RESEND_COOLDOWN=1)


def revoke_as_the_citizen(app, grant: str) -> None:
    """王五 revokes the grant elsewhere (on another phone)."""
    with app.app_context(), db.connection_context():
        proxies.revoke_grant(user_id=identity.demo_people()["citizen"], grant_id=grant)


def invite_as_the_citizen(app, phone: str, name: str, scopes: list[str]) -> str:
    """王五 invites someone elsewhere (the API with a step-up code, as the demo seeder does)."""
    with app.app_context(), db.connection_context():
        citizen = identity.demo_people()["citizen"]
        return proxies.create_grant(principal_id=citizen, phone=phone, name=name, scopes=scopes,
                                    expires_at=proxies.clock() + timedelta(days=30), session_id=None,
                                    sms_code=identity.demo_step_up_code(citizen, "proxy_grant"))["id"]


def sign_out(cdp) -> None:
    """Sign out, then let the answers still on their way settle: a request sent before signing out and
    refused after it would sign the next person out (the shell's onExpired, see the report)."""
    cdp.js("document.getElementById('logout').click(); true")
    cdp.wait_for("!document.getElementById('login-view').hidden && !document.getElementById('phone-form').hidden")
    time.sleep(1.5)
    cdp.wait_for("!document.getElementById('login-view').hidden && !document.getElementById('phone-form').hidden")


def click(cdp, selector: str) -> None:
    cdp.wait_for(f"(b => b && !b.disabled && b.offsetParent !== null)(document.querySelector({json.dumps(selector)}))")
    cdp.js(f"document.querySelector({json.dumps(selector)}).click(); true")


def fill(cdp, element_id: str, value: str) -> None:
    cdp.js(f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}; true")


def open_grant(cdp, list_id: str, status: str, who: str) -> str:
    """Tap the grant in `list_id` with `status` naming `who`; its detail shows. Returns the grant id."""
    grant = cdp.wait_for(f"(li => li && li.getAttribute('data-grant'))(Array.from(document.querySelectorAll('#{list_id} li[data-status={status}]'))"
                         f".find(li => li.innerText.includes({json.dumps(who)})))")
    cdp.js(f"document.querySelector('#{list_id} li[data-grant={grant}]').click(); true")
    cdp.wait_for(f"document.getElementById('proxy-detail').getAttribute('data-grant') === {json.dumps(grant)} && "
                 "!document.getElementById('proxy-detail').hidden")
    return grant


def step_up_code(cdp) -> str:
    """Ask for a step-up code (to one's own phone); the development outbox fills it in."""
    fill(cdp, "proxy-code", "")
    click(cdp, "#proxy-code-send")
    visible(cdp, "proxy-dev-code")
    return cdp.wait_for("document.getElementById('proxy-code').value")


@pytest.mark.slow
def test_the_family_member_acts_for_the_demo_citizen_sees_their_data_and_stops(demo, phone):
    # In English, before signing in.
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang:'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone, DEMO_FAMILY[0])
    tab(phone, "proxies")
    received = wait_text(phone, "#proxies-received", "Active")
    assert "王*" in received and "View e-licences" in received and "Follow cases" in received
    assert "You have not authorised anyone" in text_of(phone, "#proxies-given")
    snap(phone, "proxies-received")

    grant = open_grant(phone, "proxies-received", "active", "王*")
    detail = wait_text(phone, "#proxy-detail", "Act for 王*")
    assert "王* authorised you" in detail and "Valid until" in detail and phone.js(f"{ACTING} === null")
    click(phone, "#proxy-act")
    assert visible(phone, "acting").strip().startswith("Acting for 王*")
    # 王五's licences (three) and cases, read with the delegated token: the family member holds none.
    phone.wait_for("document.querySelectorAll('#proxy-principal-licences li:not(.empty)').length === 3")
    phone.wait_for("document.querySelectorAll('#proxy-principal-cases li:not(.empty)').length >= 3")
    assert "You are now acting for 王*" in text_of(phone, "#message")
    assert "王*'s licences" in text_of(phone, "#proxy-acting-data")
    stored = json.loads(phone.js(ACTING))
    assert stored["grantId"] == grant and stored["name"] == "王*" and "access" in stored
    snap(phone, "proxies-acting")

    # The banner stays on every screen; the wallet and cases screens show 王五's (ctx.client()).
    tab(phone, "wallet")
    assert "Acting for 王*" in visible(phone, "acting")
    phone.wait_for("document.querySelectorAll('#licences [data-licence]').length === 3")
    tab(phone, "cases")
    phone.wait_for("document.querySelectorAll('#cases li[data-case]').length >= 3")
    snap(phone, "proxies-acting-cases")
    # … and over a reload (the delegated token is still valid).
    tab(phone, "home")
    assert "Acting for 王*" in visible(phone, "acting")
    # The home screen's lists are the family member's own: not shown while acting, the note says where to look.
    assert "Licences and Cases show 王*'s records" in phone.wait_for(
        "(e => e && e.innerText)(document.querySelector('#profile .acting-note'))")
    assert phone.js("document.getElementById('home-lists').hidden")
    phone.js("window.before = true; location.reload(); true")  # the old page shows home-view too: wait for the new one
    phone.wait_for("!window.before && document.readyState === 'complete' && !document.getElementById('home-view').hidden")
    assert "Acting for 王*" in visible(phone, "acting")
    phone.js(f"location.hash = '#/proxies/{grant}'; true")
    phone.wait_for("document.querySelectorAll('#proxy-principal-licences li:not(.empty)').length === 3")
    snap(phone, "proxies-acting-reloaded")

    # Stop from the banner: gone, and the delegated token forgotten.
    click(phone, "#acting-stop")
    phone.wait_for("document.getElementById('acting').hidden")
    assert phone.js(f"{ACTING} === null") and not phone.js("document.body.hasAttribute('data-acting')")
    wait_text(phone, "#proxy-detail", "Act for 王*")
    assert not phone.js("document.getElementById('proxy-acting-data')")

    # What was done is on record, the proxy may read it too.
    click(phone, "#proxy-activity-open")
    activity = wait_text(phone, "#proxy-activity-list", "Viewed the e-licences")
    assert "Followed the cases" in activity
    assert "for 王*" in activity and "done" in activity
    snap(phone, "proxies-activity-en")


@pytest.mark.slow
def test_the_citizen_invites_a_relative_who_accepts_then_reads_the_record_and_revokes(demo, phone, runner):
    # 张三 has an account with a verified real name: the relative to invite.
    sign_in(phone, runner)
    sign_out(phone)

    sign_in_demo(phone)  # 王五
    tab(phone, "proxies")
    wait_text(phone, "#proxies-given", "已生效")  # the demo grant to the family member
    click(phone, "#proxy-invite-open")
    form = visible(phone, "proxy-invite-form")
    assert "短信验证码" in form and "查看电子证照" in form and "电子签名" in form
    assert phone.js("document.getElementById('proxy-until').value")  # an end date is proposed

    # Inviting oneself: refused, said in words.
    fill(phone, "proxy-phone", DEMO_CITIZEN[0])
    fill(phone, "proxy-name", DEMO_CITIZEN[1][0])
    step_up_code(phone)
    phone.js("document.getElementById('proxy-invite-form').requestSubmit(); true")
    assert "不能授权给自己" in wait_text(phone, "#message", "不能授权给自己")
    snap(phone, "proxies-invite-self")

    # 张三, with a fresh code (each is spent once).
    fill(phone, "proxy-phone", vectors.PHONES[0])
    fill(phone, "proxy-name", vectors.ZHANG_SAN[0])
    step_up_code(phone)
    snap(phone, "proxies-invite")
    phone.js("document.getElementById('proxy-invite-form').requestSubmit(); true")
    wait_text(phone, "#message", "已邀请 张*")
    assert phone.js("document.getElementById('proxy-invite-form').hidden")
    pending = wait_text(phone, "#proxies-given", "待接受")
    assert "张*" in pending and "138****8000" in pending
    snap(phone, "proxies-invited")
    sign_out(phone)

    # 张三 accepts the invitation, then acts for 王五 once.
    sign_in_demo(phone, vectors.PHONES[0])
    tab(phone, "proxies")
    grant = open_grant(phone, "proxies-received", "pending", "王*")
    detail = wait_text(phone, "#proxy-detail", "接受授权")
    assert "王* 授权我代办" in detail and "待接受" in detail
    snap(phone, "proxies-invitation")
    click(phone, "#proxy-accept")
    wait_text(phone, "#message", "已接受")
    wait_text(phone, "#proxy-detail", "已生效")
    click(phone, "#proxy-act")
    assert "正在代 王* 办理" in visible(phone, "acting")
    phone.wait_for("document.querySelectorAll('#proxy-principal-licences li:not(.empty)').length === 3")
    snap(phone, "proxies-accepted-acting")
    click(phone, "#acting-stop")
    phone.wait_for("document.getElementById('acting').hidden")
    sign_out(phone)

    # 王五 sees it active, reads what 张三 did, and revokes it after a confirmation.
    sign_in_demo(phone)
    tab(phone, "proxies")
    assert open_grant(phone, "proxies-given", "active", "张*") == grant
    assert "已生效" in text_of(phone, "#proxy-detail")
    click(phone, "#proxy-activity-open")
    activity = wait_text(phone, "#proxy-activity-list", "查看了电子证照")
    assert "代办人 张*" in activity and "王*" in activity and "成功" in activity
    assert "张*" in text_of(phone, "#proxy-activity-title")
    snap(phone, "proxies-activity")
    phone.js(f"location.hash = '#/proxies/{grant}'; true")
    wait_text(phone, "#proxy-detail", "撤销授权")
    click(phone, "#proxy-revoke")
    assert "确定撤销吗" in visible(phone, "proxy-confirm")
    snap(phone, "proxies-revoke-confirm")
    click(phone, "#proxy-confirm-yes")
    wait_text(phone, "#message", "已撤销")
    revoked = wait_text(phone, "#proxy-detail", "已撤销")
    assert "授权人撤销" in revoked and not phone.js("document.getElementById('proxy-revoke')")
    snap(phone, "proxies-revoked")


@pytest.mark.slow
def test_acting_ends_when_the_grant_is_revoked_meanwhile(app, demo, phone):
    sign_in_demo(phone, DEMO_FAMILY[0])
    tab(phone, "proxies")
    grant = open_grant(phone, "proxies-received", "active", "王*")
    click(phone, "#proxy-act")
    assert "正在代 王* 办理" in visible(phone, "acting")
    phone.wait_for("document.querySelectorAll('#proxy-principal-licences li:not(.empty)').length === 3")
    revoke_as_the_citizen(app, grant)
    # The next delegated call is refused (401): the banner goes, the token is forgotten, and it is said.
    phone.js("location.hash = '#/home'; true")
    phone.wait_for("!document.getElementById('home-view').hidden")
    phone.js(f"location.hash = '#/proxies/{grant}'; true")
    phone.wait_for("document.getElementById('acting').hidden")
    assert phone.js(f"{ACTING} === null")
    assert "已结束代办" in wait_text(phone, "#message", "已结束代办")
    detail = wait_text(phone, "#proxy-detail", "已撤销")
    assert "授权人撤销" in detail and not phone.js("document.getElementById('proxy-act')")
    snap(phone, "proxies-acting-ended")


@pytest.mark.slow
def test_the_invited_relative_declines(app, demo, phone, runner):
    sign_in(phone, runner)  # 张三
    grant = invite_as_the_citizen(app, vectors.PHONES[0], vectors.ZHANG_SAN[0], ["cases:follow"])
    phone.js(f"location.hash = '#/proxies/{grant}'; true")  # the invitation notice's deep link
    detail = wait_text(phone, "#proxy-detail", "王* 邀请您代为办理")
    assert "查看办件进度" in detail and "待接受" in detail and not phone.js("document.getElementById('proxy-act')")
    click(phone, "#proxy-decline")
    wait_text(phone, "#message", "已拒绝该代办邀请")
    detail = wait_text(phone, "#proxy-detail", "已拒绝")
    assert "拒绝时间" in detail and not phone.js("document.getElementById('proxy-accept')")
    snap(phone, "proxies-declined")
    phone.js("location.hash = '#/proxies'; true")
    assert "王*" in wait_text(phone, "#proxies-received li[data-status=declined]", "已拒绝")
