"""The counter page (柜台核验页面): plain HTML + an ES module for clerks (static/counter/counter.js,
using the pages' shared /static/web/api.js), served by Flask (no build step).

The page talks only to this origin's API (staff login, licence types, counter verifications); it is
locked down with a strict CSP (no inline script or style) and never cached (app/pages.py).
"""
from __future__ import annotations

from pathlib import Path

from app.pages import page_blueprint

bp = page_blueprint("counter_page", __name__, Path(__file__).parent / "static" / "counter", "/counter/")
