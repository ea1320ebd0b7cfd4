"""Enrolment (开通电子签名): signing PIN, an SM2 key in the key store, a certificate from the
platform CA; the PIN check with its lockout; revocation and re-enrolment.

A citizen has at most one active credential (`active_slot`, UNIQUE). Revoking it revokes the
certificate at the CA (the CRL and status answer it at once) and disables the key; the citizen may
then enrol again with a new key. A PIN lockout outlives re-enrolment: revoking and re-enrolling
cannot be used to get five more guesses.

A bearer token alone never changes the credential (issue 14 item 1): enrolling needs an SMS
step-up code (purpose `signing`) sent to the bound phone, and re-enrolling after a revocation also
a fresh face-liveness check; revoking needs the current PIN (counted toward the lockout) or, for a
forgotten PIN, an SMS step-up code plus a fresh liveness check. Each enrolment, revocation, wrong
PIN and lockout is audited and told to the citizen (signing/notices.py) in the same transaction.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import peewee as pw
from flask import current_app

from app import audit
from app.clock import rfc3339, to_china
from app.crypto.ca import keystore, platform_ca
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_
from app.security.pii import mask_id_number, mask_name
from identity import service as identity
from identity.service import AssuranceInsufficient, FreshLivenessRequired, require_fresh_liveness, verify_sms_step_up
from signing import models, notices
from signing.errors import AlreadyEnrolled, NotEnrolled, PinInvalid, PinWeak, SigningLocked
from signing.models import SigningCredential
from signing.pin import hash_pin, verify_pin, weak_reasons

log = logging.getLogger(__name__)

KEY_PURPOSE = "signing"
PIN_RESET_URL = "/api/v1/signing/pin/reset"  # the way out of a lockout (signing/pin_lifecycle.py)
KEY_USAGE = {"digitalSignature", "nonRepudiation"}
# RFC 5280 reasons a citizen may give (lost phone → keyCompromise).
CITIZEN_REVOCATION_REASONS = ("unspecified", "keyCompromise", "superseded", "cessationOfOperation")


def _citizen(user_id: str) -> tuple[str, str]:
    return "citizen", user_id


def active_credential(user_id: str) -> SigningCredential:
    """The citizen's active credential; NotEnrolled if none."""
    credential = models.active_credential_of(user_id)
    if credential is None:
        raise NotEnrolled()
    return credential


def require_level(user_id: str, level: int = 2) -> None:
    """Identity's check: 403 assurance_level_insufficient naming required_level and current_level."""
    identity.require_level(user_id, level)


def _locked_until(user_id: str):
    until = models.latest_lock(user_id)
    return until if until and until > utcnow() else None


def _raise_locked(until) -> None:
    """SigningLocked saying until when (`locked_until`, Retry-After) and the way out now: the
    forgotten-PIN reset (`reset_url`: SMS step-up + fresh liveness), which works while locked."""
    detail = N_("签名密码错误次数过多，电子签名已锁定至北京时间 {until:%Y-%m-%d %H:%M}。届时可再试；"
                "忘记签名密码的，可在“电子签名-忘记签名密码”中用短信验证码和人脸核验重设，重设后立即解除锁定。",
                until=to_china(until))
    raise SigningLocked(detail, headers={"Retry-After": str(max(1, int((until - utcnow()).total_seconds())))},
                        extra={"locked_until": rfc3339(until), "reset_url": PIN_RESET_URL})


def subject_for(name: str, id_number: str) -> dict[str, str]:
    """Certificate subject: the name, and the ID number masked (GB/T 35273). The masked number is
    in OU because serialNumber must be a PrintableString, which has no `*`."""
    return {"C": "CN", "O": "YiWang", "OU": mask_id_number(id_number), "CN": name}


def enrol(*, user_id: str, pin: str, sms_code: str, liveness_session_id: str | None = None) -> dict[str, Any]:
    """Enrol an L2+ citizen: check the PIN's strength and the step-up (the SMS code; after an
    earlier credential also a fresh liveness session), generate the key, issue the certificate,
    store the credential and the notice — all in one transaction. AssuranceInsufficient, PinWeak,
    AlreadyEnrolled, SigningLocked, StepUpFailed, FreshLivenessRequired."""
    require_level(user_id)  # 403 naming the levels
    # The certificate names the person: a 网号 account consents once to the name and ID number being
    # kept for it (403 identity_consent_required, purpose "signing", naming where to consent).
    person = identity.require_identity(user_id, "signing")
    if person is None:
        raise AssuranceInsufficient(required_level=2, current_level=identity.verified_level(user_id))
    reasons = weak_reasons(pin, id_number=person.id_number)
    if reasons:
        raise PinWeak(errors={"pin": reasons})
    until = _locked_until(user_id)
    if until:
        _raise_locked(until)
    if models.active_credential_of(user_id) is not None:
        raise AlreadyEnrolled()
    enrolled_before = models.has_enrolled_before(user_id)
    if enrolled_before and not liveness_session_id:
        raise FreshLivenessRequired(extra={"reason": "re_enrolment"})
    verify_sms_step_up(user_id=user_id, purpose="signing", code=sms_code)
    if enrolled_before:
        require_fresh_liveness(user_id=user_id, liveness_session_id=liveness_session_id)
    pin_hash = hash_pin(pin)  # slow: outside the transaction
    cfg = current_app.config
    try:
        with unit_of_work():
            key = keystore().generate(purpose=KEY_PURPOSE, owner=user_id, label="cloud-signing",
                                      actor=_citizen(user_id))
            cert = platform_ca().issue_certificate(key.public_key(), subject_for(person.name, person.id_number),
                                                   days=cfg["SIGNING_CERT_DAYS"], key_usage=KEY_USAGE,
                                                   actor=_citizen(user_id))
            credential_id = new_id("sgc")
            models.insert_credential(credential_id=credential_id, user_id=user_id, key_id=key.key_id,
                                     cert_serial=cert.serial, certificate_pem=cert.pem, pin_hash=pin_hash)
            audit.record("signing.enrol", actor_kind="citizen", actor_id=user_id, target=credential_id,
                         details={"serial": cert.serial, "key": key.key_id, "re_enrolment": enrolled_before})
            notices.enrolled(user_id=user_id, credential_id=credential_id, serial=cert.serial)
    except pw.IntegrityError:  # a concurrent enrolment took the slot first: everything rolled back
        raise AlreadyEnrolled() from None
    return certificate_view(active_credential(user_id))


def certificate_view(credential: SigningCredential) -> dict[str, Any]:
    status = platform_ca().status(credential.cert_serial)
    person = identity.verified_identity(credential.user_id)
    return {
        "serial": credential.cert_serial,
        "certificate_pem": credential.certificate_pem,
        "status": status["status"],
        "not_after": status["not_after"],
        "enrolled_at": credential.created_at,
        "locked_until": _locked_until(credential.user_id),
        "subject": {"name_masked": mask_name(person.name) if person else None,
                    "id_number_masked": mask_id_number(person.id_number) if person else None},
    }


def get_certificate(*, user_id: str) -> dict[str, Any]:
    require_level(user_id)
    return certificate_view(active_credential(user_id))


def revoke(*, user_id: str, reason: str, pin: str | None = None, sms_code: str | None = None,
           liveness_session_id: str | None = None) -> dict[str, Any]:
    """Revoke the citizen's certificate (CRL and status at once), disable the key, free the slot
    for a new enrolment, and tell the citizen. Proof: the current `pin` (a wrong one counts toward
    the lockout), or for a forgotten PIN `sms_code` (step-up, purpose `signing`) and a fresh
    `liveness_session_id` — that way works while signing is locked. NotEnrolled if there is
    nothing to revoke; PinInvalid, SigningLocked, StepUpFailed, FreshLivenessRequired."""
    require_level(user_id)
    credential = active_credential(user_id)
    if pin is not None:
        check_pin(credential, pin)
        via = "pin"
    else:
        verify_sms_step_up(user_id=user_id, purpose="signing", code=sms_code or "")
        require_fresh_liveness(user_id=user_id, liveness_session_id=liveness_session_id or "")
        via = "step_up"
    now = utcnow().replace(microsecond=0)
    with unit_of_work():
        changed = models.revoke_credential(credential.id, at=now, reason=reason)
        if changed != 1:
            raise NotEnrolled()
        platform_ca().revoke(credential.cert_serial, reason, at=now, actor=_citizen(user_id))
        keystore().disable(credential.key_id, f"certificate revoked: {reason}", actor=_citizen(user_id))
        audit.record("signing.revoke", actor_kind="citizen", actor_id=user_id, target=credential.id,
                     details={"serial": credential.cert_serial, "reason": reason, "via": via})
        notices.revoked(user_id=user_id, credential_id=credential.id, serial=credential.cert_serial, via=via)
    return {"serial": credential.cert_serial, "status": "revoked", "revoked_at": now, "reason": reason}


def check_pin(credential: SigningCredential, pin: str) -> None:
    """Pass, or count a wrong PIN: PinInvalid with the tries left, SigningLocked (and an audit
    event) when this was the last try, or while locked."""
    until = _locked_until(credential.user_id)
    if until:
        _raise_locked(until)
    if verify_pin(credential.pin_hash, pin):
        if credential.failed_pins:
            models.reset_failed_pins(credential.id)
        return
    cfg = current_app.config
    with unit_of_work():
        failed = models.count_failed_pin(credential.id)
        locked = failed >= cfg["SIGNING_PIN_MAX_TRIES"]
        if locked:
            until = utcnow() + timedelta(seconds=cfg["SIGNING_PIN_LOCK_SECONDS"])
            models.lock_credential(credential.id, until)
            audit.record("signing.pin_locked", outcome="refused", actor_kind="citizen", actor_id=credential.user_id,
                         target=credential.id, details={"until": until.isoformat()})
            notices.pin_locked(user_id=credential.user_id, credential_id=credential.id, until=until)
        else:
            audit.record("signing.pin_failed", outcome="failure", actor_kind="citizen",
                         actor_id=credential.user_id, target=credential.id, details={"failed": failed})
            notices.pin_failed(user_id=credential.user_id, credential_id=credential.id, failed=failed,
                               tries_left=cfg["SIGNING_PIN_MAX_TRIES"] - failed)
    if locked:
        log.warning("signing locked after wrong PINs", extra={"credential": credential.id})
        _raise_locked(until)
    raise PinInvalid(extra={"tries_left": cfg["SIGNING_PIN_MAX_TRIES"] - failed})
