"""The wallet journey on the H5 page (issue 16), on the demo data: the demo citizen's three licences
(the driving licence suspended: marked, no QR), a licence's detail (masked fields, issuer, validity,
state; the notices' deep link yiwang://wallet/licences/<id> opens it), the one-time QR (countdown,
renewed before it expires, withdrawn on close), who checked the licences after a real counter
verification by the demo clerk, a licence suspended meanwhile refused in words, English, and the
wallet of the citizen a relative acts for (no QR without licences:present)."""
from __future__ import annotations

import json
import re

from app.db import db
from identity.devdata import DEMO_CITIZEN, DEMO_FAMILY, DEMO_STAFF
from issuers.models import IssuerClient
from tests.fixtures.h5 import TTL, sign_in_demo, snap, tab, text_of, visible, wait_text
from tests.helpers import bearer
from wallet import service as wallet
from wallet.models import Licence

ID_NUMBER = DEMO_CITIZEN[1][1]  # the demo citizen's ID number: never on the page
NAME = DEMO_CITIZEN[1][0]
HALL = DEMO_STAFF[0][3]
VERIFY = "/api/v1/counter/verifications"


# --- Helpers ---------------------------------------------------------------------------------------

def token(cdp) -> dict[str, str]:
    """The signed-in page's own bearer header (to ask the API what the page should show)."""
    return bearer(json.loads(cdp.js("sessionStorage.getItem('yiwang.h5')"))["access"])


def clerk(client) -> dict[str, str]:
    """The demo clerk (clerk01 of the demo hall) logged in at the counter."""
    username, password = DEMO_STAFF[0][:2]
    answer = client.post("/api/v1/auth/staff-login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.get_json()
    return bearer(answer.get_json()["access_token"])


def listed(cdp) -> list[dict]:
    """The wallet list as a person reads it: each licence's text, state and whether it offers a QR."""
    return cdp.js("[...document.querySelectorAll('#licences [data-licence]')].map(li => ({"
                  "id: li.getAttribute('data-licence'), status: li.getAttribute('data-status'), text: li.innerText,"
                  "qr: !!li.querySelector('button.qr-open')}))")


def open_wallet(cdp) -> list[dict]:
    tab(cdp, "wallet")
    cdp.wait_for("document.querySelectorAll('#licences [data-licence]').length === 3")
    return listed(cdp)


def row_of(rows: list[dict], type_name: str) -> dict:
    return next(r for r in rows if r["text"].startswith(type_name))


def show_qr(cdp, licence_id: str) -> str:
    """Tap 亮证 on a licence of the list; returns the presentation on screen once its image is drawn."""
    cdp.js(f"document.querySelector('#licences [data-licence=\"{licence_id}\"] button.qr-open').click(); true")
    shown = cdp.wait_for("document.getElementById('qr-panel').getAttribute('data-presentation')")
    cdp.wait_for("(i => i.complete && i.naturalWidth > 100 && i.src.startsWith('blob:'))(document.getElementById('qr-img'))")
    return shown


def no_personal_data(cdp) -> None:
    html = cdp.js("document.documentElement.outerHTML")
    assert ID_NUMBER not in html and ID_NUMBER not in cdp.js("document.body.innerText")
    urls = cdp.js("performance.getEntriesByType('resource').map(e => e.name).join(' ')")
    assert "token" not in urls and ID_NUMBER not in urls


def suspend(app, licence_id: str, reason: str) -> None:
    """The issuing department suspends the licence (as its issuer would through its API)."""
    with app.app_context(), db.connection_context():
        department = Licence.get_by_id(licence_id).issuer_id  # the registry's department (issue 17)
        issuer_client = IssuerClient.get(IssuerClient.issuer == department).client_id
        wallet.change_status(client_id=issuer_client, licence_id=licence_id, status_code="02", reason=reason)


# --- The journey -----------------------------------------------------------------------------------

def test_the_list_marks_the_suspended_licence_and_a_notice_link_opens_its_detail(demo, phone):
    sign_in_demo(phone)
    rows = open_wallet(phone)
    snap(phone, "wallet-list")
    # Three licences, each with its type, issuer and state; only the valid ones offer a QR.
    assert sorted(r["status"] for r in rows) == ["01", "01", "02"]
    for name, department in (("居民身份证", "安徽省公安厅"), ("营业执照", "合肥市市场监督管理局")):
        row = row_of(rows, name)
        assert row["status"] == "01" and row["qr"] and "有效" in row["text"] and "亮证" in row["text"]
        assert department in row["text"]
    driving = row_of(rows, "机动车驾驶证")
    assert driving["status"] == "02" and not driving["qr"]
    assert "暂扣" in driving["text"] and "不能亮证" in driving["text"] and "有效期至 2030-05-01" in driving["text"]
    marked = phone.js(f"getComputedStyle(document.querySelector('#licences [data-licence=\"{driving['id']}\"]')).borderLeftColor")
    assert marked == "rgb(220, 38, 38)"  # the red edge a person sees
    # The suspension notice in the inbox carries the deep link yiwang://wallet/licences/<id>: tapping it
    # opens the licence.
    link = f"yiwang://wallet/licences/{driving['id']}"
    tab(phone, "notices")
    phone.wait_for(f"(n => n && (n.click(), true))(document.querySelector('#notices [data-link=\"{link}\"]'))")
    phone.wait_for(f"(d => !d.hidden && d.getAttribute('data-licence') === {json.dumps(driving['id'])})"
                   "(document.getElementById('licence-detail'))")
    detail = wait_text(phone, "#licence-detail", "准驾车型")
    wait_text(phone, "#licence-usage", "此证照还没有被核验过")
    snap(phone, "wallet-detail")
    assert "机动车驾驶证" in detail and "状态：暂扣（交通违法记分处理中（演示））" in detail
    assert "发证机关" in detail and "合肥市公安局交通警察支队" in detail and "2020-05-01 至 2030-05-01" in detail
    assert "C1" in detail and "发证机关签名验证通过" in detail and "证照标识：" in detail
    assert NAME[0] + "*" in detail and NAME not in detail  # the holder's name masked, as the API discloses it
    assert "此证照当前为“暂扣”，不能亮证。" in detail
    assert phone.js("document.getElementById('licence-qr').hidden") is True
    # A valid licence from the list: its detail offers the QR.
    phone.js("document.getElementById('licence-back').click(); true")
    phone.wait_for("!document.getElementById('wallet-list').hidden")
    card = row_of(listed(phone), "居民身份证")
    phone.js(f"document.querySelector('#licences [data-licence=\"{card['id']}\"]').click(); true")
    card_detail = wait_text(phone, "#licence-detail", "公民身份号码")
    assert "状态：有效" in card_detail and "长期" in card_detail and ID_NUMBER not in card_detail
    assert visible(phone, "licence-qr") == "出示二维码"
    no_personal_data(phone)


def test_the_qr_counts_down_renews_itself_and_closing_withdraws_it(client, demo, phone):
    """The QR lives TTL (18 s) here, renewed after ~3 s (refresh_after is 15 s before expiry); the
    renewed code retires the old one, and closing the panel withdraws the code on screen."""
    sign_in_demo(phone)
    card = row_of(open_wallet(phone), "居民身份证")
    first = show_qr(phone, card["id"])
    first_text = phone.js("document.getElementById('qr-text').textContent")
    assert len(first_text) > 20 and re.fullmatch(r"\d{8}", text_of(phone, "#qr-manual"))
    countdown = visible(phone, "qr-countdown")
    left = int(re.fullmatch(r"二维码 (\d+) 秒后失效，将自动刷新", countdown).group(1))
    assert 0 < left <= TTL
    assert text_of(phone, "#qr-title") == "居民身份证 · 亮证"
    snap(phone, "wallet-qr")
    # It ticks, and before the code expires a new one replaces it (image and text).
    phone.wait_for(f"document.getElementById('qr-countdown').textContent !== {json.dumps(countdown)}", timeout=5)
    second = phone.wait_for(f"(p => p && p !== {json.dumps(first)} && p)"
                            "(document.getElementById('qr-panel').getAttribute('data-presentation'))", timeout=TTL)
    phone.wait_for(f"document.getElementById('qr-text').textContent !== {json.dumps(first_text)}")
    phone.wait_for("(i => i.complete && i.naturalWidth > 100)(document.getElementById('qr-img'))")
    assert second != first
    counter = clerk(client)
    assert client.post(VERIFY, json={"qr_text": first_text, "matter": "identity_check"}, headers=counter).status_code in (400, 409, 410)
    # Closing withdraws the code on screen: the counter can no longer verify it.
    on_screen = phone.js("document.getElementById('qr-text').textContent")
    shown = phone.js("document.getElementById('qr-panel').getAttribute('data-presentation')")
    phone.js("document.getElementById('qr-close').click(); true")
    phone.wait_for("document.getElementById('qr-panel').hidden")
    phone.wait_for(f"performance.getEntriesByType('resource').some(e => e.name.endsWith('/wallet/presentations/{shown}'))")
    assert client.post(VERIFY, json={"qr_text": on_screen, "matter": "identity_check"}, headers=counter).status_code in (400, 409, 410)
    assert phone.js("document.getElementById('qr-img').getAttribute('src')") is None
    no_personal_data(phone)


def verify_on_screen(client, cdp, licence_id: str, counter: dict, **extra) -> dict:
    """Show the licence's QR and let the counter verify the code on screen at once (codes are renewed
    every ~3 s here: a renewal in between is tried again); returns the counter's answer and the text."""
    for _ in range(3):
        show_qr(cdp, licence_id)
        text = cdp.js("document.getElementById('qr-text').textContent")
        answer = client.post(VERIFY, json={"qr_text": text, **extra}, headers=counter)
        if answer.status_code == 200:
            break
    assert answer.status_code == 200, answer.get_json()
    return {"answer": answer.get_json(), "qr_text": text}


def test_who_checked_my_licence_after_a_real_counter_verification(client, demo, phone):
    """The demo clerk verifies the ID card at the counter (POST /counter/verifications) for two matters
    (用证事项: hotel check-in, then an identity check): the holder's history names the hall, the clerk,
    the matter and the items seen, never their values; a used code scanned again and a licence the
    matter does not accept are refusals in the history too."""
    sign_in_demo(phone)
    rows = open_wallet(phone)
    card, business, driving = (row_of(rows, name) for name in ("居民身份证", "营业执照", "机动车驾驶证"))
    counter = clerk(client)
    used = verify_on_screen(client, phone, card["id"], counter, matter="hotel_check_in")["qr_text"]
    assert client.post(VERIFY, json={"qr_text": used, "matter": "identity_check"}, headers=counter).status_code == 409  # presentation_used
    verify_on_screen(client, phone, card["id"], counter, matter="identity_check")
    show_qr(phone, business["id"])
    refused = client.post(VERIFY, json={"qr_text": phone.js("document.getElementById('qr-text').textContent"),
                                        "matter": "hotel_check_in"}, headers=counter)
    assert refused.status_code == 422 and refused.get_json()["code"] == "matter_not_applicable"
    phone.js("document.getElementById('qr-close').click(); true")
    # What the API says was seen (field names only) and their labels in the catalogue.
    usage = client.get("/api/v1/wallet/usage", headers=token(phone)).get_json()["items"]
    checks = [u for u in usage if u["result"] == "verified"]
    assert len(checks) == 2 and all(u["licence_id"] == card["id"] and u["fields"] for u in checks)
    assert [u["matter"]["code"] for u in checks] == ["identity_check", "hotel_check_in"]  # newest first
    catalogue = {t["code"]: t for t in client.get("/api/v1/licence-types").get_json()["items"]}
    labels = {f["key"]: f["label"] for f in catalogue["resident_id_card"]["fields"]}
    # The overall history: what, when, where (the hall), who (the clerk), for what, which items.
    phone.js("document.getElementById('usage-open').click(); true")
    phone.wait_for("!document.getElementById('usage-pane').hidden")
    phone.wait_for("document.querySelectorAll('#usage li[data-result]').length === 4")
    snap(phone, "wallet-usage")
    lines = phone.js("[...document.querySelectorAll('#usage li[data-result=verified]')].map(li => li.innerText)")
    for check, line in zip(checks, lines):
        # where: the hall's name from the service map (its code only when the directory no longer has it)
        assert "居民身份证 · 核验通过" in line and "合肥市政务服务中心" in line and HALL not in line and "工作人员 clerk01" in line
        matter = {"identity_check": "身份核验", "hotel_check_in": "旅馆住宿登记"}[check["matter"]["code"]]
        assert "办理事项：" + matter in line and "H5 亮证" not in line
        assert "查看的项目：" + "、".join(labels[k] for k in check["fields"]) in line
        assert NAME not in line and NAME[0] + "*" not in line and ID_NUMBER[-4:] not in line  # names, never values
    again = text_of(phone, "#usage li[data-result=presentation_used]")
    assert "居民身份证 · 未通过：核验码已使用过" in again and "工作人员 clerk01" in again and "查看的项目" not in again
    other = text_of(phone, "#usage li[data-result=matter_not_applicable]")
    assert "营业执照 · 未通过：所办事项不接受此证照" in other and "办理事项：旅馆住宿登记" in other
    assert "查看的项目" not in other
    # The licence's own history shows its checks; a licence never shown has none.
    phone.js("document.getElementById('usage-back').click(); true")
    phone.wait_for("!document.getElementById('wallet-list').hidden")
    phone.js(f"document.querySelector('#licences [data-licence=\"{card['id']}\"]').click(); true")
    own = wait_text(phone, "#licence-usage", "核验通过")
    assert "工作人员 clerk01" in own and "查看的项目：" in own and "未通过：核验码已使用过" in own
    assert "营业执照" not in own and phone.js("document.querySelectorAll('#licence-usage li[data-result]').length") == 3
    phone.js(f"location.hash = '#/wallet/licences/{driving['id']}'; true")
    wait_text(phone, "#licence-detail", "机动车驾驶证")
    wait_text(phone, "#licence-usage", "此证照还没有被核验过")
    no_personal_data(phone)


def test_a_licence_suspended_meanwhile_is_refused_in_words_in_english(app, client, demo, phone):
    """In English: the list and a licence's detail; the issuer suspends the licence while its detail is
    on screen, and 'Show QR code' gets the API's refusal (422 licence_not_valid) as a readable sentence,
    then the licence as it now stands."""
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang: 'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone)
    rows = open_wallet(phone)
    driving = next(r for r in rows if r["status"] == "02")
    assert "Suspended" in driving["text"] and "Cannot be shown" in driving["text"] and not driving["qr"]
    assert all("Show QR" in r["text"] and "Valid" in r["text"] for r in rows if r["status"] == "01")
    assert text_of(phone, "#usage-open") == "Who checked my licences"
    mine = {lic["type_code"]: lic["id"] for lic in
            client.get("/api/v1/wallet/licences", headers=token(phone)).get_json()["items"]}
    business = mine["business_licence"]
    phone.js(f"document.querySelector('#licences [data-licence=\"{business}\"]').click(); true")
    wait_text(phone, "#licence-detail", "Status: Valid")
    detail = wait_text(phone, "#licence-detail", "Nobody has checked this licence yet")
    snap(phone, "wallet-detail-en")
    assert "Issued by" in detail and "2019-01-02 to no expiry date" in detail and "Licence identifier: " in detail
    assert "The issuer's signature checks out" in detail and "Who checked this licence" in detail
    assert visible(phone, "licence-qr") == "Show QR code"
    labels = phone.js("[...document.querySelectorAll('#licence-detail dt')].map(e => e.textContent)")
    assert len(labels) > 5 and not [x for x in labels if re.search(r"[\u4e00-\u9fff]", x)], labels
    assert text_of(phone, "#licence-fields dd[data-field=business_term_until]") == "No expiry date"  # the catalogue's 长期
    suspend(app, business, "年报未按时公示（演示）")
    phone.js("document.getElementById('licence-qr').click(); true")
    message = wait_text(phone, "#message", "cannot be shown or verified")
    assert message == ("The licence is not currently valid (suspended, revoked, cancelled or outside its validity "
                       "period); it cannot be shown or verified.")
    assert phone.js("document.getElementById('qr-panel').hidden") is True
    now = wait_text(phone, "#licence-detail", "Status: Suspended")
    assert "年报未按时公示（演示）" in now and 'This licence is "Suspended": it cannot be shown.' in now
    assert phone.js("document.getElementById('licence-qr').hidden") is True
    snap(phone, "wallet-refused")
    no_personal_data(phone)



def test_a_relative_acting_for_the_citizen_sees_the_wallet_but_cannot_show_it(demo, phone):
    """The family member acts for 王五 (授权代理: the demo grant allows viewing licences, not showing
    them): the wallet is 王五's, read through the delegated token, and offers no QR."""
    sign_in_demo(phone, DEMO_FAMILY[0])
    tab(phone, "proxies")
    grant = phone.wait_for("(li => li && li.getAttribute('data-grant'))([...document.querySelectorAll("
                           "'#proxies-received li[data-status=active]')].find(li => li.innerText.includes('王*')))")
    phone.js(f"document.querySelector('#proxies-received li[data-grant=\"{grant}\"]').click(); true")
    phone.wait_for("(b => b && !b.disabled && b.offsetParent !== null && (b.click(), true))(document.getElementById('proxy-act'))")
    assert "王*" in visible(phone, "acting")
    rows = open_wallet(phone)
    assert sorted(r["status"] for r in rows) == ["01", "01", "02"] and not any(r["qr"] for r in rows)
    assert all("代办授权不含亮证" in r["text"] for r in rows if r["status"] == "01")
    card = row_of(rows, "居民身份证")
    phone.js(f"document.querySelector('#licences [data-licence=\"{card['id']}\"]').click(); true")
    detail = wait_text(phone, "#licence-detail", "公民身份号码")
    assert "代办授权不含亮证。" in detail and phone.js("document.getElementById('licence-qr').hidden") is True
    assert NAME[0] + "*" in detail and ID_NUMBER not in detail
    snap(phone, "wallet-acting")
    no_personal_data(phone)
