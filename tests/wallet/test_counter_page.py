"""The counter page (柜台核验页面): served with a strict CSP, and driven end to end in headless
Chromium over the Chrome DevTools Protocol against the real counter API."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests import vectors
from tests.helpers import bearer
from tests.wallet.conftest import issue
from tests.wallet.test_counter_checkin_page import choose_matter

PAGE = "/counter/"
CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; frame-ancestors 'none'")
CLERK, CLERK_PASSWORD = "clerk1", "Counter#Pass2026"


# --- Serving -------------------------------------------------------------------------------------

def test_page_is_html_with_the_security_headers(client):
    response = client.get(PAGE)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    # CSP: no inline script, handler or style; only the page's own files.
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/counter/static/counter.js">']
    assert "</script>" in html and not re.search(r"<script[^>]*>\s*\S+\s*</script>", html.replace(
        '<script type="module" src="/counter/static/counter.js"></script>', ""))
    assert not re.search(r"\son[a-z]+=", html) and "<style" not in html and "style=" not in html
    assert 'href="/counter/static/counter.css"' in html


@pytest.mark.parametrize("name, mimetype", [("counter.js", "text/javascript"), ("counter.css", "text/css")])
def test_assets_are_served(client, name, mimetype):
    response = client.get(f"/counter/static/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Content-Security-Policy"] == CSP
    assert len(response.get_data()) > 500


COUNTER_DIR = Path(__file__).parents[2] / "wallet" / "static" / "counter"


@pytest.mark.parametrize("name", sorted(p.name for p in COUNTER_DIR.glob("*.js")))
def test_script_never_puts_data_into_markup(client, name):
    """counter.js and the modules it imports (checkin.js: the check-in tab)."""
    response = client.get(f"/counter/static/{name}")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Content-Security-Policy"] == CSP
    js = response.get_data(as_text=True)
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js


# --- The page in a real browser ------------------------------------------------------------------

def assert_one_row_per_fact(browser) -> None:
    """The card shows each fact once (issue 14 item 17): no label twice, no value twice (the holder's
    name, the status 有效 and the validity end were each shown under two labels)."""
    terms = browser.js("Array.from(document.querySelectorAll('#card dt')).map(n => n.textContent)")
    values = browser.js("Array.from(document.querySelectorAll('#card dd')).map(n => n.textContent)")
    assert len(terms) == len(set(terms)) and len(values) == len(set(values)), list(zip(terms, values))
    assert dict(zip(terms, values))["持证人"] == "张*" and "姓名" not in terms
    assert [v for v in values if v == "有效"] == ["有效"] and "状态" not in terms and "有效期止" not in terms


@pytest.mark.slow
def test_clerk_scans_a_code_in_the_browser(client, runner, served, browser, issuer, verified_citizen,
                                           tmp_path):
    # A real one-time code: a licence issued to 张三, shown from the wallet.
    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    licence = issue(client, issuer)
    response = client.post(f"/api/v1/wallet/licences/{licence['id']}/presentations", json={"purpose": "租车"},
                           headers=holder)
    assert response.status_code == 201, response.get_json()
    qr_text = response.get_json()["qr_text"]
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
    assert browser.wait_for("document.activeElement && document.activeElement.id === 'scan'")
    assert "clerk1" in browser.js("document.getElementById('who-text').textContent")
    # Labels come from /licence-types (fetched at start); wait so the card uses them.
    browser.wait_for("performance.getEntriesByType('resource').some(e => e.name.endsWith('/licence-types'))")
    choose_matter(browser, "vehicle_check")  # the matter comes first (issue 16)

    browser.type_and_enter(qr_text)
    card = browser.wait_for("(c => c.classList.contains('ok') && !c.hidden && c.innerText)"
                            "(document.getElementById('card'))")
    assert "核验通过" in card and "机动车驾驶证" in card and "张*" in card
    assert "准驾车型" in card or "C1" in card
    assert "test client" in card and "有效" in card and "租车" in card
    assert_one_row_per_fact(browser)
    assert vectors.ZHANG_SAN[1] not in browser.js("document.documentElement.outerHTML")
    # Focus comes back to the scan box, and today's list shows the scan.
    browser.wait_for("document.activeElement.id === 'scan'")
    browser.wait_for("document.querySelectorAll('#today-list li').length === 1")

    browser.type_and_enter(qr_text)
    card = browser.wait_for("(c => c.classList.contains('fail') && !c.hidden && c.innerText)"
                            "(document.getElementById('card'))")
    assert "核验未通过" in card and "使用" in card, card
    assert "张" not in card
    browser.wait_for("document.querySelectorAll('#today-list li').length === 2")
    assert "已被使用" in browser.js("document.getElementById('today-list').innerText")

    # The fallback: a fresh code typed as its 8 digits.
    again = client.post(f"/api/v1/wallet/licences/{licence['id']}/presentations", json={}, headers=holder)
    assert again.status_code == 201, again.get_json()
    browser.js("(m => { m.focus(); m.value = %s; m.form.requestSubmit(); return true; })"
               "(document.getElementById('manual'))" % json.dumps(again.get_json()["manual_code"]))
    card = browser.wait_for("(c => c.classList.contains('ok') && !c.hidden && c.innerText)"
                            "(document.getElementById('card'))")
    assert "核验通过" in card and "张*" in card
    assert_one_row_per_fact(browser)
    browser.wait_for("document.querySelectorAll('#today-list li').length === 3")
    browser.wait_for("document.activeElement.id === 'scan'")

    shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    path = tmp_path / "counter.png"
    path.write_bytes(shot)
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and path.stat().st_size > 1000
