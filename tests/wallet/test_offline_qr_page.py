"""The counter page's offline mode (离线核验), in headless Chromium against the real API: with the trust
list cached while online, the network cut, an offline QR (YWO1:…) scanned into the box is verified in
the browser — no request is made — showing the matter's fields and the holder binding; scanned again
it is "seen before on this device"; a changed character is refused."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.fixtures.appointments import CLERK_PASSWORD
from tests.fixtures.h5 import H5_SETTINGS, sign_in_demo, snap, tab, wait_text
from tests.helpers import bearer
from tests.wallet.conftest import issue
from tests.wallet.test_counter_checkin_page import card, choose_matter, open_as_clerk
from tests.wallet.test_counter_matter_page import clerk_account, shot

pytestmark = pytest.mark.slow

REQUESTS = "performance.getEntriesByType('resource').length"


@pytest.fixture
def app(make_app):
    return make_app(**H5_SETTINGS)  # the H5 page's settings (tests/fixtures/h5.py); the counter needs none


def test_offline_code_verified_in_the_browser_without_network(client, runner, served, browser, issuer,
                                                               verified_citizen, tmp_path):
    holder = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    licence = issue(client, issuer)
    made = client.post(f"/api/v1/wallet/licences/{licence['id']}/offline-presentations", json={"matter": "vehicle_check"},
                       headers=holder)
    assert made.status_code == 201, made.get_json()
    text = made.get_json()["qr_text"]
    clerk_account(runner, "clerk.off")
    open_as_clerk(browser, served, "clerk.off", CLERK_PASSWORD)
    browser.wait_for("document.getElementById('offline-state').innerText.includes('信任列表更新于')")
    choose_matter(browser, "vehicle_check")

    browser.send("Network.enable")
    browser.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                 uploadThroughput=-1)
    before = browser.js(REQUESTS)
    browser.type_and_enter(text)
    shown = card(browser, "ok", "离线核验通过")
    assert "事项：驾驶资格核查" in shown and "C1" in shown and "张*" in shown, shown
    assert vectors.ZHANG_SAN[1][-4:] in shown and "证件号后4位" in shown, shown
    assert vectors.ZHANG_SAN[1] not in browser.js("document.documentElement.outerHTML")
    shot(browser, tmp_path, "offline-verified")

    browser.type_and_enter(text)
    assert "请核对本人" in card(browser, "fail", "本机已扫过此码")
    changed = text[:-6] + ("0" if text[-6] != "0" else "1") + text[-5:]
    browser.type_and_enter(changed)
    card(browser, "fail", "离线核验未通过")
    assert browser.js(REQUESTS) == before  # nothing was asked of the server
    assert browser.errors == []


# --- The H5 wallet: the citizen makes one ----------------------------------------------------------

def test_the_citizen_makes_an_offline_code_for_a_matter_in_the_h5_wallet(app, demo, phone, tmp_path):
    """The demo citizen opens the resident ID card, taps 离线亮证码, chooses 旅馆住宿登记 and gets its QR
    with a countdown; the usage history then says an offline code was made for that matter."""
    sign_in_demo(phone)
    tab(phone, "wallet")
    phone.wait_for("document.querySelectorAll('#licences [data-licence]').length === 3")
    phone.js("[...document.querySelectorAll('#licences [data-licence]')].find(li => li.innerText.startsWith('居民身份证'))"
             ".click(); true")
    wait_text(phone, "#licence-detail", "证照标识")
    phone.wait_for("(b => b && !b.hidden)(document.getElementById('licence-offline'))")
    phone.js("document.getElementById('licence-offline').click(); true")
    phone.wait_for("!!document.querySelector('#offline-matter option[value=hotel_check_in]')")
    phone.js("document.getElementById('offline-matter').value = 'hotel_check_in'; "
             "document.getElementById('offline-make').click(); true")
    phone.wait_for("(i => !i.hidden && i.complete && i.naturalWidth > 100)(document.getElementById('offline-img'))")
    panel = wait_text(phone, "#offline-panel", "秒后失效")
    assert "码中包含：" in panel and "姓名" in panel, panel
    text = phone.js("document.getElementById('offline-text').innerText")
    assert text.startswith("YWO1:")
    snap(phone, "wallet-offline-qr")
    phone.js("location.hash = '#/wallet/usage'; true")
    usage = wait_text(phone, "#usage", "已生成离线亮证码")
    assert "旅馆住宿登记" in usage, usage
