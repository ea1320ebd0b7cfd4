"""SM2 backends behind one interface, chosen by `SM2_BACKEND` = auto | tongsuo | gmssl.

A backend is a module exposing NAME, load_private(d), load_public(point),
public_point(d, handle=None), sign_digest(handle, e) -> DER and verify_digest(handle, e, r, s).
Backends only see validated input: d in [1, n-2], finite curve points, 32-byte e,
r and s in [1, n-1]; parsing and range checks live in the callers.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any, Protocol

from flask import current_app, has_app_context

BACKEND_NAMES = ("tongsuo", "gmssl")  # preference order for "auto"
_loaded: dict[str, ModuleType | None] = {}


class SM2Backend(Protocol):
    NAME: str

    def load_private(self, d: int) -> Any: ...
    def load_public(self, point: bytes) -> Any: ...
    def public_point(self, d: int) -> bytes: ...
    def sign_digest(self, key: Any, e: bytes) -> bytes: ...
    def verify_digest(self, key: Any, e: bytes, r: int, s: int) -> bool: ...


def _try_import(name: str) -> ModuleType | None:
    if name not in _loaded:
        try:
            _loaded[name] = importlib.import_module(f"{__name__}.{name}")
        except ImportError:
            _loaded[name] = None
    return _loaded[name]


def available_backends() -> list[str]:
    """Names of the backends whose libraries import on this host, fastest first."""
    return [name for name in BACKEND_NAMES if _try_import(name) is not None]


def configured_backend_name() -> str:
    """SM2_BACKEND from the Flask app config when inside an app context, else the environment."""
    if has_app_context():
        value = current_app.config.get("SM2_BACKEND")
        if value:
            return str(value)
    return os.environ.get("SM2_BACKEND") or "auto"


def get_backend(name: str | None = None) -> SM2Backend:
    """The backend module for `name` (None: configured value). ValueError if unknown or not importable."""
    name = (name or configured_backend_name()).strip().lower()
    if name == "auto":
        available = available_backends()
        if not available:
            raise ValueError("no SM2 backend importable (install tongsuopy or gmssl)")
        name = available[0]
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown SM2 backend {name!r}")
    module = _try_import(name)
    if module is None:
        raise ValueError(f"SM2 backend {name!r} is not importable")
    return module  # type: ignore[return-value]
