"""The counter page (柜台核验页面): plain HTML + JS for clerks, served by Flask (no build step).

The page talks only to this origin's API (staff login, licence types, counter verifications); it is
locked down with a strict CSP (no inline script or style) and never cached.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

_STATIC = Path(__file__).parent / "static" / "counter"

CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; frame-ancestors 'none'")

bp = Blueprint("counter_page", __name__, static_folder=str(_STATIC), static_url_path="/counter/static")


@bp.get("/counter/")
def index() -> Response:
    response = send_from_directory(_STATIC, "index.html", mimetype="text/html", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
