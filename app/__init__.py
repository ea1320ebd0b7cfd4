"""YiWang (一网): the application factory."""
from __future__ import annotations

import inspect
import logging
import re
import secrets
import time
from typing import Any, Callable

import orjson
from flask import Flask, g, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from app import calendar, cli, clock, health, i18n, input_guard
from app.config import ConfigError, check_config, load_settings
from app.crypto.ca import ensure_platform_ca, init_crypto
from app.db import init_db, migrate
from app.errors import PROBLEM_MIMETYPE, register_error_handlers
from app.features import load_features
from app.health import init_metrics
from app.logs import log_access, setup_logging
from app.openapi import (
    InputAnswersPlugin, MinPropertiesPlugin, ProblemSchema, ProtectedAnswersPlugin, RequiredAlternativesPlugin,
)
from app.redis import init_redis
from app.security import acting_for, auth
from app.security.keys import load_key_material
from app.security.pii import PiiCipher, derive_key
from app.security.tokens import TokenService
from app.version_gate import ClientVersionPlugin

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

API_SETTINGS = {
    "API_TITLE": "YiWang 一网 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",  # served from the swagger-ui-bundle wheel, no CDN
    "API_SPEC_OPTIONS": {
        "info": {"description": "YiWang 一网: 实名认证、电子证照、电子云签、政务服务地图、办件进度。\n\n"
                                "请求体须为 UTF-8 JSON，嵌套不超过 32 层（否则 400 body_unparsable），不超过 16 MiB"
                                "（413）；任何字符串（请求体或查询参数）不得含 U+0000 或不成对的代理字符（422）。"},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    },
}


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON answers written by orjson: the same JSON (keys sorted as Flask sorts them, UTF-8
    text unescaped, datetimes, dates and dataclasses through `default` exactly as before — RFC 3339
    China time, see app/clock.py), about a tenth of the stdlib encoder's work. Anything orjson will
    not write the way the stdlib would (a non-string key, an integer past 64 bits, a lone surrogate,
    ASCII-only or indented output) goes to Flask's own encoder, which answers or fails as before."""

    def response(self, *args: Any, **kwargs: Any):
        if (self.compact is None and self._app.debug) or self.compact is False or self.ensure_ascii:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        option = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE
        if self.sort_keys:
            option |= orjson.OPT_SORT_KEYS
        try:
            body = orjson.dumps(obj, default=self.default, option=option)
        except TypeError:  # orjson.JSONEncodeError included
            return super().response(*args, **kwargs)
        return self._app.response_class(body, mimetype=self.mimetype)


class YiWangFlask(Flask):
    """Flask, with `ensure_sync` answering a plain function at once: Flask asks it of every hook and
    view on every request, and `inspect.iscoroutinefunction` (unwrapping partials and methods each
    time) was ~5 % of a simple request. Anything without its own `__code__` (a partial, a callable
    object), and every coroutine function, goes to Flask's own answer as before."""

    def ensure_sync(self, func: Callable) -> Callable:
        code = getattr(func, "__code__", None)  # a function's, or a bound method's (its function's)
        if code is not None and not code.co_flags & inspect.CO_COROUTINE:
            return func
        return super().ensure_sync(func)

    json_provider_class = OrjsonProvider


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings → logging → database → Redis → keys → adapters → routes."""
    settings = load_settings(config)
    check_config(settings)
    setup_logging(settings["LOG_LEVEL"])
    app = YiWangFlask(__name__)
    app.config.update(settings)
    app.config.update(API_SETTINGS)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    app.json.ensure_ascii = False
    if settings["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUSTED_PROXIES"], x_proto=1)

    _setup_request_ids(app)
    _init_services(app)
    _register_blueprints(app)
    if settings["APP_ENV"] == "development" and settings["AUTO_MIGRATE"]:
        applied = migrate()
        if applied:
            log.info("applied migrations", extra={"migrations": applied})
        ensure_platform_ca(app)  # development: the root CA exists from the first start
    return app


def _init_services(app: Flask) -> None:
    init_db(app)
    init_redis(app)
    try:
        keys = load_key_material(app.config)
    except ValueError as exc:  # a malformed key setting: named (never its value), not a traceback
        raise ConfigError(str(exc)) from None
    app.extensions["keys"] = keys
    app.extensions["pii"] = PiiCipher(keys.data_master_key)
    app.extensions["sms_code_key"] = derive_key(keys.data_master_key, "sms-code/hmac")
    app.extensions["tokens"] = TokenService(keys, issuer=app.config["JWT_ISSUER"],
                                            audience=app.config["JWT_AUDIENCE"], ttl=app.config["ACCESS_TOKEN_TTL"])
    init_metrics(app)
    init_crypto(app)  # key store + platform CA (the CA is created/imported on first use)
    calendar.init_app(app)  # the override file read (a malformed one stops the start); the doctor's check


class YiWangApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # flask-smorest documents its shared error responses (default, 422 …) as application/json;
        # every error this app sends is application/problem+json.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_MIMETYPE
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


def _register_blueprints(app: Flask) -> None:
    api = YiWangApi(app, spec_kwargs={"extra_plugins": [ProtectedAnswersPlugin(), ClientVersionPlugin(),
                                                        MinPropertiesPlugin(), RequiredAlternativesPlugin(),
                                                        InputAnswersPlugin()]})
    app.extensions["api"] = api
    cli.register(app)  # the kernel's commands first: features add theirs and their demo seeders
    load_features(app, api)  # each feature's init_app: blueprints, pages, commands, signal receivers
    acting_for.init_app(app)  # after the features: labels a delegated answer before the BFF hashes/gzips it
    app.register_blueprint(health.bp)
    _serve_swagger_ui(app)
    register_error_handlers(app)
    _guard_requests(app)
    clock.init_app(app)  # every datetime in an answer is RFC 3339 with +08:00
    i18n.init_app(app)  # Content-Language and Vary: Accept-Language on every JSON answer


def _guard_requests(app: Flask) -> None:
    """Before any view parses its arguments (after the version gate): 401/403 first, then a sound
    body and clean text (400/413/422) — API.md's order of checks, whatever a route's decorators."""
    auth.init_app(app)
    input_guard.init_app(app)


def _serve_swagger_ui(app: Flask) -> None:
    """The interactive docs' assets come from the swagger-ui-bundle wheel (works offline)."""
    @app.get("/api/docs/static/<path:filename>")
    def swagger_ui_static(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _setup_request_ids(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        # the X-Request-ID header, read from the environ as request.headers would (one lookup)
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        # base64url, not hex: a hex id can start with 11 digits, and the log masking would then turn it
        # into "190****4218db2cf" in the logs, no longer matching the X-Request-ID the client reports.
        ctx_g = g._get_current_object()
        ctx_g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else secrets.token_urlsafe(12)
        ctx_g.request_started = time.perf_counter()  # the access log's and the latency metric's start

    @app.after_request
    def _echo(response):
        ctx_g = g._get_current_object()
        headers = response.headers
        headers["X-Request-ID"] = getattr(ctx_g, "request_id", "")
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        started = getattr(ctx_g, "request_started", None)
        if started is not None:
            req = request._get_current_object()
            path = req.path
            if not path.startswith(("/healthz", "/metrics")):
                log_access(log, req.method, path, response.status_code,
                           round((time.perf_counter() - started) * 1000, 2), getattr(ctx_g, "request_id", None))
        return response
