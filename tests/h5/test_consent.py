"""The licence-consent journey on the H5 page (用证授权, issue 17), on the demo data: a bank asks the demo
citizen (by the phone he gave it) to check his ID card for a bank account opening; the page, opened
from the notice's deep link, shows who asks, the matter, its legal basis and the fields; he approves
with the SMS code sent for this request (the development outbox fills it in), and the bank's poll
gets the signed disclosure, which verifies. In English: the same screen, refused."""
from __future__ import annotations

import json
import secrets

import pytest

from app.db import db
from consent import service as consent
from identity.devdata import DEMO_CITIZEN
from tests.fixtures.h5 import sign_in_demo, snap, visible, wait_text
from tests.helpers import bearer

pytestmark = pytest.mark.slow
ID_NUMBER = DEMO_CITIZEN[1][1]


def _bank(client, runner) -> dict[str, str]:
    out = runner.invoke(args=["clients", "create", "--name", "徽商银行合肥分行", "--scopes", "verifications:request"]).output
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    answer = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds})
    assert answer.status_code == 200, answer.get_json()
    return bearer(answer.get_json()["access_token"])


def token(cdp) -> dict[str, str]:
    """The signed-in page's own bearer header (to ask the API what the page should show)."""
    return bearer(json.loads(cdp.js("sessionStorage.getItem('yiwang.h5')"))["access"])


def _ask(client, bank) -> dict:
    body = {"citizen": {"phone": DEMO_CITIZEN[0]}, "matter": "identity_check",
            "dcql_query": {"credentials": [{"id": "id", "meta": {"type_values": ["resident_id_card"]}}]},
            "nonce": secrets.token_urlsafe(16), "state": "account-42", "response_mode": "poll"}
    answer = client.post("/api/v1/verifier/requests", json=body, headers=bank)
    assert answer.status_code == 201, answer.get_json()
    return {**answer.get_json(), "sent": body}


def _open(phone, request_id: str) -> str:
    phone.js(f"location.hash = '#/consent/{request_id}'; true")  # what the notice's yiwang://consent/<id> opens
    phone.wait_for(f"(b => b && b.getAttribute('data-request') === {json.dumps(request_id)})"
                   "(document.getElementById('cs-detail'))")
    return wait_text(phone, "#cs-detail", "身份核验") if phone.js("document.documentElement.lang") != "en" \
        else wait_text(phone, "#cs-detail", "Identity check")


def test_the_demo_citizen_approves_a_banks_request_with_the_step_up(app, client, runner, demo, phone):
    bank = _bank(client, runner)
    asked = _ask(client, bank)
    sign_in_demo(phone)
    shown = _open(phone, asked["id"])
    assert "徽商银行合肥分行" in shown and "身份核验" in shown
    basis = client.get(f"/api/v1/consent/requests/{asked['id']}", headers=token(phone)).get_json()["matter"]["legal_basis"]
    assert not basis or ("法律依据" in shown and basis in shown)  # the matter's legal basis, as the catalogue has it
    assert "姓名" in shown and "公民身份号码" in shown and ID_NUMBER not in shown  # field names, never values
    phone.wait_for("document.querySelectorAll('#cs-licence option').length === 1")
    snap(phone, "consent-request")
    phone.js("document.getElementById('cs-sms-send').click(); true")
    assert "开发环境" in visible(phone, "cs-sms-dev")
    phone.wait_for("document.getElementById('cs-sms').value.length === 6")
    phone.js("document.getElementById('cs-yes').click(); true")
    done = wait_text(phone, "#cs-detail", "已同意")
    assert "已出示" in done and ID_NUMBER not in phone.js("document.documentElement.outerHTML")
    snap(phone, "consent-approved")

    polled = client.get(f"/api/v1/verifier/requests/{asked['id']}", headers=bank).get_json()
    assert polled["status"] == "approved"
    with app.app_context(), db.connection_context():
        payload = consent.verify_disclosure(polled["vp_token"])
    assert (payload["nonce"], payload["state"]) == (asked["sent"]["nonce"], "account-42")
    assert payload["credential"]["type"] == "resident_id_card"
    assert set(payload["claims"]) == {"name", "id_number"} and payload["claims"]["id_number"] != ID_NUMBER

    # the list keeps the record of what went to whom
    phone.js("location.hash = '#/consent'; true")
    record = wait_text(phone, "#cs-history", "已同意")
    assert "徽商银行合肥分行" in record and "身份核验" in record and "姓名" in record and ID_NUMBER not in record


def test_in_english_the_same_screen_and_a_refusal(app, client, runner, demo, phone):
    bank = _bank(client, runner)
    asked = _ask(client, bank)
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang: 'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone)
    shown = _open(phone, asked["id"])
    basis = client.get(f"/api/v1/consent/requests/{asked['id']}",
                       headers={**token(phone), "Accept-Language": "en"}).get_json()["matter"]["legal_basis"]
    assert "Asked by" in shown and (not basis or ("Legal basis" in shown and basis in shown))
    assert "They will see" in shown and "Name" in shown
    snap(phone, "consent-request-en")
    phone.js("document.getElementById('cs-no').click(); true")
    assert "Refused" in wait_text(phone, "#cs-detail", "Refused")
    polled = client.get(f"/api/v1/verifier/requests/{asked['id']}", headers=bank).get_json()
    assert (polled["status"], polled["error"], polled["vp_token"]) == ("refused", "access_denied", None)
