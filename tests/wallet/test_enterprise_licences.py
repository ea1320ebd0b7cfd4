"""Licences held by an enterprise (issue 19, WP7): an issuer issues a 营业执照 to a USCC; it is parked
until the enterprise registers, then attached to the enterprise (not to its LR's own wallet); the LR
or an agent lists and shows it with an enterprise token, and the counter card names the enterprise
(name and USCC in full) and who showed it (张*, 李*)."""
from __future__ import annotations

import json

import pytest

from app.db import db
from app.security.pii import field_cipher
from notify.outbox import OutboxEntry
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.orgs.agent_fixtures import add_agent, agent_grant, enterprise_session, fresh_level  # noqa: F401
from tests.wallet.conftest import ISSUE, WALLET, issue, present, present_url
from wallet.models import Licence, Presentation

USCC = "91340100MA2RX7K01F"
OTHER_USCC = "91110108555555552Q"
NAME = "示例科技有限公司"
MATTER = "business_registration"  # accepts 营业执照: credit code, name, LR (masked), term
VERIFY = "/api/v1/counter/verifications"


def licence_body(uscc: str = USCC, name: str = NAME, reference: str = "biz-1", **changes) -> dict:
    body = {"type_code": "business_licence", "holder": {"kind": "enterprise", "uscc": uscc, "name": name},
            "data": {"credit_code": uscc, "name": name, "entity_type": "有限责任公司",
                     "legal_representative": vectors.ZHANG_SAN[0],
                     "legal_representative_id_number": vectors.ZHANG_SAN[1], "established_on": "2019-01-02",
                     "business_term_until": "长期", "domicile": "安徽省合肥市蜀山区", "registration_authority": "合肥市市场监督管理局"},
            "valid_from": "2019-01-02", "valid_until": None, "reference": reference}
    body.update(changes)
    return body


def register(app, client, runner, people, uscc: str = USCC, name: str = NAME) -> str:
    """张三 registers the enterprise (development registry, his fresh L3): its id."""
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", uscc, "--name", name,
                              "--lr-name", vectors.ZHANG_SAN[0], "--lr-id-number", vectors.ZHANG_SAN[1]])
    assert out.exit_code == 0, out.output
    fresh_level(app, people["principal"]["id"])
    response = client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=people["principal"]["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def issuer(machine_token):
    return bearer(machine_token("licences:issue"))


@pytest.fixture
def enterprise(app, client, runner, people):
    """示例科技有限公司 registered by its LR 张三 (the agent fixtures use this one)."""
    return register(app, client, runner, people)


def _row(app, licence_id: str) -> Licence:
    [row] = rows(app, Licence, Licence.id == licence_id)
    return row


def test_issued_to_a_uscc_parked_then_attached_when_the_enterprise_registers(app, client, runner, people, issuer):
    made = issue(client, issuer, licence_body())
    assert made["parked"] is True and made["parked_reason"] == "awaiting_enterprise_registration"
    assert made["holder"] == {"kind": "enterprise", "name": NAME, "uscc": USCC, "name_masked": NAME}
    row = _row(app, made["id"])
    with app.app_context():
        assert row.holder_kind == "enterprise" and row.user_id is None
        assert row.holder_bidx == field_cipher().blind_index("uscc", USCC) != field_cipher().blind_index("id", USCC)

    enterprise_id = register(app, client, runner, people)

    assert _row(app, made["id"]).user_id == enterprise_id
    seen = client.get(f"{ISSUE}/{made['id']}", headers=issuer).get_json()
    assert seen["parked"] is False and seen["parked_reason"] is None
    notices = rows(app, OutboxEntry, OutboxEntry.kind == "licence_issued")
    assert [n.user_id for n in notices] == [enterprise_id]  # the enterprise's inbox, never the LR's own
    # a second issue to the registered enterprise is attached at once
    again = issue(client, issuer, licence_body(reference="biz-2"))
    assert again["parked"] is False and _row(app, again["id"]).user_id == enterprise_id


def test_the_lr_lists_it_with_an_enterprise_token_not_in_his_own_wallet(app, client, people, issuer, enterprise,
                                                                        enterprise_session):
    made = issue(client, issuer, licence_body())
    lr, answer = enterprise_session("principal")
    listed = client.get(WALLET, headers=lr)
    assert listed.status_code == 200, listed.get_json()
    assert [i["id"] for i in listed.get_json()["items"]] == [made["id"]]
    detail = client.get(f"{WALLET}/{made['id']}", headers=lr).get_json()
    assert detail["holder"]["uscc"] == USCC and detail["signature_valid"] is True
    # 张三's own (citizen) wallet does not hold the enterprise's licence
    own = client.get(WALLET, headers=people["principal"]["headers"]).get_json()["items"]
    assert made["id"] not in [i["id"] for i in own]
    assert_problem(client.get(f"{WALLET}/{made['id']}", headers=people["principal"]["headers"]), 404,
                   "licence_not_found")
    assert_problem(client.get(f"{WALLET}/{made['id']}", headers=people["other"]["headers"]), 404, "licence_not_found")


def test_an_agent_shows_it_and_the_counter_card_names_the_enterprise_and_the_agent(
        app, client, people, issuer, enterprise, agent_grant, enterprise_session, clerk):
    made = issue(client, issuer, licence_body())
    agent_grant(scopes=("licences:present",))
    fresh_level(app, people["relative"]["id"], 2)
    agent, _ = enterprise_session("relative")
    shown = present(client, agent, made["id"])
    [row] = rows(app, Presentation, Presentation.id == shown["id"])
    assert (row.user_id, row.shown_by) == (enterprise, people["relative"]["id"])

    response = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=clerk())
    assert response.status_code == 200, response.get_json()
    card = response.get_json()
    assert card["holder"] == {"kind": "enterprise", "name": NAME, "uscc": USCC, "name_masked": NAME}
    assert card["shown_by"] == {"name_masked": "李*"}
    # the USCC and the name once (in the holder), the LR's name stays a field, masked by the matter
    assert card["licence"]["fields"] == {"legal_representative": "张*"}
    assert card["licence"]["merged_fields"] == {"credit_code": "holder.uscc", "name": "holder.name",
                                                "business_term_until": "licence.valid_until"}
    assert vectors.LI_SI[0] not in response.get_data(as_text=True)
    assert vectors.ZHANG_SAN[1] not in response.get_data(as_text=True)

    # the LR shows it himself: "shown by 张*"
    lr, _ = enterprise_session("principal")
    again = present(client, lr, made["id"])
    card = client.post(VERIFY, json={"qr_text": again["qr_text"], "matter": MATTER}, headers=clerk("clerk.two"))
    assert card.get_json()["shown_by"] == {"name_masked": "张*"}


def test_a_person_s_card_has_no_shown_by(client, issuer, verified_citizen, clerk):
    from tests.wallet.conftest import issue_body

    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    licence = issue(client, issuer, issue_body())
    shown = present(client, holder, licence["id"])
    card = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=clerk())
    assert card.get_json()["shown_by"] is None and "kind" not in card.get_json()["holder"]


def test_an_agent_without_licences_present_cannot_show_it(app, client, people, issuer, enterprise, agent_grant,
                                                          enterprise_session):
    made = issue(client, issuer, licence_body())
    agent_grant(scopes=("cases:follow",))
    agent, _ = enterprise_session("relative")
    response = client.post(present_url(made["id"]), json={}, headers=agent)
    assert response.status_code == 403
    assert rows(app, Presentation) == []


@pytest.mark.parametrize("change, status, code", [
    ({"holder": {"kind": "enterprise", "uscc": "91340100MA2RX7K01G", "name": NAME}}, 422, "uscc_invalid"),
    ({"holder": {"kind": "enterprise", "uscc": "not-a-code", "name": NAME}}, 422, "uscc_invalid"),
    ({"holder": {"kind": "enterprise", "name": NAME}}, 422, "validation_failed"),
    ({"holder": {"kind": "enterprise", "uscc": USCC, "id_number": vectors.ZHANG_SAN[1], "name": NAME}}, 422,
     "validation_failed"),
    ({"holder": {"kind": "enterprise", "uscc": OTHER_USCC, "name": NAME}}, 422, "licence_data_invalid"),
    ({"holder": {"kind": "enterprise", "uscc": USCC, "name": "另一家公司"}}, 422, "holder_name_mismatch"),
])
def test_refused_holders(app, client, issuer, change, status, code):
    problem = assert_problem(client.post(ISSUE, json=licence_body(**change), headers=issuer), status, code)
    assert problem["code"] == code
    assert rows(app, Licence) == []


def test_a_type_without_a_credit_code_is_not_issued_to_an_enterprise(app, client, issuer):
    from tests.wallet.conftest import issue_body

    body = issue_body()
    body["holder"] = {"kind": "enterprise", "uscc": USCC, "name": NAME}
    problem = assert_problem(client.post(ISSUE, json=body, headers=issuer), 422, "licence_data_invalid")
    assert "holder.kind" in problem["errors"]


def test_the_registered_name_must_match(app, client, runner, people, issuer):
    register(app, client, runner, people)
    body = licence_body(holder={"kind": "enterprise", "uscc": USCC, "name": "示例科技公司"})
    body["data"]["name"] = "示例科技公司"
    problem = assert_problem(client.post(ISSUE, json=body, headers=issuer), 422, "holder_name_mismatch")
    assert "holder.name" in problem["errors"]
    with app.app_context(), db.connection_context():
        assert Licence.select().count() == 0


@pytest.mark.slow
def test_the_counter_page_shows_the_enterprise_and_who_showed_it(app, client, runner, served, browser, people,
                                                                 issuer, enterprise, agent_grant,
                                                                 enterprise_session):
    from tests.wallet.test_counter_checkin_page import choose_matter
    from tests.wallet.test_counter_page import CLERK, CLERK_PASSWORD, PAGE

    made = issue(client, issuer, licence_body())
    agent_grant(scopes=("licences:present",))
    agent, _ = enterprise_session("relative")
    qr_text = present(client, agent, made["id"])["qr_text"]
    out = runner.invoke(args=["staff", "create", "--username", CLERK, "--password", CLERK_PASSWORD,
                              "--role", "counter", "--hall", "H1"])
    assert "created" in out.output, out.output

    browser.send("Page.navigate", url=served + PAGE)
    browser.wait_for("document.readyState === 'complete' && !!document.getElementById('login-form')")
    browser.wait_for("!document.getElementById('login-view').hidden")
    browser.js(f"document.getElementById('username').value = {json.dumps(CLERK)};"
               f"document.getElementById('password').value = {json.dumps(CLERK_PASSWORD)};"
               "document.getElementById('login-form').requestSubmit(); true")
    browser.wait_for("!document.getElementById('scan-view').hidden")
    browser.wait_for("performance.getEntriesByType('resource').some(e => e.name.endsWith('/licence-types'))")
    choose_matter(browser, MATTER)
    browser.type_and_enter(qr_text)
    browser.wait_for("(c => c.classList.contains('ok') && !c.hidden && c.innerText)(document.getElementById('card'))")
    terms = browser.js("Array.from(document.querySelectorAll('#card dt')).map(n => n.textContent)")
    values = browser.js("Array.from(document.querySelectorAll('#card dd')).map(n => n.textContent)")
    card = dict(zip(terms, values))
    assert card["企业"] == f"{NAME}（经办人 李*出示）" and card["社会信用代码"] == USCC
    assert "持证人" not in card and card["法定代表人"] == "张*"
    assert len(values) == len(set(values)), card  # the USCC and the name once
    html = browser.js("document.documentElement.outerHTML")
    assert vectors.ZHANG_SAN[1] not in html and vectors.LI_SI[0] not in html


def test_another_enterprise_does_not_see_it(app, client, runner, people, issuer, enterprise, enterprise_session):
    """Object access: 王五's own enterprise (its LR token) gets 404 for this enterprise's licence."""
    made = issue(client, issuer, licence_body())
    out = runner.invoke(args=["orgs", "dev-registry", "add", "--uscc", OTHER_USCC, "--name", "另一家公司",
                              "--lr-name", vectors.WANG_WU[0], "--lr-id-number", vectors.WANG_WU[1]])
    assert out.exit_code == 0, out.output
    fresh_level(app, people["other"]["id"])
    other = client.post("/api/v1/enterprises", json={"uscc": OTHER_USCC}, headers=people["other"]["headers"])
    assert other.status_code == 201, other.get_json()
    headers, _ = enterprise_session("other", other.get_json()["id"])
    assert client.get(WALLET, headers=headers).get_json()["items"] == []
    for call in (client.get(f"{WALLET}/{made['id']}", headers=headers),
                 client.post(present_url(made["id"]), json={}, headers=headers)):
        problem = assert_problem(call, 404, "licence_not_found")
        assert NAME not in json.dumps(problem, ensure_ascii=False)
    assert rows(app, Presentation) == []


def test_a_change_re_signs_it_for_the_same_enterprise(app, client, issuer, enterprise):
    made = issue(client, issuer, licence_body())
    response = client.post(f"{ISSUE}/{made['id']}/reissue", headers=issuer,
                           json={"kind": "change", "reason": "住所变更", "data": {"domicile": "安徽省合肥市包河区"}})
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["version"] == 2 and changed["holder"]["uscc"] == USCC and changed["parked"] is False
    row = _row(app, made["id"])
    assert (row.holder_kind, row.user_id) == ("enterprise", enterprise)
