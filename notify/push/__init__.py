"""Push channels chosen by configuration (privacyIDEA-style: one interface, several backends).

`PUSH_BACKEND=log` (development, tests): every platform is delivered to the log. `http`
(production): the channels named in `PUSH_CHANNELS`, each speaking its provider's protocol.
"""
from __future__ import annotations

from typing import Any

from identity import service as identity
from notify.models import PLATFORMS
from notify.push.apns import ApnsChannel
from notify.push.base import PushChannel
from notify.push.dev import LogPushChannel
from notify.push.fcm import FcmChannel
from notify.push.huawei import HuaweiPushChannel, qps_limit
from notify.push.jpush import JPushChannel
from notify.push.oppo import OppoChannel
from notify.push.sms import AliyunNoticeSms
from notify.push.vivo import VivoChannel
from notify.push.wechat import WeChatSubscribeChannel
from notify.push.xiaomi import XiaomiPushChannel


def build_channels(config: dict[str, Any], redis_client) -> dict[str, PushChannel]:
    if config["PUSH_BACKEND"] == "log":
        return {platform: LogPushChannel(platform) for platform in PLATFORMS}
    channels: dict[str, PushChannel] = {}
    for name in enabled_channels(config):
        channels[name] = _build(name, config, redis_client)
    return channels


def enabled_channels(config: dict[str, Any]) -> list[str]:
    return [c.strip() for c in config["PUSH_CHANNELS"].split(",") if c.strip()]


def _build(name: str, config: dict[str, Any], redis_client) -> PushChannel:
    if name == "apns":
        return ApnsChannel(endpoint=config["APNS_ENDPOINT"], team_id=config["APNS_TEAM_ID"], key_id=config["APNS_KEY_ID"],
                           private_key_pem=config["APNS_PRIVATE_KEY"], topic=config["APNS_TOPIC"])
    if name == "fcm":
        return FcmChannel(endpoint=config["FCM_ENDPOINT"], service_account_json=config["FCM_SERVICE_ACCOUNT"],
                          token_cache=redis_client)
    if name == "jpush":
        return JPushChannel(endpoint=config["JPUSH_ENDPOINT"], app_key=config["JPUSH_APP_KEY"],
                            master_secret=config["JPUSH_MASTER_SECRET"], cid_cache=redis_client)
    if name == "wechat":
        return WeChatSubscribeChannel(identity.wechat_api_client(config, redis_client),
                                      template_id=config["WECHAT_SUBSCRIBE_TEMPLATE_ID"],
                                      fields=config["WECHAT_SUBSCRIBE_FIELDS"], page=config["WECHAT_SUBSCRIBE_PAGE"],
                                      state=config["WECHAT_SUBSCRIBE_STATE"])
    if name == "sms":
        return AliyunNoticeSms(endpoint=config["SMS_ENDPOINT"], access_key_id=config["SMS_ACCESS_KEY_ID"],
                               access_key_secret=config["SMS_ACCESS_KEY_SECRET"], sign_name=config["SMS_SIGN_NAME"],
                               template_code=config["NOTIFY_SMS_TEMPLATE_CODE"])
    if name == "hms":
        return HuaweiPushChannel(endpoint=config["HMS_ENDPOINT"], oauth_endpoint=config["HMS_OAUTH_ENDPOINT"],
                                 app_id=config["HMS_APP_ID"], client_secret=config["HMS_CLIENT_SECRET"],
                                 category=config["HMS_CATEGORY"], link_base=config["PUSH_DEEP_LINK"],
                                 token_cache=redis_client, counter=redis_client,
                                 qps=qps_limit(config["HMS_MAU"], config["HMS_CATEGORY_WEIGHT"]))
    if name == "xiaomi":
        return XiaomiPushChannel(endpoint=config["XIAOMI_ENDPOINT"], app_secret=config["XIAOMI_APP_SECRET"],
                                 package=config["XIAOMI_PACKAGE"], channel_id=config["XIAOMI_CHANNEL_ID"],
                                 link_base=config["PUSH_DEEP_LINK"], quota_cache=redis_client)
    if name == "oppo":
        return OppoChannel(endpoint=config["OPPO_ENDPOINT"], app_key=config["OPPO_APP_KEY"],
                           master_secret=config["OPPO_MASTER_SECRET"], channel_id=config["OPPO_CHANNEL_ID"],
                           link_base=config["PUSH_DEEP_LINK"], token_cache=redis_client)
    if name == "vivo":
        return VivoChannel(endpoint=config["VIVO_ENDPOINT"], app_id=config["VIVO_APP_ID"],
                           app_key=config["VIVO_APP_KEY"], app_secret=config["VIVO_APP_SECRET"],
                           link_base=config["PUSH_DEEP_LINK"], token_cache=redis_client)
    raise ValueError(f"unknown push channel {name!r} in PUSH_CHANNELS")
