"""The H5 page's live stream when the server ends it (issue 14 items 3 and 6), in headless Chromium:
closed for a newer stream of the account, the page waits instead of taking its place back (which
would close another); logged out elsewhere, the page is signed out."""
from __future__ import annotations

import json

import pytest

from tests.fixtures.h5 import H5_SETTINGS, sign_in, tab
from tests.helpers import bearer

STREAM = "/api/v1/notifications/stream"


@pytest.fixture
def app(make_app):
    """The app the H5 page tests run (tests/bff/test_h5_page.py): short QR lifetime, 1 s heartbeat."""
    return make_app(**H5_SETTINGS)


def _open_stream(phone, runner) -> dict:
    sign_in(phone, runner)
    tab(phone, "notices")
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    return bearer(json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["access"])


@pytest.mark.slow
def test_a_page_whose_stream_was_closed_for_a_newer_one_waits(app, runner, phone):
    headers = _open_stream(phone, runner)
    client = app.test_client()
    others = [client.get(STREAM, headers=headers, buffered=False) for _ in range(3)]
    try:
        phone.wait_for("document.getElementById('stream-state').textContent.includes('10 分钟后重试')")
        assert phone.js("document.body.getAttribute('data-stream')") == "closed"
    finally:
        for response in others:
            response.close()


@pytest.mark.slow
def test_a_page_logged_out_elsewhere_is_signed_out(app, runner, phone):
    headers = _open_stream(phone, runner)
    assert app.test_client().post("/api/v1/auth/logout", headers=headers).status_code in (200, 204)
    phone.wait_for("!document.getElementById('login-view').hidden")
