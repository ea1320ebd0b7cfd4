"""The factors beside the signing PIN (split out of signing/signer.py): the SMS code bound to one
request or batch, and the fresh face check (ASSURANCE_POLICY["signing"]), as configured
(SIGNING_REQUIRE_SMS, SIGNING_REQUIRE_LIVENESS)."""
from __future__ import annotations

from flask import current_app

from app import ratelimit
from app.i18n import N_
from app.ratelimit import Limit
from app.security.pii import field_cipher
from identity import service as identity
from identity.service import CodeCheck, PhoneRequired, SmsCodeAttemptsExceeded, SmsCodeExpired, SmsCodeInvalid
from signing import models
from signing.enrolment import require_level
from signing.errors import LivenessRequired, RequestNotFound, SmsCodeRequired


def _sms_subject(target_id: str) -> str:
    return f"signing:{target_id}"  # the code is bound to one request or batch


def send_sms_code(*, user_id: str, target_id: str, owner_id: str | None = None) -> dict[str, int]:
    """Send an SMS code that authorises this request or batch (when SIGNING_REQUIRE_SMS) to the
    person who will sign (`user_id`); the target is `owner_id`'s (default: theirs)."""
    require_level(user_id)
    user = identity.get_user(user_id)
    owner_id = owner_id or user_id
    owned = (models.find_request(request_id=target_id, user_id=owner_id)
             or models.find_batch_member(batch_id=target_id, user_id=owner_id))
    if owned is None:
        raise RequestNotFound()
    if user.phone_enc is None:
        raise PhoneRequired()
    ratelimit.consume([Limit(f"signing-sms:{user_id}", 1, current_app.config["SMS_RESEND_COOLDOWN"],
                             "sms_resend_too_soon", N_("验证码发送过于频繁，请稍后再试。"))])
    phone = field_cipher().decrypt(user.phone_enc, "user.phone")
    code = identity.new_sms_code(_sms_subject(target_id))
    identity.send_sms(phone, code)
    return {"expires_in": current_app.config["SMS_CODE_TTL"]}


def _second_factors(user_id: str, target_id: str, sms_code: str | None,
                    liveness_session_id: str | None = None) -> None:
    """The factors beside the PIN. A face check: policy ASSURANCE_POLICY["signing"] (L3 proved within
    600 s) read from identity's assurance events, so a face step-up (POST /me/liveness + confirm) or
    网证 satisfies it; `liveness_session_id` (older clients) is spent first, which records that event.
    Stale → 403 step_up_required; never L3 → 403 liveness_required (as before), both naming levels."""
    cfg = current_app.config
    if liveness_session_id:
        identity.require_fresh_liveness(user_id=user_id, liveness_session_id=liveness_session_id,
                                        max_age_s=identity.policy("signing")[1] or cfg["LIVENESS_FRESH_SECONDS"])
    if cfg["SIGNING_REQUIRE_LIVENESS"]:
        try:
            identity.require_policy(user_id, "signing")
        except identity.AssuranceInsufficient as exc:
            raise LivenessRequired(extra=exc.extra) from None
    if cfg["SIGNING_REQUIRE_SMS"]:
        if not sms_code:
            raise SmsCodeRequired()
        answer = identity.check_sms_code(_sms_subject(target_id), sms_code)
        if answer is CodeCheck.MISSING:
            raise SmsCodeExpired()
        if answer is CodeCheck.DEAD:
            raise SmsCodeAttemptsExceeded()
        if answer is CodeCheck.WRONG:
            raise SmsCodeInvalid()
