"""Wire the external-system adapters chosen by configuration (one instance per app)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from app.security.pii import derive_key
from identity.adapters import dev
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
    liveness = DevLivenessProvider(redis) if config["LIVENESS_BACKEND"] == "dev" else NoLivenessProvider()
    return IdentityProviders(sms=sms, registry=registry, wechat=wechat, liveness=liveness)


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
