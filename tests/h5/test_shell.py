"""The H5 shell: deep links open their screen, the back button, and a view without a tab."""
from __future__ import annotations

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
