"""Citizen login: SMS codes, the WeChat mini-program, binding a phone to a WeChat-created account."""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app import audit, ratelimit
from app.db import unit_of_work
from app.i18n import N_
from app.idnumber import normalize_phone
from app.ratelimit import Limit
from app.security.pii import field_cipher, mask_phone
from app.security.tokens import Principal
from identity import assurance, models, sessions, smscodes
from identity.accounts import get_user, phone_index, user_view
from identity.adapters.sms import SmsDeliveryError
from identity.adapters.wechat import WeChatCodeInvalid, WeChatError, WeChatRateLimited
from identity.errors import (
    PhoneBound, PhoneHeldByOtherAccount, PhoneInvalid, SmsCodeAttemptsExceeded, SmsCodeExpired, SmsCodeInvalid, SmsUnavailable, WeChatBusy,
    WeChatCodeRejected, sms_limit_message,
)
from identity.models import User
from identity.providers import providers

log = logging.getLogger(__name__)


def _require_phone(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise PhoneInvalid(errors={"phone": [N_("请输入 11 位中国大陆手机号码。")]})
    return phone


# --- SMS codes -------------------------------------------------------------------------------

def phone_send_limits(index: str) -> list[Limit]:
    """The phone's hourly and daily SMS limits, shared by login and step-up codes (identity/stepup.py)."""
    cfg = current_app.config
    return [
        Limit(f"sms:{{{index}}}:phone-hour", cfg["SMS_PER_PHONE_HOUR"], 3600, "sms_limit_reached",
              explain=sms_limit_message("hour", cfg["SMS_PER_PHONE_HOUR"])),
        Limit(f"sms:{{{index}}}:phone-day", cfg["SMS_PER_PHONE_DAY"], 86400, "sms_limit_reached",
              explain=sms_limit_message("day", cfg["SMS_PER_PHONE_DAY"])),
    ]


def send_login_code(*, phone: str, ip: str) -> dict[str, int]:
    """Send a login code. Same answer whether or not the phone has an account (no enumeration)."""
    phone = _require_phone(phone)
    cfg = current_app.config
    index = phone_index(phone)
    ratelimit.consume([
        Limit(f"sms:{{{index}}}:cooldown", 1, cfg["SMS_RESEND_COOLDOWN"], "sms_resend_too_soon",
              N_("验证码发送过于频繁，请稍后再试。")),
        *phone_send_limits(index),
        Limit(f"sms:ip-hour:{ip}", cfg["SMS_PER_IP_HOUR"], 3600),
    ])
    code = smscodes.new_code(index)
    try:
        providers().sms.send_code(phone, code)
    except SmsDeliveryError as exc:
        smscodes.discard(index)
        ratelimit.reset(f"sms:{{{index}}}:cooldown")
        log.warning("sms delivery failed", extra={"phone": mask_phone(phone), "reason": str(exc)})
        raise SmsUnavailable() from exc
    return {"expires_in": cfg["SMS_CODE_TTL"], "resend_after": cfg["SMS_RESEND_COOLDOWN"]}


def _consume_code(phone: str, code: str, limits: list[Limit] = ()) -> str:
    index = phone_index(phone)
    result = smscodes.check(index, code, limits)
    if result is smscodes.CodeCheck.OK:
        return index
    if result is smscodes.CodeCheck.WRONG:
        raise SmsCodeInvalid()
    if result is smscodes.CodeCheck.DEAD:
        raise SmsCodeAttemptsExceeded()
    raise SmsCodeExpired()


def login_with_sms(*, phone: str, code: str, ip: str, channel: str = "app") -> dict[str, Any]:
    """Check the code; the first login creates the account at L1. Returns tokens and the user."""
    phone = _require_phone(phone)
    index = _consume_code(phone, code, [Limit(f"login:ip-minute:{ip}", current_app.config["LOGIN_PER_IP_MINUTE"], 60)])
    with unit_of_work():
        user = models.user_by_phone_index(index) or _create_user(phone=phone, index=index)
        assurance.record_sms_login(user.id)  # L1 proved now (one insert: the account is L1 already)
        answer = sessions.open_session(Principal("citizen", user.id), channel=channel, ip=ip)
    answer["user"] = user_view(user, phone=phone)  # found by the phone's blind index: its phone is `phone`
    return answer


def _create_user(*, phone: str | None, index: str | None) -> User:
    """Create an account; when a concurrent first login for the same phone won, return its account."""
    return models.insert_user(phone_enc=field_cipher().encrypt(phone, "user.phone") if phone else None,
                              phone_index=index, assurance_level=1 if phone else 0)


create_user = _create_user


# --- WeChat mini-program -----------------------------------------------------------------------

def login_with_wechat(*, code: str, ip: str | None = None) -> dict[str, Any]:
    """jscode2session → the linked account (created at L0 without a phone on first use)."""
    try:
        session = providers().wechat.code2session(code)
    except WeChatCodeInvalid as exc:
        raise WeChatCodeRejected() from exc
    except (WeChatRateLimited, WeChatError) as exc:
        raise WeChatBusy() from exc
    with unit_of_work():
        identity = models.wechat_identity(session.openid)
        key_enc = field_cipher().encrypt(session.session_key, "wechat.session_key")
        if identity is None:
            user = _create_user(phone=None, index=None)
            identity = models.create_wechat_identity(openid=session.openid, unionid=session.unionid, user=user,
                                                     session_key_enc=key_enc)
        else:
            models.refresh_wechat_identity(identity, session_key_enc=key_enc, unionid=session.unionid)
            user = identity.user
        answer = sessions.open_session(Principal("citizen", user.id), channel="miniprogram", ip=ip)
    answer["user"] = user_view(user)
    answer["phone_bound"] = user.phone_bidx is not None
    return answer


def bind_phone(*, user_id: str, phone: str | None = None, sms_code: str | None = None,
               wechat_code: str | None = None) -> dict[str, Any]:
    """Bind a phone to a WeChat-created account, proven by an SMS code or WeChat's phone button.

    When the phone already has an account, the WeChat identity moves to that
    account (the phone's owner proved possession) and tokens for it are returned.
    """
    user = get_user(user_id)
    if user.phone_bidx is not None:
        raise PhoneBound()
    if wechat_code:
        try:
            phone = _require_phone(providers().wechat.phone_number(wechat_code))
        except WeChatCodeInvalid as exc:
            raise WeChatCodeRejected() from exc
        except WeChatError as exc:
            raise WeChatBusy() from exc
        index = phone_index(phone)
    else:
        phone = _require_phone(phone or "")
        index = _consume_code(phone, sms_code or "")
    with unit_of_work():
        owner = models.user_by_phone_index(index)
        if owner is None:
            models.bind_user_phone(user, phone_enc=field_cipher().encrypt(phone, "user.phone"), phone_index=index)
            owner = user
        elif user.real_name_source is not None or models.ncid_link_of(user.id) is not None:
            # A 网号 account is a person's own account (its 网号 link, consents, levels, enterprises):
            # it is not folded into the phone's account; one person, one account — link 网号 there.
            raise PhoneHeldByOtherAccount()
        else:
            models.move_wechat_identities(from_user_id=user.id, to_user=owner)
            sessions.revoke_principal_sessions("citizen", user.id, "account_merged")
            models.delete_user(user)
        answer = sessions.open_session(Principal("citizen", owner.id), channel="miniprogram")
        audit.record("auth.phone.bind", actor_kind="citizen", actor_id=owner.id,
                     details={"merged": owner.id != user_id, "via": "wechat" if wechat_code else "sms"})
    answer["user"] = user_view(owner)
    answer["phone_bound"] = True
    return answer
