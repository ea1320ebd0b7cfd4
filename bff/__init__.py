"""Mobile backend-for-frontend: the home screen, client conventions, the H5 demo client."""
from __future__ import annotations

from flask import Flask

from bff import conventions, h5_page, routes


def init_app(app: Flask, api) -> None:
    """The client version gate (426) and the BFF's ETag/304 and gzip (bff/conventions.py), the home
    screen, the H5 demo client at /m/."""
    conventions.init_app(app)
    api.register_blueprint(routes.blp)
    app.register_blueprint(h5_page.bp)
