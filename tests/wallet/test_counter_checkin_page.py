"""The counter page's check-in tab (预约签到) and its refusal cards in words a clerk understands
(issue 16, the counter): driven in headless Chromium against the real API, checking what is on screen.
The refusal of a suspended or revoked licence names the day (China time) of the change."""
from __future__ import annotations

import json

import pytest

from tests import vectors
from tests.fixtures.appointments import CLERK_PASSWORD, book
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import ISSUE, MATTER, VERIFY, issue, issue_body, present
from wallet.models import Licence
from wallet.presentation import CHINA

PAGE = "/counter/"
CARD = "document.getElementById('card')"


def changed_on(app, licence_id: str, pattern: str = "%Y年%m月%d日") -> str:
    """The day (China time) the licence's status last changed, as the refusal states it."""
    [row] = rows(app, Licence, Licence.id == licence_id)
    return row.updated_at.astimezone(CHINA).strftime(pattern)


def change_status(client, issuer, licence_id: str, status_code: str) -> None:
    response = client.post(f"{ISSUE}/{licence_id}/revoke", json={"status_code": status_code, "reason": "测试"},
                           headers=issuer)
    assert response.status_code == 200, response.get_json()


def open_as_clerk(browser, served: str, username: str, password: str) -> None:
    browser.send("Page.navigate", url=served + PAGE)
    browser.wait_for("document.readyState === 'complete' && !document.getElementById('login-view').hidden")
    browser.js(f"document.getElementById('username').value = {json.dumps(username)};"
               f"document.getElementById('password').value = {json.dumps(password)};"
               "document.getElementById('login-form').requestSubmit(); true")
    browser.wait_for("!document.getElementById('scan-view').hidden")
    browser.wait_for("document.activeElement && document.activeElement.id === 'scan'")


def choose_matter(browser, code: str) -> None:
    """The clerk picks the matter (办理事项) in the list above the scan box; focus returns to the scan box."""
    browser.wait_for(f"!!document.querySelector('#matter option[value={json.dumps(code)}]')")
    browser.js(f"(s => {{ s.focus(); s.value = {json.dumps(code)}; s.dispatchEvent(new Event('change')); return true; }})"
               "(document.getElementById('matter'))")
    browser.wait_for("document.activeElement && document.activeElement.id === 'scan'")


def card(browser, kind: str, containing: str) -> str:
    """The result card's visible text once it is of `kind` (ok/fail) and shows `containing`."""
    return browser.wait_for(f"(c => !c.hidden && c.classList.contains({json.dumps(kind)}) && "
                            f"c.innerText.includes({json.dumps(containing)}) && c.innerText)({CARD})")


# --- The API: a suspended or revoked licence's refusal names the day ----------------------------

@pytest.mark.parametrize("status_code, words, english", [
    ("02", "被暂扣", "suspended on"), ("07", "被撤销或吊销", "revoked on"), ("04", "注销或失效", "cancelled")])
def test_refusal_names_the_day_of_the_status_change(app, client, issuer, holder, licence, clerk, status_code,
                                                    words, english):
    other = issue(client, issuer, issue_body(reference="ref-2"))
    zh, en = present(client, holder, licence["id"]), present(client, holder, other["id"])
    change_status(client, issuer, licence["id"], status_code)
    change_status(client, issuer, other["id"], status_code)
    counter = clerk()
    body = assert_problem(client.post(VERIFY, json={"qr_text": zh["qr_text"], "matter": MATTER}, headers=counter), 422,
                          "licence_not_valid")
    assert f"已于{changed_on(app, licence['id'])}{words}" in body["detail"], body
    response = client.post(VERIFY, json={"qr_text": en["qr_text"], "matter": MATTER}, headers=counter | {"Accept-Language": "en"})
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "licence_not_valid", body
    assert english in body["detail"] and changed_on(app, other["id"], "%Y-%m-%d") in body["detail"], body


# --- The check-in tab in a real browser ---------------------------------------------------------

@pytest.mark.slow
def test_clerk_checks_in_a_booking_and_sees_why_others_are_refused(client, served, browser, make_hall, citizens,
                                                                    clerk_of, clock):
    make_hall()
    today, later = citizens(2)
    booked = book(client, today)                          # 2026-09-30 09:00, 事项ITEM-1
    too_early = book(client, later, day="2026-10-08")
    clerk_of("H1")
    clock("2026-09-30T08:50")
    open_as_clerk(browser, served, "clerk.h1", CLERK_PASSWORD)

    browser.js("document.getElementById('tab-checkin').click(); true")
    browser.wait_for("document.getElementById('scan-label').textContent.includes('签到')")
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(booked["check_in_code"])        # the booking's QR carries its code
    text = card(browser, "ok", "签到成功")
    assert "事项ITEM-1" in text and "2026-09-30 09:00–10:00" in text and "2026-09-30 08:50" in text, text
    assert "测试政务服务中心H1" in text

    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(booked["check_in_code"])
    text = card(browser, "fail", "该预约已签到")
    assert "签到未成功" in text

    # Typed by hand (lower case, as read aloud): a booking of another day says which day.
    browser.js("(f => { f.focus(); f.value = %s; f.form.requestSubmit(); return true; })"
               "(document.getElementById('checkin-code'))" % json.dumps(too_early["check_in_code"].lower()))
    text = card(browser, "fail", "不是今天的预约")
    assert "2026年10月08日" in text and "预约当天" in text, text

    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter("ABCDEFGH")
    text = card(browser, "fail", "签到码无效")
    assert "签到未成功" in text

    # The page in English (the tab's language preference): the headings and the server's detail.
    browser.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang: 'en'})); location.reload(); true")
    browser.wait_for("document.getElementById('scan-label').textContent.includes('licence QR')")
    browser.js("document.getElementById('tab-checkin').click(); true")
    browser.wait_for("document.getElementById('scan-label').textContent.includes('check-in QR')")
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(booked["check_in_code"])
    text = card(browser, "fail", "Already checked in")
    assert "Not checked in" in text and "has already been checked in" in text, text
    assert browser.errors == []


@pytest.mark.slow
def test_a_refused_verification_shows_why_and_the_suspension_day(app, client, served, browser, issuer,
                                                                   verified_citizen, runner):
    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    licence = issue(client, issuer)
    first = present(client, holder, licence["id"])
    out = runner.invoke(args=["staff", "create", "--username", "clerk.v", "--password", CLERK_PASSWORD,
                              "--role", "counter", "--hall", "H1"])
    assert "created" in out.output, out.output
    open_as_clerk(browser, served, "clerk.v", CLERK_PASSWORD)
    choose_matter(browser, "vehicle_check")

    browser.type_and_enter(first["qr_text"])
    card(browser, "ok", "核验通过")
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(first["qr_text"])
    text = card(browser, "fail", "亮证码已被使用")
    assert "核验未通过" in text and "重新出示" in text, text

    second = present(client, holder, licence["id"])
    change_status(client, issuer, licence["id"], "02")
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(second["qr_text"])
    text = card(browser, "fail", "证照无效：已被暂扣")
    assert f"已于{changed_on(app, licence['id'])}被暂扣" in text, text
    assert "张" not in text
    assert browser.errors == []
