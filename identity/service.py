"""Citizen identity use cases: SMS login, WeChat login, phone binding, the profile.

Real-name verification and face liveness live in `realname.py`; staff and
machine clients in `staff.py`; token sessions in `sessions.py`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import peewee as pw
from flask import current_app

from app import audit, ratelimit
from app.db import db, insert_row, new_id, select_one, utcnow
from app.errors import NotFound
from identity import sessions, smscodes
from identity.adapters.sms import SmsDeliveryError
from identity.adapters.wechat import HttpWeChatClient, WeChatCodeInvalid, WeChatError, WeChatRateLimited
from identity.errors import (
    AssuranceInsufficient, PhoneBound, PhoneInvalid, SmsCodeAttemptsExceeded, SmsCodeExpired, SmsCodeInvalid,
    SmsUnavailable, WeChatBusy, WeChatCodeRejected, sms_limit_message,
)
from app.idnumber import normalize_phone
from identity.models import AuthSession, StaffUser, User, WeChatIdentity
from identity.providers import providers
from identity.signals import real_name_verified, session_ended  # noqa: F401 (the public signals)
from identity.errors import IdNumberInvalid  # noqa: F401 (re-exported: other features refuse a malformed ID number with it)
from app.ratelimit import Limit
from app.security.pii import field_cipher, mask_id_number, mask_name, mask_phone
from app.security.tokens import Principal

log = logging.getLogger(__name__)

LEVEL_NAMES = {0: "L0", 1: "L1", 2: "L2", 3: "L3", 4: "L4"}


def phone_index(phone: str) -> str:
    return field_cipher().blind_index("phone", phone)


def _require_phone(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise PhoneInvalid(errors={"phone": ["请输入 11 位中国大陆手机号码。"]})
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
        Limit(f"sms:{{{index}}}:cooldown", 1, cfg["SMS_RESEND_COOLDOWN"], "sms_resend_too_soon", "验证码发送过于频繁，请稍后再试。"),
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
    with db.atomic():
        user = select_one(User, User.phone_bidx, index) or _create_user(phone=phone, index=index)
        answer = sessions.open_session(Principal("citizen", user.id), channel=channel, ip=ip)
    answer["user"] = user_view(user)
    return answer


def _create_user(*, phone: str | None, index: str | None) -> User:
    """Create an account; when a concurrent first login for the same phone won, return its account."""
    now = utcnow()
    user = insert_row(User, ignore_conflict=True, id=new_id("u"),
                      phone_enc=field_cipher().encrypt(phone, "user.phone") if phone else None, phone_bidx=index,
                      assurance_level=1 if phone else 0, created_at=now, updated_at=now)
    return user or User.get(User.phone_bidx == index)


# --- WeChat mini-program -----------------------------------------------------------------------

def login_with_wechat(*, code: str, ip: str | None = None) -> dict[str, Any]:
    """jscode2session → the linked account (created at L0 without a phone on first use)."""
    try:
        session = providers().wechat.code2session(code)
    except WeChatCodeInvalid as exc:
        raise WeChatCodeRejected() from exc
    except (WeChatRateLimited, WeChatError) as exc:
        raise WeChatBusy() from exc
    with db.atomic():
        identity = WeChatIdentity.get_or_none(WeChatIdentity.openid == session.openid)
        key_enc = field_cipher().encrypt(session.session_key, "wechat.session_key")
        if identity is None:
            user = _create_user(phone=None, index=None)
            identity = WeChatIdentity.create(openid=session.openid, unionid=session.unionid, user=user,
                                             session_key_enc=key_enc)
        else:
            identity.session_key_enc, identity.unionid = key_enc, session.unionid or identity.unionid
            identity.updated_at = utcnow()
            identity.save()
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
    with db.atomic():
        owner = User.get_or_none(User.phone_bidx == index)
        if owner is None:
            user.phone_enc, user.phone_bidx = field_cipher().encrypt(phone, "user.phone"), index
            user.assurance_level, user.updated_at = max(user.assurance_level, 1), utcnow()
            user.save()
            owner = user
        else:
            WeChatIdentity.update(user=owner).where(WeChatIdentity.user == user).execute()
            sessions.revoke_principal_sessions("citizen", user.id, "account_merged")
            user.delete_instance()
        answer = sessions.open_session(Principal("citizen", owner.id), channel="miniprogram")
        audit.record("auth.phone.bind", actor_kind="citizen", actor_id=owner.id,
                     details={"merged": owner.id != user_id, "via": "wechat" if wechat_code else "sms"})
    answer["user"] = user_view(owner)
    answer["phone_bound"] = True
    return answer


# --- Profile -----------------------------------------------------------------------------------

def get_user(user_id: str) -> User:
    user = select_one(User, User.id, user_id)
    if user is None:
        raise NotFound("账号不存在或已注销。", code="user_not_found")
    return user


def user_view(user: User) -> dict[str, Any]:
    """The masked profile every client sees."""
    c = field_cipher()
    phone = c.decrypt(user.phone_enc, "user.phone") if user.phone_enc else None
    name = c.decrypt(user.name_enc, "user.name") if user.name_enc else None
    id_number = c.decrypt(user.id_number_enc, "user.id_number") if user.id_number_enc else None
    return {
        "id": user.id,
        "phone_masked": mask_phone(phone),
        "name_masked": mask_name(name),
        "id_number_masked": mask_id_number(id_number),
        "assurance_level": LEVEL_NAMES[user.assurance_level],
        "real_name_verified": user.real_name_verified_at is not None,
        "real_name_verified_at": user.real_name_verified_at,
        "liveness_verified_at": user.liveness_verified_at,
        "phone_bound": user.phone_bidx is not None,
        "created_at": user.created_at,
    }


@dataclass(frozen=True)
class VerifiedIdentity:
    """What other features may know about a verified citizen (through this service only)."""

    user_id: str
    name: str
    id_number: str
    assurance_level: int


def verified_identity(user_id: str) -> VerifiedIdentity | None:
    user = get_user(user_id)
    if user.id_number_enc is None:
        return None
    c = field_cipher()
    return VerifiedIdentity(user.id, c.decrypt(user.name_enc, "user.name"),
                            c.decrypt(user.id_number_enc, "user.id_number"), user.assurance_level)


def verified_level(user_id: str) -> int:
    """The assurance level of a real-name verified citizen, 0 when not verified (nothing decrypted)."""
    user = get_user(user_id)
    return user.assurance_level if user.id_number_enc is not None else 0


def require_level(user_id: str, level: int) -> None:
    """403 assurance_level_insufficient unless the citizen is real-name verified at `level` or
    above; the refusal names `required_level`, the citizen's level and the next step from it."""
    user = get_user(user_id)
    current = user.assurance_level if user.id_number_enc is not None else min(user.assurance_level, 1)
    if current < level:
        raise AssuranceInsufficient(required_level=level, current_level=current)


def user_id_for_id_number(id_number: str) -> str | None:
    """The verified account holding this (normalised) ID number, found by its blind index, or None."""
    user = select_one(User, User.id_number_bidx, field_cipher().blind_index("id", id_number))
    return user.id if user is not None else None


def client_name(client_id: str) -> str | None:
    """The registered name of a machine client (e.g. an issuing department), or None."""
    from identity.models import ApiClient

    client = ApiClient.get_or_none(ApiClient.client_id == client_id)
    return client.name if client is not None else None


# --- For notify (issue 15): what a push device is checked against, the mini-program's API client ----

def openid_belongs_to(user_id: str, openid: str) -> bool:
    """Whether the mini-program `openid` is bound to the account `user_id`."""
    return WeChatIdentity.select().where(
        (WeChatIdentity.openid == openid) & (WeChatIdentity.user == user_id)).exists()


def phone_belongs_to(user_id: str, phone: str) -> bool:
    """Whether `phone` is the account's bound phone (compared by its blind index)."""
    user = select_one(User, User.id, user_id)
    return user is not None and user.phone_bidx == phone_index(phone)


def hold_open_session(session_id: str) -> bool:
    """Lock the login session's row for the caller's transaction (PostgreSQL; SQLite writes one at a
    time anyway); False when the session is unknown or revoked."""
    query = AuthSession.select(AuthSession.revoked_at).where(AuthSession.id == session_id)
    row = (query.for_update() if isinstance(db.obj, pw.PostgresqlDatabase) else query).first()
    return row is not None and row.revoked_at is None


def wechat_api_client(config, token_cache) -> HttpWeChatClient:
    """The mini-program's server API client (`WECHAT_*`): notify's subscribe messages share its access
    token (one cache key: a second fetcher would invalidate the first one's token). Its failures raise
    `WeChatError`."""
    return HttpWeChatClient(config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"],
                            token_cache=token_cache)


# --- For wallet (issue 15): the clerks named in a citizen's licence-usage list -------------------

def staff_usernames(staff_ids: set[str]) -> dict[str, str]:
    """The usernames of these staff members, by id (unknown ids are left out)."""
    if not staff_ids:
        return {}
    return {s.id: s.username for s in
            StaffUser.select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(staff_ids))}


# For the map: whether a machine client is bound to a hall (`clients create --halls`; queue pushes).
from identity.staff import client_serves_hall  # noqa: E402,F401  (re-exported)
