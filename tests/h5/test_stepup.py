"""The step-up prompt on the H5 page (issue 19): a request refused with 403 and a `step_up_url` is caught
once by the shared client; views/stepup.js asks the step-up route for the methods, runs the one picked
and the same request is sent again, unchanged. Here the demo citizen (standing L2 from the registry)
registers the demo enterprise by its USCC, which needs L3 within 600 s: cancelled, the refusal is said
and nothing is registered; with a face check (the development provider plays the SDK) the retried
registration succeeds; asked again within the 600 s, no prompt: the
business refusal (already registered) is said."""
from __future__ import annotations

import json

from app.db import db
from identity import service as identity
from identity.models import IdentityConsent
from orgs.demo import DEMO_USCC
from orgs.models import DevRegistryEntry, Enterprise
from tests import vectors
from tests.fixtures.h5 import sign_in_demo, snap, tab, visible, wait_text


def dialog(cdp, element_id: str) -> str:
    """A dialog over the page (position: fixed, so no offsetParent): what it shows once it is there."""
    return cdp.wait_for(f"(e => !!e && e.innerText)(document.getElementById({json.dumps(element_id)}))")


def click(cdp, element_id: str) -> None:
    cdp.wait_for(f"(b => !!b && !b.disabled && b.offsetParent !== null && (b.click(), true))(document.getElementById({json.dumps(element_id)}))")


def demo_uscc(app) -> str:
    """The demo enterprise of the development business registry whose LR is the demo citizen (orgs/demo.py),
    not registered by the seed: the citizen registers it from the app."""
    with app.app_context(), db.connection_context():
        assert DevRegistryEntry.get_or_none(DevRegistryEntry.uscc == DEMO_USCC) is not None
        assert Enterprise.get_or_none(Enterprise.uscc == DEMO_USCC) is None
    return DEMO_USCC


def register(cdp, uscc: str) -> None:
    tab(cdp, "enterprises")
    cdp.wait_for("document.getElementById('enterprises-view').getAttribute('data-screen') === 'list'")
    cdp.js(f"document.getElementById('enterprise-uscc').value = {json.dumps(uscc)};"
           "document.getElementById('enterprise-register').requestSubmit(); true")


def enterprises_of(app, user_id: str) -> list[str]:
    with app.app_context(), db.connection_context():
        return [e.uscc for e in Enterprise.select().where(Enterprise.legal_rep_user_id == user_id)]


def test_a_step_up_opens_the_prompt_and_the_same_request_succeeds(app, demo, phone):
    uscc = demo_uscc(app)
    user_id = sign_in_demo(phone)
    with app.app_context(), db.connection_context():
        assert identity.fresh_level(user_id, 600) < 3  # the demo citizen has no recent L3

    # Refused for want of a recent L3: the prompt opens with the methods of the step-up route.
    register(phone, uscc)
    prompt = dialog(phone, "stepup")
    assert "请验证身份" in prompt and "人脸核验" in prompt, prompt
    assert phone.js("document.getElementById('stepup').getAttribute('data-code')") in (
        "step_up_required", "assurance_level_insufficient")
    phone.wait_for("!!document.getElementById('stepup-face')")
    snap(phone, "stepup-prompt")
    # Cancelled: the refusal is said, nothing is registered.
    click(phone, "stepup-cancel")
    phone.wait_for("!document.getElementById('stepup')")
    refusal = wait_text(phone, "#message", "L3")
    assert "人脸核验" in refusal and "企业已登记" not in refusal, refusal
    assert enterprises_of(app, user_id) == []

    # Again, with a face check this time: the same request goes again and registers the enterprise.
    register(phone, uscc)
    click(phone, "stepup-face")
    phone.wait_for("!document.getElementById('stepup')")
    phone.wait_for("location.hash.startsWith('#/enterprises/en_')")
    assert "企业已登记" in wait_text(phone, "#message", "企业已登记")
    phone.wait_for("!!document.getElementById('enterprise-detail').getAttribute('data-enterprise')")  # loaded
    detail = visible(phone, "enterprise-detail")
    assert uscc in detail and "法定代表人" in detail
    assert enterprises_of(app, user_id) == [uscc]
    with app.app_context(), db.connection_context():
        assert identity.fresh_level(user_id, 600) == 3  # the face check's L3 event

    # Asked again (already registered): one step-up was enough, the answer is the business refusal, no prompt.
    register(phone, uscc)
    text = wait_text(phone, "#message", "企业")
    assert "企业已登记：" not in text
    assert not phone.js("document.getElementById('stepup')")


def test_a_consent_refusal_opens_the_consent_prompt_and_the_request_goes_again(app, demo, phone):
    """A 网号 account holds no ID number: registering asks for consent (identity_consent_required). The
    same catch opens the consent prompt; the national app (development: name and ID number typed in the
    dialog, as the platform would release them) gives it, and the registration is asked again — here
    refused in its own words, as this person is not the demo enterprise's legal representative."""
    person = "h5ConsentPerson000000001"
    click(phone, "ncid-login")
    dialog(phone, "ncid-app")
    phone.js(f"document.getElementById('ncid-person').value = {json.dumps(person)}; true")
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('home-view').hidden")
    user_id = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["user"]["id"]

    register(phone, DEMO_USCC)
    prompt = dialog(phone, "stepup")
    assert phone.js("document.getElementById('stepup').getAttribute('data-code')") == "identity_consent_required"
    assert "需要您的身份信息" in prompt and "法定代表人" in prompt, prompt
    click(phone, "stepup-consent")
    app_dialog = dialog(phone, "ncid-app")
    assert "提供身份信息" in app_dialog and "身份证号" in app_dialog
    phone.js(f"document.getElementById('ncid-name').value = {json.dumps(vectors.ZHANG_SAN[0])};"
             f"document.getElementById('ncid-id-number').value = {json.dumps(vectors.ZHANG_SAN[1])}; true")
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('stepup') && !document.getElementById('ncid-app')")
    # Asked again after the consent: the registry's answer this time, not the consent refusal.
    refusal = phone.wait_for("(t => t && !t.includes('身份已核验') && !t.includes('已同意') && t)"
                             "(document.getElementById('message').innerText)")
    assert "法定代表人" in refusal and "同意" not in refusal, refusal
    assert not phone.js("document.getElementById('stepup')")
    with app.app_context(), db.connection_context():
        assert [c.purpose for c in IdentityConsent.select().where(IdentityConsent.user_id == user_id)] == [
            "enterprise_registration"]
    assert enterprises_of(app, user_id) == []


def test_a_network_id_step_up_then_consent_then_the_same_request(app, demo, phone):
    """A 网号 account that logged in with 网证 alone (R01: L2) registers an enterprise: the step-up prompt
    offers 网证, the national app authenticates with 网证 + 口令 (R02: L3) for purpose step_up, the request
    goes again and is refused for consent, which opens the consent prompt (one prompt per refusal code),
    then it goes once more."""
    person = "h5StepUpPerson0000000001"
    click(phone, "ncid-login")
    dialog(phone, "ncid-app")
    phone.js(f"document.getElementById('ncid-person').value = {json.dumps(person)};"
             "document.getElementById('ncid-mode').value = 'R01'; true")
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('home-view').hidden")
    assert "认证等级 L2" in wait_text(phone, "#profile", "L2")
    user_id = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["user"]["id"]

    register(phone, DEMO_USCC)
    dialog(phone, "stepup")
    assert phone.js("document.getElementById('stepup').getAttribute('data-code')") == "assurance_level_insufficient"
    click(phone, "stepup-ncid")
    assert "验证身份以继续办理" in dialog(phone, "ncid-app")
    assert phone.js("document.getElementById('ncid-app').getAttribute('data-purpose')") == "step_up"
    assert phone.js("document.getElementById('ncid-person').value") == person  # this tab's 网号
    phone.js("document.getElementById('ncid-mode').value = 'R02'; true")
    click(phone, "ncid-app-ok")
    # The retried registration now wants consent: a second prompt, of the other kind.
    phone.wait_for("(d => d && d.getAttribute('data-code') === 'identity_consent_required')(document.getElementById('stepup'))")
    with app.app_context(), db.connection_context():
        assert identity.fresh_level(user_id, 600) == 3  # the 网证 + 口令 step-up's event
    click(phone, "stepup-consent")
    dialog(phone, "ncid-app")
    phone.js(f"document.getElementById('ncid-person').value = {json.dumps(person)};"
             f"document.getElementById('ncid-name').value = {json.dumps(vectors.LI_SI[0])};"
             f"document.getElementById('ncid-id-number').value = {json.dumps(vectors.LI_SI[1])}; true")
    click(phone, "ncid-app-ok")
    phone.wait_for("!document.getElementById('stepup') && !document.getElementById('ncid-app')")
    refusal = phone.wait_for("(t => t && !t.includes('身份已核验') && !t.includes('已同意') && t)"
                             "(document.getElementById('message').innerText)")
    assert "法定代表人" in refusal and "同意" not in refusal, refusal
    assert enterprises_of(app, user_id) == []
