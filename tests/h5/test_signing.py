"""The signing journey on the H5 page (issue 16): the demo citizen sees the two requests waiting for
them (GET /signing/requests: document, who asked, until when; on the request: SM3 digest grouped,
signer, the department that asked), types a wrong PIN (the problem in words, with the tries left),
authorises one with the PIN (it appears among the signed documents) and refuses the other with a
reason (a reason with a control character is refused in words first; the refused request shows the
reason); a batch's documents are listed before the PIN and signed at once; a fresh citizen enrols
with a PIN and the SMS step-up code and sees the certificate. Screens are read in English too."""
from __future__ import annotations

import json
import re

import pytest

from tests.fixtures.h5 import H5_SETTINGS, sign_in, sign_in_demo, snap, tab, text_of, visible, wait_text

PIN = "802413"  # signing/demo.py DEMO_PIN
LEASE, FUND = "房屋租赁合同（演示）", "住房公积金提取申请表（演示）"  # signing/demo.py
SIGNED = "居住证明承诺书（演示）"  # signing/demo.py SIGNED_TITLE: signed at seeding
HOUSING, FUND_CENTRE = "合肥市住房保障和房产管理局", "合肥市住房公积金管理中心"  # the departments that asked
REASON = "提取金额与本人申请不符"
GROUPED = re.compile(r"(?:[0-9a-f]{4} ){15}[0-9a-f]{4}")


@pytest.fixture
def app(make_app, request):
    """The H5 app; a test may add settings (indirect parametrisation: SIGNING_REQUIRE_SMS …)."""
    return make_app(**{**H5_SETTINGS, **getattr(request, "param", {})})


def open_signing(cdp) -> None:
    tab(cdp, "signing")
    cdp.wait_for("(c => !!c && !!(c.getAttribute('data-serial') || document.getElementById('sg-enrol')))"
                 "(document.getElementById('sg-cert'))")


def click_item(cdp, list_id: str, title: str) -> None:
    wait_text(cdp, f"#{list_id}", title)
    cdp.js(f"[...document.querySelectorAll('#{list_id} li.tap')]"
           f".find(li => li.innerText.includes({json.dumps(title)})).click(); true")
    cdp.wait_for("!!(document.getElementById('sg-facts') || document.getElementById('sg-auth'))")


def click(cdp, element_id: str) -> None:
    cdp.js(f"document.getElementById('{element_id}').click(); true")


def authorise(cdp, pin: str) -> None:
    cdp.js(f"document.getElementById('sg-pin').value = {json.dumps(pin)};"
           "document.getElementById('sg-auth').requestSubmit(); true")


def english(cdp) -> None:
    """The settings' English choice: the page in English at once (no reload), saved to the account."""
    tab(cdp, "settings")
    cdp.wait_for("(b => !!b && (b.click(), true))(document.getElementById('lang-en'))")
    cdp.wait_for("document.documentElement.lang === 'en'")
    wait_text(cdp, "#message", "Switched to English")


def test_the_demo_citizen_checks_authorises_and_refuses_signing_requests(demo, phone):
    sign_in_demo(phone)
    open_signing(phone)
    cert = visible(phone, "sg-cert")
    assert "我的签名证书" in cert and "有效" in cert and "王*" in cert and "SM2" in cert
    pending = wait_text(phone, "#sg-pending", FUND)
    assert LEASE in pending and "签署截止" in pending
    assert f"发起方：{FUND_CENTRE}" in pending and f"发起方：{HOUSING}" in pending
    assert phone.js("document.querySelectorAll('#sg-pending li[data-request]').length") == 2
    # Newest first, as the API lists them (no inbox is read for them).
    assert phone.js("document.querySelector('#sg-pending li[data-request]').innerText").startswith(FUND)
    assert phone.js("performance.getEntriesByType('resource').some(e => e.name.includes("
                    "'/api/v1/signing/requests?status=pending'))")
    assert "签署于" in wait_text(phone, "#sg-signed", SIGNED)  # the demo's signature with CMS evidence (issue 18)
    snap(phone, "signing-home")

    # The lease: what will be signed, by whom, until when.
    click_item(phone, "sg-pending", LEASE)
    detail = wait_text(phone, "#sg-detail", "文件 SM3 摘要")
    assert LEASE in detail and "待签署" in detail
    assert "签署人" in detail and "王*" in detail and "发起方" in detail
    assert text_of(phone, "#sg-facts .sg-by dd") == HOUSING
    assert "签署截止" in detail and "待签名值" in detail
    digest = text_of(phone, "#sg-facts .sg-digest dd")
    assert GROUPED.fullmatch(digest), digest
    request_id = phone.js("document.getElementById('sg-detail').getAttribute('data-request')")
    assert phone.js("location.hash") == f"#/signing/requests/{request_id}"
    snap(phone, "signing-request")

    # A wrong PIN: the problem in words, with the tries left; the request stays pending.
    authorise(phone, "579135")
    note = visible(phone, "sg-auth-note")
    assert "签名密码错误" in note and "还可尝试 4 次" in note, note
    assert "签名密码错误" in visible(phone, "message")
    assert text_of(phone, "#sg-doc-status") == "待签署"
    snap(phone, "signing-wrong-pin")

    # The right PIN signs it.
    authorise(phone, PIN)
    done = visible(phone, "sg-done")
    assert "签署完成" in done and LEASE in done
    assert text_of(phone, "#sg-doc-status") == "已签署" and not phone.js("document.getElementById('sg-auth')")
    snap(phone, "signing-signed")
    phone.js("[...document.querySelectorAll('#sg-done button')][0].click(); true")
    signed = wait_text(phone, "#sg-signed", LEASE)
    assert "签署于" in signed and "证书尾号" in signed
    pending = wait_text(phone, "#sg-pending", FUND)
    assert LEASE not in pending
    snap(phone, "signing-signed-list")

    # The provident fund form: refused after a confirmation, with a reason; it can no longer be signed.
    click_item(phone, "sg-pending", FUND)
    wait_text(phone, "#sg-detail", FUND)
    assert text_of(phone, "#sg-facts .sg-by dd") == FUND_CENTRE
    click(phone, "sg-refuse-ask")
    confirm = visible(phone, "sg-refuse-confirm")
    assert "不能再授权签名" in confirm and "拒绝原因（可不填" in confirm
    snap(phone, "signing-refuse-confirm")
    # A reason with a control character (a tab pasted in): the server's refusal, in words.
    phone.js("document.getElementById('sg-refuse-reason').value = '金额\t不符'; true")
    click(phone, "sg-refuse-yes")
    assert "控制字符" in wait_text(phone, "#message", "控制字符")
    assert text_of(phone, "#sg-doc-status") == "待签署"
    snap(phone, "signing-refuse-bad-reason")
    phone.js(f"document.getElementById('sg-refuse-reason').value = {json.dumps('  ' + REASON + ' ')}; true")
    click(phone, "sg-refuse-yes")
    assert "已拒绝签署" in visible(phone, "sg-refused")
    assert text_of(phone, "#sg-doc-status") == "已拒绝" and not phone.js("document.getElementById('sg-auth')")
    assert text_of(phone, "#sg-facts .sg-reason dd") == REASON
    snap(phone, "signing-refused")
    refused_id = phone.js("document.getElementById('sg-detail').getAttribute('data-request')")
    open_signing(phone)
    wait_text(phone, "#sg-pending", "暂无待签署的文件")
    assert FUND not in wait_text(phone, "#sg-signed", LEASE)
    # The refused request's deep link: refused, the reason given, who asked, nothing to authorise.
    phone.js(f"location.hash = '#/signing/requests/{refused_id}'; true")
    wait_text(phone, "#sg-doc-status", "已拒绝")
    detail = wait_text(phone, "#sg-detail", REASON)
    assert "拒绝原因" in detail and "拒绝时间" in detail and FUND_CENTRE in detail
    assert not phone.js("document.getElementById('sg-auth')") and not phone.js("document.getElementById('sg-refuse')")
    snap(phone, "signing-refused-reason")

    # The signed document, read in English.
    english(phone)
    phone.js("location.hash = '#/signing'; true")
    signed = wait_text(phone, "#sg-signed", LEASE)
    assert "Signed" in signed and "certificate" in signed
    assert "Waiting for your signature" in text_of(phone, "#signing-view")
    wait_text(phone, "#sg-pending", "Nothing waiting for your signature")
    assert "My signing certificate" in text_of(phone, "#sg-cert") and "Valid" in text_of(phone, "#sg-cert")
    click_item(phone, "sg-signed", LEASE)
    detail = wait_text(phone, "#sg-detail", "Document SM3 digest")
    assert "Signed" in text_of(phone, "#sg-doc-status") and "Signer" in detail and "Requested by" in detail
    assert HOUSING in detail and "Sign by" not in detail
    assert "Signed at" in wait_text(phone, "#sg-facts", "Signed at")
    assert GROUPED.fullmatch(text_of(phone, "#sg-facts .sg-digest dd"))
    snap(phone, "signing-request-en")
    # The refused one in English: the labels translated, the citizen's own words as written.
    phone.js(f"location.hash = '#/signing/requests/{refused_id}'; true")
    detail = wait_text(phone, "#sg-detail", "Reason for refusing")
    assert REASON in detail and "Refused at" in detail and text_of(phone, "#sg-doc-status") == "Refused"
    snap(phone, "signing-refused-en")


def test_a_wrong_pin_in_english_and_a_batch_signed_at_once(demo, phone):
    sign_in_demo(phone)
    # The citizen's app asks to sign two documents at once (the API, as the app would).
    made = phone.js("""(async () => {
        const access = JSON.parse(sessionStorage.getItem('yiwang.h5')).access;
        const r = await fetch('/api/v1/signing/batches', {method: 'POST', headers: {'Content-Type': 'application/json',
          'Authorization': 'Bearer ' + access}, body: JSON.stringify({items: [
            {title: '购房合同（演示）', document_b64: btoa('contract')}, {title: '贷款合同（演示）', document_b64: btoa('loan')}]})});
        return r.status + ' ' + (await r.json()).id;
    })()""")
    status, batch_id = made.split()
    assert status == "201"
    english(phone)
    open_signing(phone)
    pending = wait_text(phone, "#sg-pending", "Batch:")
    batch_item = f"#sg-pending li[data-batch=\"{batch_id}\"]"
    assert phone.js(f"!!document.querySelector('{batch_item}')")
    assert "Batch: 2 documents" in pending and "“购房合同（演示）”, “贷款合同（演示）”" in pending
    assert "Requested by: You (from your own YiWang app)" in text_of(phone, batch_item)
    assert f"Requested by: {FUND_CENTRE}" in pending  # the demo's own, named by the department
    snap(phone, "signing-batch-pending-en")
    phone.js(f"document.querySelector('{batch_item}').click(); true")
    detail = wait_text(phone, "#sg-detail", "2 documents")
    # Every document of the batch, with its digests, before the PIN; in the order the app listed them.
    docs = wait_text(phone, "#sg-docs", "贷款合同（演示）")
    assert docs.index("购房合同（演示）") < docs.index("贷款合同（演示）") and "Document SM3 digest" in docs
    assert phone.js("document.querySelectorAll('#sg-docs li[data-request]').length") == 2
    assert phone.js("document.getElementById('sg-docs').compareDocumentPosition(document.getElementById('sg-auth'))"
                    " & Node.DOCUMENT_POSITION_FOLLOWING")
    assert "all or none" in detail and "Waiting for you" in text_of(phone, "#sg-doc-status")
    assert "You (from your own YiWang app)" in text_of(phone, "#sg-facts .sg-by dd")
    snap(phone, "signing-batch-documents-en")
    authorise(phone, "579135")
    note = visible(phone, "sg-auth-note")
    assert "Wrong signing PIN" in note and "4 tries left" in note, note
    snap(phone, "signing-batch-wrong-pin-en")
    authorise(phone, PIN)
    done = visible(phone, "sg-done")
    assert "购房合同（演示）" in done and "贷款合同（演示）" in done
    snap(phone, "signing-batch-signed-en")
    open_signing(phone)
    signed = wait_text(phone, "#sg-signed", "贷款合同（演示）")
    assert "购房合同（演示）" in signed
    pending = wait_text(phone, "#sg-pending", LEASE)  # the demo's two are still waiting; the batch is not
    assert "购房合同（演示）" not in pending and not phone.js("!!document.querySelector('#sg-pending li[data-batch]')")
    # The signed batch's deep link (its notice's): signed, its documents, nothing to authorise.
    phone.js(f"location.hash = '#/signing/batches/{batch_id}'; true")
    wait_text(phone, "#sg-doc-status", "Signed")
    assert "购房合同（演示）" in wait_text(phone, "#sg-docs", "贷款合同（演示）")
    assert not phone.js("document.getElementById('sg-auth')")
    # Another citizen's (or an unknown) batch: the problem in words.
    phone.js("location.hash = '#/signing/batches/sgb_unknown'; true")
    assert "does not exist" in wait_text(phone, "#sg-detail", "does not exist")


def test_a_fresh_citizen_enrols_with_a_pin_and_sees_the_certificate(phone, runner):
    sign_in(phone, runner)
    open_signing(phone)
    form = visible(phone, "sg-enrol")
    assert "开通电子签名" in form and "签名密码" in form and "短信验证码" in form
    assert "开通电子签名后" in text_of(phone, "#sg-pending")
    snap(phone, "signing-enrol")
    click(phone, "sg-enrol-send")
    assert "开发环境" in visible(phone, "sg-enrol-dev")
    assert re.fullmatch(r"\d{6}", phone.js("document.getElementById('sg-enrol-code').value"))

    def enrol(pin: str, again: str) -> None:
        phone.js(f"document.getElementById('sg-enrol-pin').value = {json.dumps(pin)};"
                 f"document.getElementById('sg-enrol-pin2').value = {json.dumps(again)};"
                 "document.getElementById('sg-enrol-note').hidden = true;"
                 "document.getElementById('sg-enrol').requestSubmit(); true")

    enrol("582936", "582963")  # not the same twice: said before anything is sent
    assert "两次输入的签名密码不一致" in visible(phone, "sg-enrol-note")
    enrol("123456", "123456")  # too simple: the server's reasons, in words
    note = visible(phone, "sg-enrol-note")
    assert "签名密码过于简单" in note and "连续" in note, note
    snap(phone, "signing-enrol-weak-pin")
    enrol("582936", "582936")
    phone.wait_for("document.getElementById('sg-cert').getAttribute('data-serial')")
    cert = visible(phone, "sg-cert")
    assert "我的签名证书" in cert and "有效" in cert and "张*" in cert and "序列号" in cert and " 至 " in cert
    assert "电子签名已开通" in visible(phone, "message")
    assert not phone.js("document.getElementById('sg-enrol')")
    assert "暂无待签署的文件" in wait_text(phone, "#sg-pending", "暂无")
    snap(phone, "signing-certificate")
    # The enrolment notice's deep link (yiwang://signing/certificate/<serial>) opens this certificate;
    # another serial's (a revoked one, say) public status is shown beside it.
    serial = phone.js("document.getElementById('sg-cert').getAttribute('data-serial')")
    phone.js(f"location.hash = '#/signing/certificate/{serial}'; true")
    phone.wait_for(f"document.getElementById('sg-cert').getAttribute('data-serial') === {json.dumps(serial)}")
    assert phone.js("document.getElementById('sg-other').hidden")
    phone.js("location.hash = '#/signing/certificate/0badc0ffee'; true")
    other = visible(phone, "sg-other")
    assert "ADC0FFEE" in other and "未知" in other


@pytest.mark.parametrize("app", [{"SIGNING_REQUIRE_SMS": True}], indirect=True)
def test_when_the_server_asks_for_an_sms_code_the_page_asks_for_it(demo, phone):
    sign_in_demo(phone)
    open_signing(phone)
    click_item(phone, "sg-pending", LEASE)
    wait_text(phone, "#sg-detail", "文件 SM3 摘要")
    assert phone.js("document.getElementById('sg-sms').closest('.field').hidden")
    authorise(phone, PIN)  # the PIN alone: the server wants the SMS code too
    assert "请输入短信验证码" in visible(phone, "sg-auth-note")
    assert not phone.js("document.getElementById('sg-sms').closest('.field').hidden")
    click(phone, "sg-sms-send")
    assert "开发环境" in visible(phone, "sg-sms-dev")
    assert re.fullmatch(r"\d{6}", phone.js("document.getElementById('sg-sms').value"))
    snap(phone, "signing-sms-code")
    authorise(phone, PIN)
    assert "签署完成" in visible(phone, "sg-done")


@pytest.mark.parametrize("app", [{"SIGNING_PIN_MAX_TRIES": 2}], indirect=True)
def test_wrong_pins_lock_signing_and_the_page_says_until_when(demo, phone):
    sign_in_demo(phone)
    open_signing(phone)
    click_item(phone, "sg-pending", LEASE)
    wait_text(phone, "#sg-detail", "文件 SM3 摘要")
    authorise(phone, "579135")
    assert "还可尝试 1 次" in visible(phone, "sg-auth-note")
    phone.js("document.getElementById('sg-auth-note').hidden = true; true")
    authorise(phone, "579135")
    box = visible(phone, "sg-locked")  # the lock's help takes the note's place: until when, and the way out
    assert "电子签名已锁定至" in box and "重设" in box, box
    assert visible(phone, "sg-locked-reset") == "重设签名密码"
    snap(phone, "signing-locked")
    phone.js("document.getElementById('sg-locked').remove(); true")
    authorise(phone, PIN)  # even the right PIN, while locked
    assert "已锁定至" in visible(phone, "sg-locked") and text_of(phone, "#sg-doc-status") == "待签署"
