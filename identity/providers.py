"""Wire the external-system adapters chosen by configuration (one instance per app)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from identity.adapters.registry import PopulationRegistry
from identity.adapters.sms import SmsSender
from identity.adapters.wechat import WeChatClient
from identity.liveness import LivenessProvider


@dataclass
class IdentityProviders:
    sms: SmsSender
    registry: PopulationRegistry
    wechat: WeChatClient
    liveness: LivenessProvider


def build_providers(config: dict[str, Any], redis, cipher, secret: bytes) -> IdentityProviders:
    from identity.adapters import dev
    from identity.liveness import DevLivenessProvider, NoLivenessProvider

    if config["SMS_BACKEND"] == "aliyun":
        from identity.adapters.sms import AliyunSmsSender

        sms = AliyunSmsSender(config["SMS_ENDPOINT"], config["SMS_ACCESS_KEY_ID"], config["SMS_ACCESS_KEY_SECRET"],
                              config["SMS_SIGN_NAME"], config["SMS_TEMPLATE_CODE"])
    else:
        sms = dev.OutboxSmsSender(redis)
    if config["REGISTRY_BACKEND"] == "http":
        from identity.adapters.registry import HttpPopulationRegistry

        registry = HttpPopulationRegistry(config["REGISTRY_URL"], config["REGISTRY_APP_ID"], config["REGISTRY_APP_SECRET"])
    else:
        registry = dev.TableRegistry(cipher)
    if config["WECHAT_BACKEND"] == "http":
        from identity.adapters.wechat import HttpWeChatClient

        wechat = HttpWeChatClient(config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"],
                                  token_cache=redis)
    else:
        wechat = dev.DevWeChatClient(redis, secret)
    liveness = DevLivenessProvider(redis) if config["LIVENESS_BACKEND"] == "dev" else NoLivenessProvider()
    return IdentityProviders(sms=sms, registry=registry, wechat=wechat, liveness=liveness)


def init_providers(app: Flask) -> None:
    from app.security.pii import derive_key

    keys = app.extensions["keys"]
    app.extensions["identity"] = build_providers(
        app.config, app.extensions["redis"], app.extensions["pii"], derive_key(keys.data_master_key, "dev/wechat")
    )


def providers() -> IdentityProviders:
    return current_app.extensions["identity"]
