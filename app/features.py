"""The features the app is made of, loaded by name: the kernel imports none of them.

Each feature is a top-level package whose `__init__` has `init_app(app, api)`: it registers its
blueprints on the API, its pages, its `flask` commands, its demo seeder and its signal receivers.
They are loaded in this order (identity first: the others subscribe to its signals and call its
service; bff last: its client conventions wrap every other answer). A deployment that leaves one
out names the rest in the FEATURES setting.
"""
from __future__ import annotations

import importlib

from flask import Flask

FEATURES = ("identity", "issuers", "wallet", "signing", "mapsvc", "appointments", "notify", "cases", "proxies", "consent", "orgs", "bff")


def load_features(app: Flask, api) -> None:
    names = app.config.get("FEATURES") or FEATURES
    app.extensions["features"] = tuple(names)
    for name in names:
        importlib.import_module(name).init_app(app, api)
