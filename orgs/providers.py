"""The business registry the app uses (BIZREG_BACKEND): dev (orgs_dev_registry) or http."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    return None
