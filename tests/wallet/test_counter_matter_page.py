"""The counter page's matter (办理事项) choice and its refusal cards, in headless Chromium against the
real API (issue 16, the counter): the clerk chooses the matter before scanning (remembered for the
tab's session), the card names it; a licence the matter does not accept and a code already used are
refused in words a clerk can act on, in Chinese and in English; the check-in tab says too early and
another hall's booking (that hall's name)."""
from __future__ import annotations

import base64
import json

import pytest

from tests import vectors
from tests.fixtures.appointments import CLERK_PASSWORD, book
from tests.helpers import bearer
from tests.wallet.conftest import issue, present
from tests.wallet.test_counter_checkin_page import card, choose_matter, open_as_clerk

pytestmark = pytest.mark.slow


def shot(browser, tmp_path, name: str) -> None:
    data = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    (tmp_path / f"counter-{name}.png").write_bytes(data)


def clerk_account(runner, username: str, hall: str = "H1") -> None:
    out = runner.invoke(args=["staff", "create", "--username", username, "--password", CLERK_PASSWORD,
                              "--role", "counter", "--hall", hall])
    assert "created" in out.output, out.output


def test_the_matter_comes_first_and_two_refusals_say_what_to_do(client, runner, served, browser, issuer,
                                                                verified_citizen, tmp_path):
    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    licence = issue(client, issuer)                                  # a driving licence
    shown = present(client, holder, licence["id"])
    clerk_account(runner, "clerk.m")
    open_as_clerk(browser, served, "clerk.m", CLERK_PASSWORD)
    browser.wait_for("document.getElementById('matter-label').innerText.includes('办理事项')")
    assert browser.js("document.getElementById('matter').value") == ""

    # Scanning before choosing: nothing is sent, the clerk is asked for the matter.
    browser.type_and_enter(shown["qr_text"])
    text = card(browser, "fail", "请先选择办理事项")
    assert "亮证码未作废" in text, text
    shot(browser, tmp_path, "matter-missing")

    # Hotel check-in does not take a driving licence: the card says which licences it takes.
    choose_matter(browser, "hotel_check_in")
    hint = browser.js("document.getElementById('matter-hint').innerText")
    assert "居民身份证" in hint and "公民身份号码（仅后4位）" in hint, hint
    assert "依据：《旅馆业治安管理办法》第六条" in hint, hint  # the matter's legal basis (issue 17)
    browser.type_and_enter(shown["qr_text"])
    text = card(browser, "fail", "该事项不接受这种证照")
    assert "核验未通过" in text and "机动车驾驶证" in text and "可核验的证照：居民身份证" in text, text
    assert "请重新选择办理事项后再扫一次" in text and "事项：旅馆住宿登记" in text, text
    assert "张" not in text
    shot(browser, tmp_path, "matter-not-applicable")

    # The right matter: the same code passes, the card names the matter and shows its fields only.
    choose_matter(browser, "vehicle_check")
    browser.type_and_enter(shown["qr_text"])
    text = card(browser, "ok", "核验通过")
    assert "事项：驾驶资格核查" in text and "准驾车型" in text and "C1" in text and "张*" in text, text
    assert "证件号码" not in text and vectors.ZHANG_SAN[1] not in browser.js("document.documentElement.outerHTML")
    browser.wait_for("document.getElementById('today-list').innerText.includes('驾驶资格核查')")
    shot(browser, tmp_path, "verified")

    # The matter is remembered for the session (a reload keeps it); the used code is refused.
    # The old page satisfies every wait below too: wait for the new document first, or the scan may be
    # typed into the page being unloaded (seen under load: the new page then sent it without its matter).
    browser.js("window.before = true; location.reload(); true")
    browser.wait_for("!window.before && document.readyState === 'complete'")
    browser.wait_for("document.getElementById('matter').value === 'vehicle_check'")
    browser.wait_for("document.activeElement && document.activeElement.id === 'scan'")
    browser.type_and_enter(shown["qr_text"])
    text = card(browser, "fail", "亮证码已被使用")
    assert "刷新亮证码" in text and "事项：驾驶资格核查" in text, text
    shot(browser, tmp_path, "used")

    # In English: the list, the refusal heading and the server's words.
    fresh = present(client, holder, licence["id"])
    browser.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang: 'en'})); location.reload(); true")
    browser.wait_for("document.getElementById('matter-label').innerText.includes('Matter')")
    browser.wait_for("document.getElementById('matter').selectedOptions[0].text === 'Driving entitlement check'")
    choose_matter(browser, "hotel_check_in")
    browser.type_and_enter(fresh["qr_text"])
    text = card(browser, "fail", "This matter does not accept this licence")
    assert "does not accept a Motor vehicle driving licence" in text and "choose another matter" in text, text
    shot(browser, tmp_path, "matter-not-applicable-en")

    # Logging out forgets the matter.
    browser.js("document.getElementById('logout').click(); true")
    browser.wait_for("!document.getElementById('login-view').hidden")
    assert browser.js(f"sessionStorage.getItem({json.dumps('yiwang.counter.matter')})") is None
    assert browser.errors == []


def test_the_checkin_tab_says_too_early_and_names_the_other_hall(client, served, browser, make_hall, citizens,
                                                                 clerk_of, clock, tmp_path):
    make_hall()
    make_hall("hall_b", "H2")
    early, elsewhere = citizens(2)
    at_h1 = book(client, early)                                      # 2026-09-30 09:00–10:00 at H1
    at_h1_too = book(client, elsewhere)
    clerk_of("H1")
    clerk_of("H2")
    clock("2026-09-30T07:30")
    open_as_clerk(browser, served, "clerk.h1", CLERK_PASSWORD)
    browser.js("document.getElementById('tab-checkin').click(); true")
    browser.wait_for("document.getElementById('scan-label').textContent.includes('签到')")
    assert browser.js("document.getElementById('matter-box').hidden") is True
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(at_h1["check_in_code"])
    text = card(browser, "fail", "来早了，还没到签到时间")
    assert "08:00起才能签到" in text and "签到未成功" in text, text
    shot(browser, tmp_path, "checkin-too-early")

    clock("2026-09-30T09:05")
    browser.js("document.getElementById('logout').click(); true")
    open_as_clerk(browser, served, "clerk.h2", CLERK_PASSWORD)
    browser.js("document.getElementById('tab-checkin').click(); true")
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.type_and_enter(at_h1_too["check_in_code"])
    text = card(browser, "fail", "不是本大厅的预约")
    assert "“测试政务服务中心H1”" in text and "前往该大厅" in text, text
    assert "09:00" not in text and "ITEM" not in text
    shot(browser, tmp_path, "checkin-other-hall")
    assert browser.errors == []
