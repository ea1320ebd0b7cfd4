"""The signing PIN's life cycle on the H5 page (issue 18): the demo citizen changes the PIN from the
certificate card (a wrong current PIN is counted and said with the tries left, a weak new one is
refused in words, the two new ones must match) and signs with the new PIN only; after five wrong PINs
the request screen and the certificate card say until when signing is locked and offer the reset,
which (a face check played by the development provider, the SMS code from the development outbox,
a new PIN) lifts the lock at once — read in English."""
from __future__ import annotations

import json
import re

from tests.fixtures.h5 import sign_in_demo, snap, tab, text_of, visible, wait_text

PIN, NEW_PIN, OTHER_PIN = "802413", "730915", "582936"  # signing/demo.py DEMO_PIN, then two new ones
LEASE = "房屋租赁合同（演示）"


def open_signing(cdp) -> None:
    tab(cdp, "signing")
    cdp.wait_for("(c => !!c && !!c.getAttribute('data-serial'))(document.getElementById('sg-cert'))")


def click(cdp, element_id: str) -> None:
    cdp.wait_for(f"(b => !!b && !b.disabled && (b.click(), true))(document.getElementById('{element_id}'))")


def fill(cdp, values: dict[str, str]) -> None:
    cdp.js("".join(f"document.getElementById({json.dumps(k)}).value = {json.dumps(v)};" for k, v in values.items())
           + " true")


def submit(cdp, form_id: str, note_id: str) -> None:
    cdp.js(f"document.getElementById('{note_id}').hidden = true; document.getElementById('{form_id}').requestSubmit(); true")


def open_lease(cdp) -> None:
    wait_text(cdp, "#sg-pending", LEASE)
    cdp.js(f"[...document.querySelectorAll('#sg-pending li.tap')].find(li => li.innerText.includes({json.dumps(LEASE)}))"
           ".click(); true")
    cdp.wait_for("!!document.getElementById('sg-auth')")


def authorise(cdp, pin: str) -> None:
    cdp.js(f"document.getElementById('sg-auth-note').hidden = true; document.getElementById('sg-pin').value = {json.dumps(pin)};"
           "document.getElementById('sg-auth').requestSubmit(); true")


def change(cdp, old: str, new: str, again: str | None = None) -> None:
    fill(cdp, {"sg-pin-old": old, "sg-pin-new": new, "sg-pin-new2": again or new})
    submit(cdp, "sg-pin-change", "sg-pin-change-note")


def test_the_demo_citizen_changes_the_pin_and_signs_with_the_new_one(demo, phone):
    sign_in_demo(phone)
    open_signing(phone)
    actions = visible(phone, "sg-pin-actions")
    assert "修改签名密码" in actions and "忘记签名密码" in actions
    assert not phone.js("document.getElementById('sg-locked')")
    click(phone, "sg-pin-change-open")
    phone.wait_for("location.hash === '#/signing/pin/change'")
    form = visible(phone, "sg-pin-change")
    assert "当前签名密码" in form and "新签名密码" in form
    snap(phone, "signing-pin-change")

    change(phone, "579135", NEW_PIN)  # a wrong current PIN: counted, like a wrong PIN when signing
    note = visible(phone, "sg-pin-change-note")
    assert "签名密码错误" in note and "还可尝试 4 次" in note, note
    change(phone, PIN, NEW_PIN, "730951")  # the new ones differ: said before anything is sent
    assert "不一致" in visible(phone, "sg-pin-change-note")
    change(phone, PIN, "123456")  # too simple: the server's reasons
    note = visible(phone, "sg-pin-change-note")
    assert "签名密码过于简单" in note, note
    snap(phone, "signing-pin-change-weak")
    change(phone, PIN, NEW_PIN)
    phone.wait_for("location.hash === '#/signing'")
    assert "签名密码已修改" in wait_text(phone, "#message", "签名密码已修改")
    open_signing(phone)

    # The same certificate signs with the new PIN, not the old one.
    open_lease(phone)
    authorise(phone, PIN)
    assert "签名密码错误" in visible(phone, "sg-auth-note")
    authorise(phone, NEW_PIN)
    assert LEASE in visible(phone, "sg-done")
    assert not re.search(r"\d{6}", phone.js("location.href"))


def test_locked_signing_shows_until_when_and_the_reset_lifts_it_in_english(demo, phone):
    sign_in_demo(phone)
    open_signing(phone)
    open_lease(phone)
    for left in (4, 3, 2, 1):
        authorise(phone, "000000")
        wait_text(phone, "#sg-auth-note", str(left))
    authorise(phone, "000000")
    locked = visible(phone, "sg-locked")
    assert "锁定至" in locked and "北京时间" in locked and "重设签名密码" in locked
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", locked), locked
    snap(phone, "signing-locked")
    assert "锁定至" in visible(phone, "message")  # the server's words (when, and how out) on the message line
    assert phone.js("document.getElementById('sg-auth-note').hidden")  # the lock's box takes the note's place
    phone.js("document.getElementById('message').textContent = ''; true")
    authorise(phone, PIN)  # the right PIN too, while locked
    assert "忘记签名密码" in wait_text(phone, "#message", "锁定至")
    assert "重设签名密码" in visible(phone, "sg-locked")

    # In English: the certificate card says until when, and its button opens the reset.
    tab(phone, "settings")
    phone.wait_for("(b => !!b && (b.click(), true))(document.getElementById('lang-en'))")
    phone.wait_for("document.documentElement.lang === 'en'")
    open_signing(phone)
    locked = visible(phone, "sg-locked")
    assert "locked until" in locked and "China time" in locked, locked
    click(phone, "sg-locked-reset")
    phone.wait_for("location.hash === '#/signing/pin/reset'")
    form = visible(phone, "sg-pin-reset")
    assert "face check" in form and "SMS code" in form and "New signing PIN" in form
    fill(phone, {"sg-reset-code": "123456", "sg-reset-new": OTHER_PIN, "sg-reset-new2": OTHER_PIN})
    submit(phone, "sg-pin-reset", "sg-pin-reset-note")
    assert "face check first" in visible(phone, "sg-pin-reset-note")
    click(phone, "sg-live-start")
    phone.wait_for("document.getElementById('sg-live').hasAttribute('data-done')")
    assert "Development" in visible(phone, "sg-live-dev")
    phone.js("document.getElementById('sg-reset-code').value = ''; true")
    click(phone, "sg-reset-send")
    assert "Development" in visible(phone, "sg-reset-dev")
    phone.wait_for("/^\\d{6}$/.test(document.getElementById('sg-reset-code').value)")
    snap(phone, "signing-pin-reset-en")
    submit(phone, "sg-pin-reset", "sg-pin-reset-note")
    phone.wait_for("location.hash === '#/signing'")
    assert "unlocked" in wait_text(phone, "#message", "unlocked")
    open_signing(phone)
    assert not phone.js("document.getElementById('sg-locked')")
    assert "Change signing PIN" in text_of(phone, "#sg-pin-actions")

    # Signing works at once with the new PIN; the old one is dead.
    open_lease(phone)
    authorise(phone, PIN)
    assert "Wrong signing PIN" in visible(phone, "sg-auth-note")
    authorise(phone, OTHER_PIN)
    assert LEASE in visible(phone, "sg-done")
    snap(phone, "signing-after-reset-en")
