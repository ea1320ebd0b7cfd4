"""The H5 demo client (H5 演示客户端): a phone-sized web page at `/m/`, plain HTML + an ES module
(static/h5/h5.js, using the pages' shared /static/web/api.js), served by Flask (no build step, no CDN).

It walks the main journeys against this origin's API only: SMS login, real-name verification, the
home screen, the wallet's self-refreshing QR, cases with their timeline, nearby halls and the live
notification stream. Locked down like the counter page (app/pages.py): a strict CSP and never
cached. `blob:` images: the QR PNG needs the bearer token, so the page fetches it and shows it
from a blob URL.
"""
from __future__ import annotations

from pathlib import Path

from app.pages import page_blueprint

bp = page_blueprint("h5_page", __name__, Path(__file__).parent / "static" / "h5", "/m/",
                    img_src="'self' blob: data:")
