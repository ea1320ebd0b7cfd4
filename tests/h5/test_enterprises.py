"""My enterprises on the H5 page (issue 19) on the demo data: the demo citizen, legal representative of
the demo enterprise, switches to it (the banner reads 正在以 <企业> 身份办理 on every screen, the calls go
with the enterprise token and answer `acting_for`) and back to themself (切回个人: the token is forgotten; kept over a reload, read in English);
the LR invites the family member as an agent, who accepts the invitation on their phone and acts as the
enterprise; revoked meanwhile, the agent's next call ends the switch with a sentence."""
from __future__ import annotations

import json
import time

import pytest

from app.db import db, unit_of_work
from identity import service as identity
from identity.devdata import DEMO_FAMILY
from orgs import agents
from orgs.demo import DEMO_USCC
from orgs.models import Enterprise
from tests.fixtures.h5 import H5_SETTINGS, sign_in_demo, snap, tab, visible, wait_text
from tests.helpers import bearer

ENTERPRISE = "sessionStorage.getItem('yiwang.h5.enterprise')"


@pytest.fixture
def app(make_app):
    return make_app(**H5_SETTINGS, SMS_RESEND_COOLDOWN=1)


def click(cdp, element_id: str) -> None:
    cdp.wait_for(f"(b => !!b && !b.disabled && b.offsetParent !== null && (b.click(), true))(document.getElementById({json.dumps(element_id)}))")


def fresh_l3(app, user_id: str) -> None:
    """A face check just now (what the step-up prompt does, tests/h5/test_stepup.py)."""
    with app.app_context(), db.connection_context(), unit_of_work():
        identity.record_assurance(user_id=user_id, level=3, method="face")


def registered(app, client, phone_cdp, user_id: str) -> dict:
    """The demo enterprise, registered by the demo citizen through the API (their page's token)."""
    with app.app_context(), db.connection_context():
        existing = Enterprise.select().where(Enterprise.legal_rep_user_id == user_id).first()
        uscc = existing.uscc if existing else DEMO_USCC
    token = json.loads(phone_cdp.js("sessionStorage.getItem('yiwang.h5')"))["access"]
    if not existing:
        fresh_l3(app, user_id)
        answer = client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(token))
        assert answer.status_code == 201, answer.get_json()
    items = client.get("/api/v1/enterprises", headers=bearer(token)).get_json()["items"]
    return next(e for e in items if e["uscc"] == uscc)


def sign_out(cdp) -> None:
    cdp.js("document.getElementById('logout').click(); true")
    cdp.wait_for("!document.getElementById('login-view').hidden && !document.getElementById('phone-form').hidden")
    time.sleep(1.5)  # answers still on their way settle (tests/h5/test_proxies.py)


def open_enterprise(cdp, enterprise: dict) -> str:
    tab(cdp, "enterprises")
    cdp.wait_for(f"!!document.querySelector('#enterprises-list [data-enterprise=\"{enterprise['id']}\"]')")
    cdp.js(f"document.querySelector('#enterprises-list [data-enterprise=\"{enterprise['id']}\"]').click(); true")
    cdp.wait_for(f"document.getElementById('enterprise-detail').getAttribute('data-enterprise') === {json.dumps(enterprise['id'])}")
    return visible(cdp, "enterprise-detail")


def test_the_lr_switches_to_the_enterprise_and_back(app, client, demo, phone):
    user_id = sign_in_demo(phone)
    enterprise = registered(app, client, phone, user_id)
    assert phone.js("!!document.getElementById('home-enterprises')")
    phone.js("document.getElementById('home-enterprises').click(); true")  # the home screen's entry
    phone.wait_for("!document.getElementById('enterprises-view').hidden")
    listed = wait_text(phone, "#enterprises-list", enterprise["name"])
    assert enterprise["uscc"] in listed and "法定代表人" in listed, listed
    detail = open_enterprise(phone, enterprise)
    assert enterprise["name"] in detail and enterprise["uscc"] in detail and "存续" in detail, detail
    click(phone, "enterprise-switch")
    banner = visible(phone, "acting")
    assert f"正在以 {enterprise['name']} 身份办理" in banner and "切回个人" in banner, banner
    held = json.loads(phone.js(ENTERPRISE))
    assert held["enterpriseId"] == enterprise["id"] and held["access"] != json.loads(
        phone.js("sessionStorage.getItem('yiwang.h5')"))["access"]
    assert "正在以本企业身份办理" in wait_text(phone, "#enterprise-detail", "正在以本企业身份办理")
    # The enterprise token is the enterprise's: its answers name whom it acts for.
    answer = phone.js("fetch('/api/v1/wallet/licences', {headers: {Authorization: 'Bearer ' + "
                      f"JSON.parse({ENTERPRISE}).access}}}}).then(r => r.json().then(d => [r.status, d.acting_for]))")
    assert answer[0] == 200 and answer[1]["kind"] == "enterprise" and answer[1]["id"] == enterprise["id"], answer
    snap(phone, "enterprises-acting")
    # The banner stays on other screens and over a reload (here in English); 切回个人 forgets the token.
    tab(phone, "wallet")
    assert not phone.js("document.getElementById('acting').hidden")
    phone.js("import('/static/web/api.js').then(m => m.preferences.setLanguage('en')).then(() => location.reload()); true")
    phone.wait_for("document.documentElement.lang === 'en' && !document.getElementById('wallet-view').hidden")
    banner = visible(phone, "acting")
    assert f"Acting as {enterprise['name']}" in banner and "Back to me" in banner, banner
    assert json.loads(phone.js(ENTERPRISE))["access"] == held["access"]
    click(phone, "acting-stop")
    phone.wait_for("document.getElementById('acting').hidden")
    assert phone.js(ENTERPRISE) is None
    assert phone.js("document.body.getAttribute('data-acting-kind')") == ""


def test_an_agent_accepts_acts_for_the_enterprise_and_a_revocation_ends_it(app, client, demo, phone):
    lr = sign_in_demo(phone)
    enterprise = registered(app, client, phone, lr)
    fresh_l3(app, lr)  # adding an agent needs L3 within 300 s (the prompt is tested in test_stepup.py)
    open_enterprise(phone, enterprise)
    phone.js(f"document.getElementById('agent-name').value = {json.dumps(DEMO_FAMILY[1][0])};"
             f"document.getElementById('agent-phone').value = {json.dumps(DEMO_FAMILY[0])};"
             "document.getElementById('agent-scope-cases-follow').checked = true;"
             "document.getElementById('enterprise-agent-add').requestSubmit(); true")
    assert "已邀请经办人" in wait_text(phone, "#message", "已邀请经办人")
    phone.wait_for("!!document.querySelector('#enterprise-agents [data-status=pending]')")
    grant = phone.js("document.querySelector('#enterprise-agents [data-status=pending]').getAttribute('data-grant')")
    sign_out(phone)

    # The family member accepts on their phone and acts as the enterprise.
    sign_in_demo(phone, DEMO_FAMILY[0])
    tab(phone, "enterprises")
    invitation = wait_text(phone, "#enterprise-invitations", enterprise["name"])
    assert "查看企业证照" in invitation and "查询企业办件" in invitation, invitation
    click(phone, f"grant-accept-{grant}")
    assert "已接受" in wait_text(phone, "#message", "已接受")
    listed = wait_text(phone, "#enterprises-list", enterprise["name"])
    assert "经办人" in listed
    detail = open_enterprise(phone, enterprise)
    assert "查看企业证照" in detail and "授权至" in detail
    click(phone, "enterprise-switch")
    assert f"正在以 {enterprise['name']} 身份办理" in visible(phone, "acting")

    # The LR revokes the grant elsewhere: the agent's next call ends the switch, in words.
    with app.app_context(), db.connection_context():
        agents.revoke_agent(enterprise_id=enterprise["id"], grant_id=grant, lr_id=lr)
    tab(phone, "wallet")
    phone.wait_for("document.getElementById('acting').hidden", timeout=20)
    assert "企业授权已失效" in wait_text(phone, "#message", "企业授权已失效")
    assert phone.js(ENTERPRISE) is None
