"""Wire the external-system adapters chosen by configuration (one instance per app)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from app.config import ConfigError
from app.security.pii import derive_key
from app.config import ncid_platform_certs
from identity.adapters import dev
from identity.adapters.ncid import DevNcidGateway, DisabledNcidGateway, HttpNcidGateway, NcidGateway, load_platform_keys
from identity.adapters.face import HttpFaceProvider
from identity.adapters.registry import HttpPopulationRegistry, PopulationRegistry
from identity.adapters.sms import AliyunSmsSender, SmsSender
from identity.adapters.wechat import HttpWeChatClient, WeChatClient
from identity.liveness import DevLivenessProvider, LivenessProvider, NoLivenessProvider


@dataclass
class IdentityProviders:
    sms: SmsSender
    registry: PopulationRegistry
    wechat: WeChatClient
    liveness: LivenessProvider
    ncid: NcidGateway | None = None


def build_providers(config: dict[str, Any], redis, cipher, secret: bytes) -> IdentityProviders:
    if config["SMS_BACKEND"] == "aliyun":
        sms = AliyunSmsSender(config["SMS_ENDPOINT"], config["SMS_ACCESS_KEY_ID"], config["SMS_ACCESS_KEY_SECRET"],
                              config["SMS_SIGN_NAME"], config["SMS_TEMPLATE_CODE"])
    else:
        sms = dev.OutboxSmsSender(redis)
    if config["REGISTRY_BACKEND"] == "http":
        registry = HttpPopulationRegistry(config["REGISTRY_URL"], config["REGISTRY_APP_ID"], config["REGISTRY_APP_SECRET"])
    else:
        registry = dev.TableRegistry(cipher)
    if config["WECHAT_BACKEND"] == "http":
        wechat = wechat_api_client(config, redis)
    else:
        wechat = dev.DevWeChatClient(redis, secret)
    liveness = liveness_provider(config, redis, cipher)
    return IdentityProviders(sms=sms, registry=registry, wechat=wechat, liveness=liveness, ncid=ncid_gateway(config))


def ncid_gateway(config: dict[str, Any]) -> NcidGateway:
    """NCID_BACKEND: "http" the national platform (pinned NCID_PLATFORM_CERTS); "dev" a development platform
    whose key is made here, at start-up (refused in production by app/config.py); "none" off (503)."""
    backend = config.get("NCID_BACKEND") or "none"
    if backend == "http":
        return HttpNcidGateway(config["NCID_URL"], config["NCID_ORG_ID"], config["NCID_APP_ID"],
                               config["NCID_BUSINESS_ID"], config["NCID_APP_SECRET"],
                               load_platform_keys(ncid_platform_certs(config)))
    if backend == "dev":
        if config.get("APP_ENV") == "production":
            raise ValueError("NCID_BACKEND=dev is a development adapter")
        return DevNcidGateway(config.get("NCID_ORG_ID") or "DEVORG000001", config.get("NCID_APP_ID") or "DEVAPP000001",
                              config.get("NCID_BUSINESS_ID") or "0001")
    return DisabledNcidGateway(config.get("NCID_ORG_ID") or "", config.get("NCID_APP_ID") or "",
                               config.get("NCID_BUSINESS_ID") or "")


def liveness_provider(config: dict[str, Any], redis, cipher) -> LivenessProvider:
    """LIVENESS_BACKEND: "dev" (DevLivenessProvider), "http" (FACE v1) or "none" (503 liveness_unavailable).
    Anything else, or "http" without its gateway settings, stops the app: an unknown spelling must not
    quietly turn L3 off (or on)."""
    backend = config["LIVENESS_BACKEND"]
    if backend == "dev":
        return DevLivenessProvider(redis)
    if backend == "none":
        return NoLivenessProvider()
    if backend != "http":
        raise ConfigError(f"LIVENESS_BACKEND must be dev, http or none, not {backend!r}")
    missing = [k for k in ("FACE_URL", "FACE_APP_ID", "FACE_APP_SECRET") if not config.get(k)]
    if missing:
        raise ConfigError(f"LIVENESS_BACKEND=http needs {', '.join(missing)}")
    return HttpFaceProvider(config["FACE_URL"], config["FACE_APP_ID"], config["FACE_APP_SECRET"], redis=redis,
                            cipher=cipher, min_score=config["FACE_MIN_SCORE"])


def init_providers(app: Flask) -> None:
    keys = app.extensions["keys"]
    app.extensions["identity"] = build_providers(
        app.config, app.extensions["redis"], app.extensions["pii"], derive_key(keys.data_master_key, "dev/wechat")
    )


def providers() -> IdentityProviders:
    return current_app.extensions["identity"]


def wechat_api_client(config, token_cache) -> HttpWeChatClient:
    """The mini-program's server API client (`WECHAT_*`): notify's subscribe messages share its access
    token (one cache key: a second fetcher would invalidate the first one's token). Its failures raise
    `WeChatError`."""
    return HttpWeChatClient(config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"],
                            token_cache=token_cache)
