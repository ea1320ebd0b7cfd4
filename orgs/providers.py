"""The business registry the app uses (BIZREG_BACKEND): `dev` reads orgs_dev_registry (development and
tests only; production refuses it in app/config.py), `http` is BIZREG gateway v1. Tests may put their
own in `app.extensions["orgs_bizreg"]`."""
from __future__ import annotations

from flask import Flask, current_app

from orgs.adapters.bizreg import BusinessRegistry, DevBusinessRegistry, HttpBusinessRegistry


def init_app(app: Flask) -> None:
    backend = app.config.get("BIZREG_BACKEND") or "dev"
    if backend == "http":
        registry: BusinessRegistry = HttpBusinessRegistry(app.config["BIZREG_URL"], app.config["BIZREG_APP_ID"],
                                                          app.config["BIZREG_APP_SECRET"])
    elif backend == "dev":
        registry = DevBusinessRegistry()
    else:
        raise RuntimeError(f"BIZREG_BACKEND must be dev or http, not {backend!r}")
    app.extensions["orgs_bizreg"] = registry


def business_registry() -> BusinessRegistry:
    return current_app.extensions["orgs_bizreg"]
