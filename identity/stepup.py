"""Step-up authentication (二次核验): proof beyond the bearer token for sensitive operations.

A stolen access token must not be enough to revoke a signing certificate, enrol a new key or grant
a proxy. Such operations ask for an SMS code sent to the account's bound phone (bound to the user
and a purpose, single use, `SMS_CODE_TTL` alive, dead after `SMS_CODE_MAX_TRIES` wrong answers) and,
where the brief of the operation says so, a fresh face-liveness check.

Codes go through the SMS sender and the per-phone hourly/daily limits the login codes use; the
resend cooldown is per (user, purpose), so a login code just sent does not block a step-up code.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from flask import current_app

from app import audit, ratelimit
from app.config import DEFAULTS
from app.db import unit_of_work, utcnow
from app.errors import AppError
from app.i18n import N_
from app.ratelimit import Limit
from app.security.pii import field_cipher, mask_phone
from identity import assurance, realname, smscodes
from identity.accounts import get_user
from identity.adapters.sms import SmsDeliveryError
from identity.errors import FreshLivenessRequired, PhoneRequired, SmsUnavailable, StepUpFailed
from identity.login import phone_send_limits
from identity.providers import providers

log = logging.getLogger(__name__)

PURPOSES = ("signing", "proxy_grant")
# Purposes of the level step-up by SMS (POST /me/step-up/sms): the operations of ASSURANCE_POLICY.
# Its codes live under their own subjects, so they never pass for the operation codes above.
LEVEL_PURPOSES = tuple(DEFAULTS["ASSURANCE_POLICY"])
_CODE = re.compile(r"\d{6}")


def _subject(user_id: str, purpose: str, *, level: bool = False) -> str:
    if purpose not in (LEVEL_PURPOSES if level else PURPOSES):
        raise ValueError(f"unknown step-up purpose {purpose!r}")
    return f"stepup:{'level:' if level else ''}{purpose}:{user_id}"


def send_sms_step_up(*, user_id: str, purpose: str, level: bool = False) -> dict[str, object]:
    """Send a 6-digit step-up code for `purpose` to the user's bound phone (replacing an earlier one).
    PhoneRequired without a bound phone; 429 within the cooldown or past the phone's limits.
    `level`: a code that proves a fresh L2 (LEVEL_PURPOSES, verify_level_step_up)."""
    subject = _subject(user_id, purpose, level=level)
    user = get_user(user_id)
    if user.phone_enc is None:
        raise PhoneRequired()
    phone = field_cipher().decrypt(user.phone_enc, "user.phone")
    cfg = current_app.config
    cooldown = f"sms:{{{user.phone_bidx}}}:step-up:{'level:' if level else ''}{purpose}"
    ratelimit.consume([Limit(cooldown, 1, cfg["SMS_RESEND_COOLDOWN"], "sms_resend_too_soon",
                             N_("验证码发送过于频繁，请稍后再试。")), *phone_send_limits(user.phone_bidx)])
    code = smscodes.new_code(subject)
    try:
        providers().sms.send_code(phone, code)
    except SmsDeliveryError as exc:
        smscodes.discard(subject)
        ratelimit.reset(cooldown)
        log.warning("step-up sms delivery failed", extra={"purpose": purpose, "reason": str(exc)})
        raise SmsUnavailable() from exc
    return {"expires_in": cfg["SMS_CODE_TTL"], "resend_after": cfg["SMS_RESEND_COOLDOWN"],
            "phone_masked": mask_phone(phone)}


def send_level_step_up(*, user_id: str, purpose: str) -> dict[str, object]:
    """POST /me/step-up/sms: a code whose answer proves a fresh L2 — on an account standing at L2
    (possession of its bound phone; never more than L2). 403 naming the levels below L2."""
    assurance.require_level(user_id, 2, purpose=purpose)
    return send_sms_step_up(user_id=user_id, purpose=purpose, level=True)


def verify_level_step_up(*, user_id: str, purpose: str, code: str) -> dict[str, object]:
    """POST /me/step-up/sms/verify: pass and consume the code, record the fresh L2 event."""
    assurance.require_level(user_id, 2, purpose=purpose)
    verify_sms_step_up(user_id=user_id, purpose=purpose, code=code, level=True)
    with unit_of_work():
        assurance.record_assurance(user_id=user_id, level=2, method="sms_step_up")
        audit.record("identity.step_up", actor_kind="citizen", actor_id=user_id,
                     details={"purpose": purpose, "method": "sms", "level": 2})
    return {"level": "L2", "method": "sms", "purpose": purpose}


def verify_sms_step_up(*, user_id: str, purpose: str, code: str, level: bool = False) -> None:
    """Pass and consume the user's step-up code for `purpose`, or raise StepUpFailed (missing,
    wrong, expired, used, or burned after too many wrong answers)."""
    subject = _subject(user_id, purpose, level=level)
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise StepUpFailed(extra={"reason": "missing"})
    answer = smscodes.check(subject, code)
    if answer is smscodes.CodeCheck.OK:
        return
    reason = {smscodes.CodeCheck.WRONG: "wrong", smscodes.CodeCheck.DEAD: "attempts_exceeded"}.get(answer, "expired")
    with unit_of_work():
        audit.record("identity.step_up", outcome="refused", actor_kind="citizen", actor_id=user_id,
                     details={"purpose": purpose, "reason": reason})
    raise StepUpFailed(extra={"reason": reason})


def require_fresh_liveness(*, user_id: str, liveness_session_id: str, max_age_s: int = 600,
                           purpose: str | None = None) -> None:
    """Pass when `liveness_session_id` is this user's liveness session (POST /me/liveness) that
    passed at most `max_age_s` ago, and spend it (one session proves one operation). The session
    may have been confirmed already (POST /me/liveness/{id}/confirm) or only completed in the
    provider's SDK: then the provider is asked now and a pass is recorded as the account's liveness
    check. Otherwise FreshLivenessRequired (`liveness_required`); 503 when no provider answers."""
    facts = {"max_age": max_age_s, "purpose": purpose, "current_level": assurance.verified_level(user_id)}
    if not isinstance(liveness_session_id, str) or not liveness_session_id:
        raise FreshLivenessRequired(**facts, extra={"reason": "missing"})
    passed_at = realname.take_liveness_pass(user_id=user_id, session_id=liveness_session_id)
    if passed_at is None:
        try:
            realname.confirm_liveness(user_id=user_id, session_id=liveness_session_id)
        except AppError as exc:
            if exc.status == 503:
                raise
            raise FreshLivenessRequired(**facts, extra={"reason": exc.code}) from None
        passed_at = realname.take_liveness_pass(user_id=user_id, session_id=liveness_session_id)
    if passed_at is None or utcnow() - passed_at > timedelta(seconds=max_age_s):
        raise FreshLivenessRequired(**facts, level_reached_at=passed_at, extra={"reason": "stale"})
