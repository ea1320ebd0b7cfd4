"""The signing PIN's life after enrolment (issue 18): change it, reset a forgotten one.

A bearer token alone never changes the PIN (house rule 4, issue 14 item 1): changing needs the
current PIN, checked through the same counter as signing (a wrong one counts toward the lockout, a
locked credential is refused); resetting needs an SMS step-up code (purpose `signing`, sent by
`POST /api/v1/me/step-up/sms-codes`) and a fresh face-liveness check (`POST /api/v1/me/liveness`:
the real-name check at L3), and works while signing is locked — it is the way out of a lockout
(the 423 answer names it in `reset_url`). Either way the key and the certificate stay: the PIN only
authorises the use of the key (the key store wraps it under its own key, not under the PIN), so
after the change the same key signs with the new PIN and never with the old.

Order of checks (API.md): assurance level (403) → the new PIN's rules (422 `pin_weak`,
`pin_unchanged`) → an active credential (404) → the per-citizen hourly limit (429) → the proof
(old PIN: 423/400; reset: the step-up, 403). The new hash is computed before the one transaction
that stores it, audits the event and queues the citizen's notice: a refusal leaves nothing written
but the wrong-PIN count (which must be kept) and a spent step-up code or liveness session.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from app import audit, ratelimit
from app.db import unit_of_work, utcnow
from app.i18n import N_
from app.ratelimit import Limit
from identity import service as identity
from identity.service import require_fresh_liveness, verify_sms_step_up
from signing import models, notices
from signing.enrolment import active_credential, check_pin, require_level
from signing.errors import NotEnrolled, PinChangedMeanwhile, PinUnchanged, PinWeak
from signing.models import SigningCredential
from signing.pin import hash_pin, weak_reasons

_CHANGE_LIMIT = "signing-pin:{{{}}}:change-hour"
_RESET_LIMIT = "signing-pin:{{{}}}:reset-hour"


def _check_new_pin(user_id: str, new_pin: str) -> None:
    person = identity.verified_identity(user_id)
    reasons = weak_reasons(new_pin, id_number=person.id_number if person else None)
    if reasons:
        raise PinWeak(errors={"new_pin": reasons})


def _hourly(key: str, user_id: str, setting: str) -> None:
    ratelimit.consume([Limit(key.format(user_id), current_app.config[setting], 3600, "signing_pin_rate_limited",
                             N_("签名密码修改或重设过于频繁，请一小时后再试。"))])


def _answer(credential: SigningCredential, at, via: str) -> dict[str, Any]:
    return {"serial": credential.cert_serial, "pin_changed_at": at, "via": via}


def change_pin(*, user_id: str, old_pin: str, new_pin: str) -> dict[str, Any]:
    """Replace the citizen's signing PIN, proven by the current one. AssuranceInsufficient, PinWeak,
    PinUnchanged, NotEnrolled, 429 signing_pin_rate_limited, SigningLocked (also while locked: the
    reset is the way then), PinInvalid (counted toward the lockout), PinChangedMeanwhile."""
    require_level(user_id)
    _check_new_pin(user_id, new_pin)
    if new_pin == old_pin:
        raise PinUnchanged(errors={"new_pin": [PinUnchanged.detail]})
    credential = active_credential(user_id)
    _hourly(_CHANGE_LIMIT, user_id, "SIGNING_PIN_CHANGES_PER_HOUR")
    check_pin(credential, old_pin)
    new_hash = hash_pin(new_pin)  # slow: outside the transaction
    now = utcnow().replace(microsecond=0)
    with unit_of_work():
        if models.change_pin_hash(credential.id, old_hash=credential.pin_hash, new_hash=new_hash) != 1:
            _raise_changed(credential)
        audit.record("signing.pin_change", actor_kind="citizen", actor_id=user_id, target=credential.id,
                     details={"serial": credential.cert_serial, "via": "old_pin"})
        notices.pin_changed(user_id=user_id, credential_id=credential.id, serial=credential.cert_serial, via="change")
    return _answer(credential, now, "change")


def reset_pin(*, user_id: str, sms_code: str, liveness_session_id: str, new_pin: str) -> dict[str, Any]:
    """Set a new signing PIN for a citizen who forgot theirs, proven by an SMS step-up code (purpose
    `signing`) and a fresh liveness session; works while locked and lifts the lockout and the
    wrong-PIN count. AssuranceInsufficient, PinWeak, NotEnrolled, 429 signing_pin_rate_limited,
    StepUpFailed, FreshLivenessRequired (503 when no liveness provider answers)."""
    require_level(user_id)
    _check_new_pin(user_id, new_pin)
    credential = active_credential(user_id)
    _hourly(_RESET_LIMIT, user_id, "SIGNING_PIN_RESETS_PER_HOUR")
    verify_sms_step_up(user_id=user_id, purpose="signing", code=sms_code)
    require_fresh_liveness(user_id=user_id, liveness_session_id=liveness_session_id)
    was_locked = _is_locked(user_id)
    new_hash = hash_pin(new_pin)  # slow: outside the transaction
    now = utcnow().replace(microsecond=0)
    with unit_of_work():
        if models.reset_pin_hash(credential.id, user_id=user_id, new_hash=new_hash) != 1:
            raise NotEnrolled()
        audit.record("signing.pin_reset", actor_kind="citizen", actor_id=user_id, target=credential.id,
                     details={"serial": credential.cert_serial, "via": "step_up", "lock_lifted": was_locked})
        notices.pin_changed(user_id=user_id, credential_id=credential.id, serial=credential.cert_serial, via="reset")
    return _answer(credential, now, "reset")


def _is_locked(user_id: str) -> bool:
    until = models.latest_lock(user_id)
    return bool(until and until > utcnow())


def _raise_changed(credential: SigningCredential) -> None:
    """The conditional update found nothing: revoked meanwhile (NotEnrolled) or the PIN changed."""
    now = models.credential_by_id(credential.id)
    if now is None or now.status != "active":
        raise NotEnrolled()
    raise PinChangedMeanwhile()
