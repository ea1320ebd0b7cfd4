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
from orgs.demo import DEMO_USCC
from orgs.models import DevRegistryEntry, Enterprise
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
