"""Client conventions: who is calling (`X-Client`, `X-Client-Version`), the version gate (426),
revalidation (`ETag` → 304) and gzip on the BFF's answers.

- Version gate: the kernel's (app/version_gate.py); the BFF parses its settings and installs it.
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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.http import parse_set_header, quote_etag

from app import version_gate
from app.config import ConfigError
from app.version_gate import CLIENTS, parse_version
from bff.schemas import NoticeSchema

GZIP_MIN_BYTES = 1024
BFF_PREFIX = "/api/v1/bff/"


@dataclass(frozen=True)
class ClientSettings:
    """The BFF's JSON settings, parsed once at start-up (a typo fails the start, not a request)."""

    min_versions: dict[str, str]
    upgrade_urls: dict[str, str]
    features: dict[str, Any]
    notices: list[dict[str, Any]]
    part_budgets_ms: dict[str, int]
    home_notices: list[dict[str, Any]] = field(default_factory=list)  # `notices` as the home answer shows them


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
    notices = _json_setting(config, "BFF_NOTICES", list)
    return ClientSettings(minimums, _json_setting(config, "CLIENT_UPGRADE_URLS", dict),
                          _json_setting(config, "BFF_FEATURES", dict), notices, budgets,
                          NoticeSchema(many=True).dump(notices))


def app_config() -> dict[str, Any]:
    """What the apps read at launch: feature switches, minimum versions, upgrade URLs, notices."""
    settings: ClientSettings = current_app.extensions["bff_settings"]
    return {"features": settings.features, "min_versions": settings.min_versions,
            "upgrade_urls": settings.upgrade_urls, "notices": settings.notices}


# --- ETag and gzip -----------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _vary(current: str | None) -> str:
    """The Vary header once Accept-Encoding and Accept-Language are added to `current` (as
    `response.vary.add` writes it; the few values our own hooks set, each worked out once)."""
    found = parse_set_header(current)
    found.add("Accept-Encoding")
    found.add("Accept-Language")
    return found.to_header()


def revalidate_and_compress(response: Response) -> Response:
    """after_request on the BFF's GETs: weak ETag → 304 on a match; gzip above 1 KB if accepted."""
    if response.status_code != 200 or response.direct_passthrough or not response.is_json:
        return response
    req = request._get_current_object()  # one context lookup for the several reads below
    if req.method not in ("GET", "HEAD") or not req.path.startswith(BFF_PREFIX):
        return response
    body = response.get_data()
    etag = hashlib.blake2b(body, digest_size=16).hexdigest()
    headers = response.headers
    headers["ETag"] = quote_etag(etag, weak=True)  # what response.set_etag(etag, weak=True) writes
    headers["Cache-Control"] = "private, no-cache"
    headers["Vary"] = _vary(headers.get("Vary"))
    if "If-None-Match" in req.headers and req.if_none_match.contains_weak(etag):
        response.status_code = 304
        response.set_data(b"")
        for header in ("Content-Type", "Content-Length"):
            headers.pop(header, None)
        return response
    if len(body) > GZIP_MIN_BYTES and "Accept-Encoding" in req.headers and req.accept_encodings["gzip"] > 0:
        response.set_data(gzip.compress(body, compresslevel=5))
        headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    settings = load_client_settings(app.config)
    app.extensions["bff_settings"] = settings
    version_gate.init_app(app, min_versions=settings.min_versions, upgrade_urls=settings.upgrade_urls)
    app.after_request(revalidate_and_compress)
