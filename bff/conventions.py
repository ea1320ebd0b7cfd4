"""Client conventions: who is calling (`X-Client`, `X-Client-Version`), the version gate (426),
revalidation (`ETag` → 304) and gzip on the BFF's answers.

- Version gate (a before_request hook on every `/api/` request): an app, mini-program or H5 build
  older than its configured minimum (`CLIENT_MIN_VERSIONS`) answers 426 `client_upgrade_required`
  with the minimum and the upgrade URL. No header → allowed (third parties, curl); an unknown
  client or a malformed version → 400. Health, metrics, the docs, the OpenAPI document and
  `GET /bff/app-config` (where an old build learns that it must upgrade) are exempt.
- ETag and gzip (an after_request hook on `/api/v1/bff/` GETs): a weak ETag over the JSON body,
  `Cache-Control: private, no-cache` (the app keeps the answer and revalidates every time; a
  match is 304 with no body); bodies above `GZIP_MIN_BYTES` are gzipped when the client accepts
  it. The stdlib `gzip` is enough for this: flask-compress would add a dependency (and brotli)
  for a dozen lines; the ETag is weak because gzip changes the bytes, not the representation.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from flask import Flask, Response, current_app, request

from app.config import ConfigError
from app.errors import AppError

CLIENTS = ("app", "miniprogram", "h5")
GZIP_MIN_BYTES = 1024
BFF_PREFIX = "/api/v1/bff/"
_EXEMPT = ("/api/docs", "/api/v1/openapi.json", "/api/v1/bff/app-config")
_VERSION = re.compile(r"(\d{1,5})\.(\d{1,5})(?:\.(\d{1,5}))?(?:[-+][0-9A-Za-z.-]{1,40})?")


class ClientInvalid(AppError):
    status, code, detail = 400, "client_invalid", "X-Client 取值无效，应为 app、miniprogram 或 h5。"
    detail_en = "Invalid X-Client; use app, miniprogram or h5."


class ClientVersionInvalid(AppError):
    status, code, detail = 400, "client_version_invalid", "X-Client-Version 格式有误，应为形如 1.4.2 的版本号。"
    detail_en = "Malformed X-Client-Version; use a version such as 1.4.2."


class ClientUpgradeRequired(AppError):
    status, code, detail = 426, "client_upgrade_required", "当前版本过低，请升级到最新版本后再使用。"
    detail_en = "This version is too old; please upgrade to the latest version."


@dataclass(frozen=True)
class ClientSettings:
    """The BFF's JSON settings, parsed once at start-up (a typo fails the start, not a request)."""

    min_versions: dict[str, str]
    upgrade_urls: dict[str, str]
    features: dict[str, Any]
    notices: list[dict[str, Any]]
    part_budgets_ms: dict[str, int]


def _json_setting(config: dict[str, Any], key: str, kind: type) -> Any:
    raw = config[key]
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ConfigError(f"{key} is not valid JSON") from exc
    if not isinstance(value, kind):
        raise ConfigError(f"{key} must be a JSON {kind.__name__}")
    return value


def load_client_settings(config: dict[str, Any]) -> ClientSettings:
    minimums = _json_setting(config, "CLIENT_MIN_VERSIONS", dict)
    for client, version in minimums.items():
        if client not in CLIENTS or not isinstance(version, str) or parse_version(version) is None:
            raise ConfigError(f"CLIENT_MIN_VERSIONS: {client!r} needs a client of {CLIENTS} and a version like 3.0.0")
    budgets = _json_setting(config, "BFF_PART_BUDGETS_MS", dict)
    if not all(isinstance(v, (int, float)) and v > 0 for v in budgets.values()):
        raise ConfigError("BFF_PART_BUDGETS_MS values must be positive milliseconds")
    return ClientSettings(minimums, _json_setting(config, "CLIENT_UPGRADE_URLS", dict),
                          _json_setting(config, "BFF_FEATURES", dict), _json_setting(config, "BFF_NOTICES", list),
                          budgets)


def parse_version(raw: str) -> tuple[int, int, int] | None:
    """`1.4.2` → (1, 4, 2); `3.1` → (3, 1, 0); a pre-release or build suffix is ignored; else None."""
    found = _VERSION.fullmatch(raw.strip())
    if found is None:
        return None
    return int(found[1]), int(found[2]), int(found[3] or 0)


def app_config() -> dict[str, Any]:
    """What the apps read at launch: feature switches, minimum versions, upgrade URLs, notices."""
    settings: ClientSettings = current_app.extensions["bff_settings"]
    return {"features": settings.features, "min_versions": settings.min_versions,
            "upgrade_urls": settings.upgrade_urls, "notices": settings.notices}


# --- Version gate ----------------------------------------------------------------------------

def _gated(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(_EXEMPT)


def check_client_version() -> None:
    """before_request: 400 for a malformed identification, 426 for a build below its minimum."""
    if not _gated(request.path):
        return
    client = request.headers.get("X-Client")
    raw_version = request.headers.get("X-Client-Version")
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
    settings: ClientSettings = current_app.extensions["bff_settings"]
    minimum = settings.min_versions.get(client)
    if minimum is not None and version < parse_version(minimum):
        raise ClientUpgradeRequired(extra={"client": client, "current_version": raw_version.strip(),
                                           "min_version": minimum, "upgrade_url": settings.upgrade_urls.get(client)})


# --- ETag and gzip -----------------------------------------------------------------------------

def revalidate_and_compress(response: Response) -> Response:
    """after_request on the BFF's GETs: weak ETag → 304 on a match; gzip above 1 KB if accepted."""
    if (request.method not in ("GET", "HEAD") or not request.path.startswith(BFF_PREFIX)
            or response.status_code != 200 or response.direct_passthrough or not response.is_json):
        return response
    body = response.get_data()
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest(), weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Accept-Encoding")
    response.vary.add("Accept-Language")
    if request.if_none_match and request.if_none_match.contains_weak(response.get_etag()[0]):
        response.status_code = 304
        response.set_data(b"")
        for header in ("Content-Type", "Content-Length"):
            response.headers.pop(header, None)
        return response
    if len(body) > GZIP_MIN_BYTES and request.accept_encodings["gzip"] > 0:
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    app.extensions["bff_settings"] = load_client_settings(app.config)
    app.before_request(check_client_version)
    app.after_request(revalidate_and_compress)


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
