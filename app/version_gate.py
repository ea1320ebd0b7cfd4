"""The client version gate (a before_request hook on every `/api/` request), shared by every feature.

An app, mini-program or H5 build older than its configured minimum (`CLIENT_MIN_VERSIONS`) answers
426 `client_upgrade_required` with the minimum and the upgrade URL. No header → allowed (third
parties, curl); an unknown client or a malformed version → 400. Health, metrics, the docs, the
OpenAPI document and `GET /bff/app-config` (where an old build learns that it must upgrade) are
exempt. The BFF parses the settings at start-up and installs the gate (`init_app`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from flask import Flask, current_app, request

from app.errors import AppError
from app.i18n import N_

CLIENTS = ("app", "miniprogram", "h5")
_EXEMPT = ("/api/docs", "/api/v1/openapi.json", "/api/v1/bff/app-config")
_VERSION = re.compile(r"(\d{1,5})\.(\d{1,5})(?:\.(\d{1,5}))?(?:[-+][0-9A-Za-z.-]{1,40})?")


class ClientInvalid(AppError):
    status, code, detail = 400, "client_invalid", N_("X-Client 取值无效，应为 app、miniprogram 或 h5。")


class ClientVersionInvalid(AppError):
    status, code, detail = 400, "client_version_invalid", N_("X-Client-Version 格式有误，应为形如 1.4.2 的版本号。")


class ClientUpgradeRequired(AppError):
    status, code, detail = 426, "client_upgrade_required", N_("当前版本过低，请升级到最新版本后再使用。")


@dataclass(frozen=True)
class GateSettings:
    min_versions: dict[str, str]
    upgrade_urls: dict[str, str]


def parse_version(raw: str) -> tuple[int, int, int] | None:
    """`1.4.2` → (1, 4, 2); `3.1` → (3, 1, 0); a pre-release or build suffix is ignored; else None."""
    found = _VERSION.fullmatch(raw.strip())
    if found is None:
        return None
    return int(found[1]), int(found[2]), int(found[3] or 0)


def _gated(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(_EXEMPT)


def check_client_version() -> None:
    """before_request: 400 for a malformed identification, 426 for a build below its minimum."""
    req = request._get_current_object()
    if not _gated(req.path):
        return
    environ = req.environ  # the headers, read as request.headers.get would
    client = environ.get("HTTP_X_CLIENT")
    raw_version = environ.get("HTTP_X_CLIENT_VERSION")
    if client is None and raw_version is None:
        return
    if client is not None and client.strip().lower() not in CLIENTS:
        raise ClientInvalid()
    version = parse_version(raw_version) if raw_version is not None else None
    if raw_version is not None and version is None:
        raise ClientVersionInvalid()
    if client is None or version is None:
        return
    client = client.strip().lower()
    settings: GateSettings = current_app.extensions["version_gate"]
    minimum = settings.min_versions.get(client)
    if minimum is not None and version < parse_version(minimum):
        raise ClientUpgradeRequired(extra={"client": client, "current_version": raw_version.strip(),
                                           "min_version": minimum, "upgrade_url": settings.upgrade_urls.get(client)})


def init_app(app: Flask, *, min_versions: dict[str, str], upgrade_urls: dict[str, str]) -> None:
    app.extensions["version_gate"] = GateSettings(min_versions, upgrade_urls)
    app.before_request(check_client_version)


# --- OpenAPI ---------------------------------------------------------------------------------------

_UPGRADE = {"description": "problem+json; code: client_upgrade_required（X-Client-Version 低于该客户端的最低版本；"
                           "扩展字段 client, current_version, min_version, upgrade_url）",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_MALFORMED = {"description": "problem+json; code: client_invalid, client_version_invalid",
              "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class ClientVersionPlugin(BasePlugin):
    """Documents the version gate on every gated operation: 426, and 400 where a route has none."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        if path is None or not _gated(path):
            return
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            answers = operation.setdefault("responses", {})
            answers.setdefault("426", _UPGRADE)
            if 400 not in answers and "400" not in answers:
                answers["400"] = _MALFORMED
