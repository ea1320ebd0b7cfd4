"""The H5 shell: deep links open their screen, the back button, and a view without a tab."""
from __future__ import annotations

import json
import time

from tests.fixtures.h5 import sign_in_demo, snap, tab, wait_text


def test_the_demo_citizen_signs_in_and_a_deep_link_opens_its_screen(demo, phone):
    sign_in_demo(phone)
    phone.wait_for("document.querySelectorAll('#home-licences li').length >= 1")
    snap(phone, "home")
    phone.js("location.hash = '#/cases'; true")
    phone.wait_for("!document.getElementById('cases-view').hidden")
    case_id = phone.wait_for("(li => li && li.getAttribute('data-case'))(document.querySelector('#cases li[data-case]'))")
    phone.js(f"location.href = 'yiwang://cases/{case_id}'.replace('yiwang://', '#/'); true")
    phone.wait_for("!document.getElementById('case-detail').hidden")
    tab(phone, "halls")
    assert phone.js("!document.getElementById('back').hidden")


ROUTES = ["home", "wallet", "signing", "halls", "appointments", "appointments/new", "cases", "notices",
          "notices/preferences", "proxies", "consent", "settings", "enterprises"]


def _wide(cdp) -> list:
    """Elements wider than the phone's screen (what would make a person scroll sideways)."""
    return cdp.js("""(() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        document.querySelectorAll('body *').forEach(e => {
            const r = e.getBoundingClientRect();
            if (e.offsetParent !== null && r.width > 0 && r.right > width + 1) { out.push((e.id || e.tagName) + ':' + Math.round(r.right)); }
        });
        return document.documentElement.scrollWidth > width ? ['page:' + document.documentElement.scrollWidth].concat(out) : [];
    })()""")


def _reload_with(cdp, lang: str, elderly: bool) -> None:
    """The account's display preferences (what the settings screen saves), then a reload: the page
    starts in them."""
    body = json.dumps({"language": lang, "elderly_mode": elderly})
    status = cdp.js("fetch('/api/v1/bff/preferences', {method: 'PUT', headers: {'Content-Type': 'application/json', "
                    "Authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('yiwang.h5')).access}, "
                    f"body: {json.dumps(body)}}}).then(r => r.status)")
    assert status == 200
    cdp.js("history.replaceState(null, '', '#/home'); window.__before = true; location.reload(); true")
    cdp.wait_for("!window.__before && document.readyState === 'complete' && !document.getElementById('home-view').hidden")
    cdp.wait_for(f"document.documentElement.classList.contains('elderly') === {str(elderly).lower()} && "
                 f"document.documentElement.lang === {json.dumps('en' if lang == 'en' else 'zh-CN')}")
    time.sleep(0.5)  # the shell's sign-in step draws the screen once more when the account's answers arrive


def test_every_screen_fits_a_phones_width_in_both_languages_and_in_large_type(demo, phone):
    sign_in_demo(phone)
    # the check sees an element wider than the screen
    phone.js("const d = document.createElement('div'); d.id = 'too-wide'; d.style.width = '600px'; d.textContent = 'x';"
             "document.getElementById('home-view').appendChild(d); true")
    assert any(w.startswith("too-wide") for w in _wide(phone))
    phone.js("document.getElementById('too-wide').remove(); true")
    for lang, elderly in (("zh-CN", False), ("en", False), ("en", True), ("zh-CN", True)):
        _reload_with(phone, lang, elderly)
        assert phone.js("document.documentElement.lang") == ("en" if lang == "en" else "zh-CN")
        assert phone.js("document.documentElement.classList.contains('elderly')") == elderly
        for route in ROUTES:
            view = route.split("/")[0]
            phone.js(f"location.hash = '#/{route}'; true")
            phone.wait_for(f"!document.getElementById('{view}-view').hidden && "
                           f"document.getElementById('{view}-view').innerText.trim().length > 0")
            time.sleep(0.3)  # the view's answers arrive and are drawn
            assert _wide(phone) == [], (lang, elderly, route)
