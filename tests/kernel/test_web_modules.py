"""Issue 15 ("One house"): the web pages (/m/, /counter/) are native ES modules sharing one HTTP
client, the kernel's /static/web/api.js (requests, problem+json, token refresh, Accept-Language,
elderly mode), with no build step. Their journeys run in headless Chromium in
tests/bff/test_h5_page.py and tests/wallet/test_counter_page.py."""
from __future__ import annotations

import re

import pytest

SHARED = ("/static/web/api.js", "/static/web/dom.js")
PAGES = {"/m/": "/m/static/h5.js", "/counter/": "/counter/static/counter.js"}


@pytest.mark.parametrize("path", SHARED)
def test_the_shared_modules_are_served_as_javascript(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    js = response.get_data(as_text=True)
    assert re.search(r"^export ", js, re.M)
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js
    assert "access_token=" not in js and "localStorage" not in js


@pytest.mark.parametrize("page, script", PAGES.items())
def test_each_page_is_a_module_using_the_shared_client(client, page, script):
    html = client.get(page).get_data(as_text=True)
    assert f'<script type="module" src="{script}"></script>' in html
    js = client.get(script).get_data(as_text=True)
    assert 'from "/static/web/api.js";' in js
    # the DOM helpers are the shared ones too: imported by the page, or by its own screen pieces (H5: ui.js)
    helpers = client.get(script.rsplit("/", 1)[0] + "/ui.js").get_data(as_text=True) if "./ui.js" in js else js
    assert 'from "/static/web/dom.js";' in helpers
    # the HTTP client is not copied into the page: no fetch, refresh or header handling of its own
    assert "fetch(" not in js and "/auth/refresh" not in js and '"Authorization"' not in js
    assert not re.search(r"^\(function\b", js, re.M)  # no ES5 IIFE around the page
