"""Real-name verification (实名核验, L2) and face liveness (活体, L3).

The ID number is checked locally (GB 11643) before any registry call; the
registry answer is trusted only when it is a match; an ID number belongs to
one account only. Attempts are limited per account so this endpoint cannot be
used to probe the registry.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import peewee as pw
from flask import current_app

from app import audit, ratelimit
from app.db import after_commit, unit_of_work, utcnow
from app.errors import NotFound
from app.i18n import N_
from app.idnumber import IdNumberError, normalize_id_number
from app.ratelimit import Limit
from app.redis import get_redis
from app.security.pii import field_cipher
from identity import assurance, models
from identity.accounts import get_user, user_view
from identity.adapters.registry import RegistryResult
from identity.adapters.registry import RegistryUnavailable as RegistryDown
from identity.errors import (
    AlreadyVerified, IdNumberBound, IdNumberInvalid, LivenessNeedsIdentity, LivenessNotPassed, LivenessPending,
    LivenessUnavailableError, PhoneRequired, RealNameMismatch, RegistryUnavailable,
)
from identity.liveness import LivenessUnavailable
from identity.models import User
from identity.providers import providers
from identity.signals import real_name_verified

log = logging.getLogger(__name__)

_OWNER_KEY = "liveness:owner:{}"
_PASSED_KEY = "liveness:passed:{}:{}"  # user, session: a confirmed pass a step-up may spend once
_NAME = re.compile(r"[\u3400-\u9fff\u00b7·]{2,30}|[A-Za-z][A-Za-z .'-]{1,59}")


def _normalize_name(raw: str) -> str:
    name = raw.strip().replace("•", "·")
    if not _NAME.fullmatch(name):
        raise IdNumberInvalid(N_("姓名格式不正确。"), code="name_invalid", errors={"name": [N_("请输入与身份证一致的姓名。")]})
    return name


def verify_real_name(*, user_id: str, name: str, id_number: str) -> dict[str, Any]:
    """Match name + ID number against the population registry and raise the account to L2."""
    user = get_user(user_id)
    if user.real_name_verified_at is not None:
        raise AlreadyVerified()
    if user.phone_bidx is None:
        raise PhoneRequired()
    name = _normalize_name(name)
    try:
        id_number = normalize_id_number(id_number)
    except IdNumberError as exc:
        raise IdNumberInvalid(str(exc), errors={"id_number": [str(exc)]}, extra={"reason": exc.reason}) from None
    ratelimit.consume([Limit(f"realname:user-day:{user.id}", 5, 86400, "real_name_attempts_exceeded",
                             N_("今日实名认证尝试次数过多，请明天再试。"))])
    c = field_cipher()
    index = c.blind_index("id", id_number)
    if models.id_number_held_by_other(index, user.id):
        raise IdNumberBound()
    try:
        result = providers().registry.verify(name, id_number)
    except RegistryDown as exc:
        log.warning("population registry unavailable", extra={"reason": str(exc)})
        raise RegistryUnavailable() from exc
    if result is not RegistryResult.MATCH:
        with unit_of_work():
            audit.record("identity.real_name", outcome="refused", actor_kind="citizen", actor_id=user.id,
                         details={"result": result.value})
        raise RealNameMismatch()
    now = utcnow()
    try:
        with unit_of_work():
            updated = models.set_real_name(user.id, name_enc=c.encrypt(name, "user.name"),
                                           id_number_enc=c.encrypt(id_number, "user.id_number"),
                                           id_number_index=index, now=now)
            if not updated:
                raise AlreadyVerified()
            assurance.record_assurance(user_id=user.id, level=2, method="registry")
            audit.record("identity.real_name", actor_kind="citizen", actor_id=user.id)
    except pw.IntegrityError:  # the same ID number verified concurrently by another account
        raise IdNumberBound() from None
    after_commit(_notify_verified, user.id)  # out of the try: a receiver's error is its own
    return user_view(models.reload_user(user.id))


def _notify_verified(user_id: str) -> None:
    """Tell features that keep things for a person not yet verified (parked licences, cases)."""
    real_name_verified.send(current_app._get_current_object(), user_id=user_id)


# --- Face liveness (L3) --------------------------------------------------------------------------

def start_liveness(*, user_id: str) -> dict[str, Any]:
    assurance.require_level(user_id, 2)  # 403 naming the levels
    user = get_user(user_id)
    if user.name_enc is None or user.id_number_enc is None:
        # A 网号 account holds no name or ID number to compare a face with: its face check is 网证 + 人脸
        # (R03) in the national app (POST /me/ncid/sessions {purpose: step_up}), or it consents first.
        raise LivenessNeedsIdentity()
    c = field_cipher()
    try:
        session = providers().liveness.start(user_id=user.id, name=c.decrypt(user.name_enc, "user.name"),
                                             id_number=c.decrypt(user.id_number_enc, "user.id_number"))
    except LivenessUnavailable as exc:
        raise LivenessUnavailableError() from exc
    # Our own record of whose session this is, checked before the provider is asked (and its
    # single-use result spent) on confirmation.
    get_redis().set(_OWNER_KEY.format(session.id), user.id, ex=session.expires_in)
    return {"session_id": session.id, "biz_token": session.biz_token, "expires_in": session.expires_in}


def confirm_liveness(*, user_id: str, session_id: str) -> dict[str, Any]:
    """Ask the provider for the result (server-side); a pass bound to this user gives L3."""
    if get_redis().get(_OWNER_KEY.format(session_id)) != user_id:
        raise NotFound(N_("人脸核验会话不存在或已过期，请重新发起。"), code="liveness_session_not_found")
    try:
        result = providers().liveness.result(session_id)
    except LivenessUnavailable as exc:
        raise LivenessUnavailableError() from exc
    if result.status == "pending":
        raise LivenessPending()
    get_redis().delete(_OWNER_KEY.format(session_id))
    if result.status != "passed" or result.user_id != user_id:
        with unit_of_work():
            audit.record("identity.liveness", outcome="refused", actor_kind="citizen", actor_id=user_id,
                         details={"status": result.status})
        raise LivenessNotPassed()
    now = utcnow()
    with unit_of_work():
        models.set_liveness_passed(user_id, now)
        if assurance.verified_level(user_id) >= 2:  # a face pass proves L3 on a verified account only
            # the L3 event a step-up ("L3 within 600 s": signing, enterprise registration) looks for
            assurance.record_assurance(user_id=user_id, level=3, method="face", ref=session_id)
        audit.record("identity.liveness", actor_kind="citizen", actor_id=user_id)
    get_redis().set(_PASSED_KEY.format(user_id, session_id), str(int(now.timestamp())),
                    ex=current_app.config["LIVENESS_FRESH_SECONDS"])
    return user_view(get_user(user_id))


def take_liveness_pass(*, user_id: str, session_id: str) -> datetime | None:
    """When this user's liveness session was confirmed as passed, or None; spent by the asking
    (a session proves one step-up, identity/stepup.py)."""
    raw = get_redis().getdel(_PASSED_KEY.format(user_id, session_id))
    return datetime.fromtimestamp(int(raw), timezone.utc) if raw else None


def has_fresh_liveness(user: User, max_age: int | None = None) -> bool:
    """True when the user passed a liveness check within `max_age` seconds (signing may demand it)."""
    max_age = max_age or current_app.config["LIVENESS_FRESH_SECONDS"]
    return user.liveness_verified_at is not None and utcnow() - user.liveness_verified_at <= timedelta(seconds=max_age)
