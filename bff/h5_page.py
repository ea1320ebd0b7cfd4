"""The H5 demo client (H5 演示客户端): a phone-sized web page at `/m/`, plain HTML + JS, served by
Flask (no build step, no CDN).

It walks the main journeys against this origin's API only: SMS login, real-name verification, the
home screen, the wallet's self-refreshing QR, cases with their timeline, nearby halls and the live
notification stream. Locked down like the counter page (`wallet/counter_page.py`): a strict CSP
(no inline script or style) and never cached. `blob:` images: the QR PNG needs the bearer token,
so the page fetches it and shows it from a blob URL.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

_STATIC = Path(__file__).parent / "static" / "h5"

CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "img-src 'self' blob: data:; frame-ancestors 'none'")

bp = Blueprint("h5_page", __name__, static_folder=str(_STATIC), static_url_path="/m/static")


@bp.get("/m/")
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
