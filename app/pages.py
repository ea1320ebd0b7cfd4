"""Plain HTML + JS pages served by Flask (no build step, no CDN): the clerks' counter page and the
H5 demo client. Each is a blueprint with its own static folder, an index that is never cached, and
a strict Content-Security-Policy (no inline script or style; this origin only).

A page's script is a native ES module (`<script type="module">`) importing the pages' shared
modules from the kernel's static folder, app/static/web/, served by the app at /static/web/:
api.js (the one HTTP client: requests, problem+json, token refresh, Accept-Language, the tab's
tokens and display preferences) and dom.js (textContent-only DOM helpers)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory


def page_blueprint(name: str, import_name: str, static_dir: Path, url: str, *, img_src: str = "'self' data:"
                   ) -> Blueprint:
    """A blueprint serving `static_dir/index.html` at `url` (e.g. "/m/") and its files under
    `url` + "static/", with the security headers on every answer."""
    csp = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
           f"img-src {img_src}; frame-ancestors 'none'")
    bp = Blueprint(name, import_name, static_folder=str(static_dir), static_url_path=f"{url}static")

    @bp.get(url)
    def index() -> Response:
        response = send_from_directory(static_dir, "index.html", mimetype="text/html", max_age=0)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return bp
