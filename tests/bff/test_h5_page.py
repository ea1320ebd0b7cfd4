"""The H5 demo client (/m/): served with a strict CSP, and its journeys driven in headless Chromium
(phone-sized) against the real API: SMS login with the development outbox, real-name verification,
the home screen, the wallet's self-refreshing QR, cases with their timeline, nearby halls and a
notification arriving live on the stream."""
from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest

from app import calendar
from app.db import db, unit_of_work
from mapsvc import directory, importer
from notify.outbox import enqueue
from notify.tasks import NotifyWorker
from tests import vectors
from tests.fixtures.cases import event
from tests.fixtures.h5 import H5_SETTINGS, PAGE, sign_in, tab, visible
from tests.fixtures.halls import hall
from tests.helpers import bearer
from tests.wallet.conftest import issue, issue_body

CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "img-src 'self' blob: data:; frame-ancestors 'none'")
H5_DIR = Path(__file__).parents[2] / "bff" / "static" / "h5"
ALL_HOURS = '{"mon-sun": ["00:00-23:59"]}'


@pytest.fixture
def app(make_app):
    return make_app(**H5_SETTINGS)


# --- Serving -------------------------------------------------------------------------------------

def test_page_is_html_with_the_security_headers(client):
    response = client.get(PAGE)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/m/static/h5.js">']
    assert not re.search(r"\son[a-z]+=", html) and "<style" not in html and "style=" not in html
    assert 'href="/m/static/h5.css"' in html and "//" not in html.replace('content="width=device-width', "")


@pytest.mark.parametrize("name, mimetype", [("h5.js", "text/javascript"), ("h5.css", "text/css")])
def test_assets_are_served(client, name, mimetype):
    response = client.get(f"/m/static/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Content-Security-Policy"] == CSP
    assert len(response.get_data()) > 1000


def test_script_never_puts_data_into_markup_nor_tokens_into_urls(client):
    js = client.get("/m/static/h5.js").get_data(as_text=True)
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js
    assert "access_token=" not in js and "localStorage" not in js and "sessionStorage" in js


MODULES = sorted(str(p.relative_to(H5_DIR)) for p in H5_DIR.rglob("*.js"))


def test_every_module_the_page_imports_is_served(client):
    """Issue 16: h5.js is the shell; each journey is a module under views/. Following the imports from
    h5.js reaches every module in the folder, and each is served as JavaScript."""
    seen, todo = set(), ["h5.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        response = client.get(f"/m/static/{name}")
        assert response.status_code == 200 and response.mimetype == "text/javascript", name
        base = posixpath.dirname(name)
        for target in re.findall(r'^import [^;]*? from "(\.{1,2}/[^"]+)";', response.get_data(as_text=True), re.M):
            todo.append(posixpath.normpath(posixpath.join(base, target)))
    assert seen == set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_no_module_puts_data_into_markup_nor_tokens_into_urls(client, name):
    js = client.get(f"/m/static/{name}").get_data(as_text=True)
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js
    assert "access_token=" not in js and "localStorage" not in js


# --- Journeys in a real browser ------------------------------------------------------------------

def no_personal_data(cdp) -> None:
    html = cdp.js("document.documentElement.outerHTML")
    assert vectors.ZHANG_SAN[1] not in html and vectors.PHONES[0] not in html  # (input values are not markup)
    assert vectors.ZHANG_SAN[1] not in cdp.js("document.body.innerText")
    urls = cdp.js("performance.getEntriesByType('resource').map(e => e.name).join(' ')")
    assert "token" not in urls and vectors.ZHANG_SAN[1] not in urls


@pytest.fixture
def halls(app):
    """Three halls open round the clock near central Hefei."""
    directory.forget()
    calendar.forget()
    records = [hall(f"H-{i}", lat=str(31.8206 + i * 0.002), hours=ALL_HOURS, holiday_rule="open") for i in range(3)]
    with app.app_context(), db.connection_context():
        importer.import_records(((i + 2, r) for i, r in enumerate(records)), "gcj02")
    yield
    directory.forget()
    calendar.forget()


@pytest.mark.slow
def test_login_real_name_and_home(client, runner, phone, machine_token, halls):
    sign_in(phone, runner)
    assert "L2" in phone.js("document.getElementById('profile').innerText")
    assert phone.js("document.getElementById('rn-id').value") == ""
    # A licence and a case arrive; the home tab shows them with the nearest open halls.
    issue(client, bearer(machine_token("licences:issue")), issue_body())
    dept = bearer(machine_token("cases:write"))
    for seq, status in enumerate(("submitted", "accepted"), start=1):
        assert client.post("/api/v1/dept/case-events", headers=dept, json=event(seq, status)).status_code == 202
    tab(phone, "home")
    phone.wait_for("document.getElementById('home-licences').innerText.includes('机动车驾驶证')")
    phone.wait_for("document.getElementById('home-cases').innerText.includes('个体工商户设立登记')")
    halls_text = phone.wait_for("(t => t.includes('测试网点') && t)(document.getElementById('home-halls').innerText)")
    assert "测试网点H-0" in halls_text
    assert phone.js("document.getElementById('home-where').textContent") == "按当前位置"
    assert phone.js("innerWidth") == 390
    no_personal_data(phone)


@pytest.mark.slow
def test_cases_with_timeline_and_nearby_halls(client, runner, phone, machine_token, halls):
    sign_in(phone, runner)
    dept = bearer(machine_token("cases:write"))
    for seq, status in enumerate(("submitted", "accepted", "in_review"), start=1):
        body = event(seq, status, message="材料齐全" if status == "accepted" else None)
        assert client.post("/api/v1/dept/case-events", headers=dept, json=body).status_code == 202
    tab(phone, "cases")
    phone.wait_for("document.querySelectorAll('#cases [data-case]').length === 1")
    phone.js("document.querySelector('#cases [data-case]').click(); true")
    phone.wait_for("document.querySelectorAll('#timeline li').length >= 3")
    detail = visible(phone, "case-detail")
    assert "个体工商户设立登记" in detail and "C-2026-0001" in detail and "材料齐全" in detail
    tab(phone, "halls")
    phone.wait_for("document.querySelectorAll('#halls [data-hall]').length === 3")
    names = phone.js("[...document.querySelectorAll('#halls [data-hall] .title')].map(e => e.textContent)")
    assert names == ["测试网点H-0", "测试网点H-1", "测试网点H-2"]
    assert "营业中" in phone.js("document.getElementById('halls').innerText")
    no_personal_data(phone)


@pytest.mark.slow
def test_a_notification_arrives_live(app, runner, phone):
    user_id = sign_in(phone, runner)
    tab(phone, "notices")
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    with app.app_context(), db.connection_context(), unit_of_work():
        enqueue(user_id=user_id, kind="system", title="演示通知", body="您的证照已更新。", dedupe_key="h5:live", urgent=True)
    NotifyWorker(app).drain()
    phone.wait_for("document.getElementById('notices').innerText.includes('演示通知')")
    phone.wait_for("document.getElementById('unread').getAttribute('data-count') === '1'")
    assert "新消息" in phone.js("document.getElementById('message').textContent")
    # Read on tap: the badge goes away.
    phone.wait_for("(n => n && (n.click(), true))(document.querySelector('#notices [data-notice].unread'))")
    phone.wait_for("document.getElementById('unread').hidden")


@pytest.mark.slow
def test_an_expired_access_token_is_refreshed_and_elderly_mode_is_honoured(client, runner, phone):
    sign_in(phone, runner)
    assert phone.js("document.documentElement.classList.contains('elderly')") is False
    stored = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))
    assert client.put("/api/v1/bff/preferences", json={"elderly_mode": True},
                      headers=bearer(stored["access"])).status_code == 200
    # The access token goes bad: the next call answers 401 token_invalid, the page refreshes and retries.
    phone.js("(s => { s.access = 'not-a-token'; sessionStorage.setItem('yiwang.h5', JSON.stringify(s)); })"
             "(JSON.parse(sessionStorage.getItem('yiwang.h5'))); location.reload(); true")
    phone.wait_for("!document.getElementById('home-view').hidden && "
                   "document.documentElement.classList.contains('elderly')")
    renewed = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))
    assert renewed["access"] not in ("not-a-token", stored["access"]) and renewed["refresh"] != stored["refresh"]
    assert "大字版" in visible(phone, "profile")
    # Signing out forgets the tokens.
    phone.js("document.getElementById('logout').click(); true")
    phone.wait_for("!document.getElementById('login-view').hidden")
    assert phone.js("sessionStorage.getItem('yiwang.h5')") is None


# --- Issue 14 item 24: what a person sees ---------------------------------------------------------

@pytest.mark.slow
def test_the_send_button_counts_down_before_a_new_code(phone):
    """Issue 14 item 24: no resend countdown on login; the button now says how long to wait."""
    phone.js(f"document.getElementById('phone').value = {json.dumps(vectors.PHONES[0])};"
             "document.getElementById('phone-form').requestSubmit(); true")
    text = phone.wait_for("(b => b.disabled && /重新获取（\\d+ 秒）/.test(b.textContent) && b.textContent)"
                          "(document.getElementById('send-code'))")
    assert 50 <= int(re.search(r"(\d+)", text).group(1)) <= 60  # resend_after of the answer (60 s)
    phone.wait_for(f"document.getElementById('send-code').textContent !== {json.dumps(text)}")  # it ticks


@pytest.mark.slow
def test_timeline_labels_and_the_promised_dates(client, runner, phone, machine_token):
    """Issue 14 item 24: the timeline showed raw kinds (`evaluation`) and the SLA due date was
    hidden; a person now reads 服务评价, the promised date and a 补正 deadline."""
    sign_in(phone, runner)
    dept = bearer(machine_token("cases:write"))
    for seq, status in enumerate(("submitted", "accepted", "in_review", "approved", "concluded"), start=1):
        body = event(seq, status, promised_days=10 if status == "accepted" else None)
        assert client.post("/api/v1/dept/case-events", headers=dept, json=body).status_code == 202
    for seq, status in enumerate(("submitted", "supplement_required"), start=1):
        body = event(seq, status, case_no="C-2026-0002", supplement_due="2026-03-20" if seq == 2 else None)
        assert client.post("/api/v1/dept/case-events", headers=dept, json=body).status_code == 202
    token = json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["access"]
    concluded = next(c for c in client.get("/api/v1/cases", headers=bearer(token)).get_json()["items"]
                     if c["case_no"] == "C-2026-0001")
    assert client.post(f"/api/v1/cases/{concluded['id']}/evaluation", json={"rating": 5, "tags": ["quick"]},
                       headers=bearer(token)).status_code == 201
    tab(phone, "cases")
    phone.wait_for("document.querySelectorAll('#cases [data-case]').length === 2")
    assert "请于 2026-03-20 前补正材料" in phone.js("document.getElementById('cases').innerText")
    phone.js(f"document.querySelector('#cases [data-case=\"{concluded['id']}\"]').click(); true")
    phone.wait_for("document.querySelectorAll('#timeline li').length === 6")
    titles = phone.js("[...document.querySelectorAll('#timeline li .title')].map(e => e.textContent)")
    assert titles == ["已提交", "受理", "审查/办理中", "准予", "办结", "服务评价"]
    assert "非常满意" in phone.js("document.getElementById('timeline').innerText")
    assert re.fullmatch(r"承诺 2026-03-\d\d 前办结", visible(phone, "case-due"))


@pytest.mark.slow
def test_a_hall_closed_today_is_shown_closed(app, client, runner, phone, halls):
    """Issue 14 item 24: a hall with no hours today (an empty list, truthy in JavaScript) was shown
    with 今日 and no hours as if open; it now reads 今日休息 with the reason."""
    today = str(calendar.china_now().date())
    closed = hall("H-9", lat="31.8200", hours=ALL_HOURS, closures=json.dumps([{"from": today, "reason": "装修"}]))
    with app.app_context(), db.connection_context():
        importer.import_records(iter([(2, closed)]), "gcj02")
    directory.forget()
    sign_in(phone, runner)
    tab(phone, "halls")
    phone.wait_for("document.querySelectorAll('#halls [data-hall]').length === 4")
    line = phone.js("[...document.querySelectorAll('#halls [data-hall]')]"
                    ".find(e => e.innerText.includes('测试网点H-9')).innerText")
    assert "今日休息（装修）" in line and "营业中" not in line
    assert phone.js("document.querySelectorAll('#halls [data-open=no]').length") == 1
    tab(phone, "home")  # the home screen lists open halls only: the closed one is not among them
    home = phone.wait_for("(t => t.includes('测试网点H-0') && t)(document.getElementById('home-halls').innerText)")
    assert "测试网点H-9" not in home and home.count("营业中") == 3


# --- Issue 15: the pages' one client (/static/web/api.js) ------------------------------------------

@pytest.mark.slow
def test_the_shared_client_words_problems_in_the_pages_language(phone):
    """A problem+json answer reads as its detail and its field reasons; Accept-Language follows the
    page's language (<html lang>, or the tab's stored preference); elderly mode is kept for the tab."""
    ask = ("import('/static/web/api.js').then(m => m.createClient({session: new m.Store(sessionStorage, 'probe')})"
           ".send('POST', '/auth/sms-codes', {phone: '123'}).then(r => [r.status, m.problemMessage(r.data)]))")
    assert phone.js(ask) == [422, "请输入正确的中国大陆手机号码。（请输入 11 位中国大陆手机号码。）"]
    phone.js("import('/static/web/api.js').then(m => m.preferences.setLanguage('en'))")
    assert phone.js(ask) == [422, "Please enter a valid mainland China mobile number. "
                                  "(Enter an 11-digit mainland China mobile number.)"]
    assert phone.js("import('/static/web/api.js').then(m => m.problemMessage({}, '登录失败。'))") == "登录失败。"
    phone.js("import('/static/web/api.js')"
             ".then(m => (m.preferences.setLanguage(null), m.preferences.setElderly(true)))")
    assert phone.js("document.documentElement.classList.contains('elderly')") is True
    phone.js("window.before = true; location.reload(); true")
    phone.wait_for("!window.before && document.readyState === 'complete' && "
                   "!document.getElementById('login-view').hidden")
    assert phone.js("document.documentElement.classList.contains('elderly')") is True
    assert phone.js(ask)[1].startswith("请输入正确")
