"""Consent-once for identity data of 网号 accounts (issue 19, WP4; design D3).

A 网号 account holds no name or ID number. When a feature needs the person's identity, it asks
`require_identity(user_id, purpose)`; without the citizen's consent for that purpose it gets 403
`identity_consent_required` naming the `purpose` and `consent_url`, and the detail says why the data
is needed. The citizen consents once (POST /me/identity-consents): a 网证 authentication with purpose
"consent" after which the national platform releases name + ID number (`NcidResult.identity`), and
YiWang keeps only what the purpose needs (最小化, 管理办法):

- licence_matching: the ID number's blind index only (licences and cases issued to it attach);
- signing: also name and ID number, encrypted: the signing certificate's subject must state them;
- enterprise_registration: the blind index and the name: the legal-representative check.

The blind index is kept for every purpose: one person, one account — an index another account holds
is refused (409 ncid_identity_held: log in to that account and link 网号 there). After a consent the
`real_name_verified` signal lets wallet and cases attach what was parked for the person.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee as pw
from flask import current_app

from app import audit
from app.db import after_commit, unit_of_work, utcnow
from app.errors import Conflict, Forbidden
from app.i18n import N_
from app.idnumber import IdNumberError, normalize_id_number
from app.security.pii import field_cipher
from identity import models, ncid
from identity.accounts import get_user
from identity.errors import NcidAuthFailed, NcidResultInvalid
from identity.ncid_login import NcidAccountMismatch, NcidNotLinked, app_user_index, record_level
from identity.signals import real_name_verified

# purpose → the plaintext fields kept besides the ID number's blind index
PURPOSES: dict[str, frozenset[str]] = {
    "licence_matching": frozenset(),
    "signing": frozenset({"name", "id_number"}),
    "enterprise_registration": frozenset({"name"}),
}
CONSENT_URL = "/api/v1/me/identity-consents"

_WHY = {
    "licence_matching": N_("将发给您的证照和办件归入账号，需要比对您的身份证号码。请同意由国家网络身份认证平台提供一次："
                           "本平台只保存号码的不可逆索引，不保存号码本身。"),
    "signing": N_("签名证书须写明持有人的姓名和身份证号码。请同意由国家网络身份认证平台提供：二者加密保存，仅用于您的签名证书。"),
    "enterprise_registration": N_("登记企业须核验您是否为法定代表人，需要您的姓名和身份证号码。请同意由国家网络身份认证平台提供："
                                  "姓名加密保存，号码只保存不可逆的索引。"),
}


class IdentityConsentRequired(Forbidden):
    """403: a 网号 account has not consented to release its identity for `purpose` (extra `purpose`,
    `consent_url`); the detail says why the feature needs it."""

    code, detail = "identity_consent_required", N_("此功能需要您的身份信息，请先同意由国家网络身份认证平台提供。")

    def __init__(self, purpose: str, detail: str | None = None) -> None:
        self.purpose = purpose
        super().__init__(detail or _WHY.get(purpose), extra={"purpose": purpose, "consent_url": CONSENT_URL})


class NcidIdentityHeld(Conflict):
    code, detail = "ncid_identity_held", N_("该身份已有账号（例如用手机号注册并实名的账号）。请登录那个账号，在其中关联网号。")


@dataclass(frozen=True)
class ConsentedIdentity:
    """What a feature may know of a verified citizen for one purpose: always the ID number's blind
    index; the name and ID number only when the purpose needs them (and the account holds them)."""

    user_id: str
    id_number_index: str
    name: str | None
    id_number: str | None
    source: str  # "registry" | "ncid"


def require_identity(user_id: str, purpose: str) -> ConsentedIdentity | None:
    """The citizen's identity for `purpose`: None when the account is not verified at all (the caller
    refuses with its level), IdentityConsentRequired when a 网号 account has not consented to it."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown identity purpose {purpose!r}")
    user = get_user(user_id)
    c = field_cipher()
    if user.real_name_verified_at is not None and user.id_number_enc is not None:  # the registry match: the
        # citizen typed name and ID number themselves (real_name_source "registry")
        return ConsentedIdentity(user.id, user.id_number_bidx, c.decrypt(user.name_enc, "user.name"),
                                 c.decrypt(user.id_number_enc, "user.id_number"), "registry")
    if user.real_name_source is None:
        return None
    fields = PURPOSES[purpose]
    if (models.active_consent(user.id, purpose) is None or user.id_number_bidx is None
            or ("name" in fields and user.name_enc is None) or ("id_number" in fields and user.id_number_enc is None)):
        raise IdentityConsentRequired(purpose)
    return ConsentedIdentity(
        user.id, user.id_number_bidx,
        c.decrypt(user.name_enc, "user.name") if "name" in fields else None,
        c.decrypt(user.id_number_enc, "user.id_number") if "id_number" in fields else None, user.real_name_source)


def _refused(user_id: str, purpose: str, reason: str, error: Exception) -> Exception:
    with unit_of_work():
        audit.record("identity.consent", outcome="refused", actor_kind="citizen", actor_id=user_id,
                     details={"purpose": purpose, "reason": reason})
    return error


def give_consent(*, user_id: str, purpose: str, proof: dict[str, Any]) -> dict[str, Any]:
    """Consent to `purpose` with a 网证 authentication of the account's own 网号; keep what the
    purpose needs; 201 {purpose, granted_at}."""
    user = get_user(user_id)
    link = models.ncid_link_of(user.id)
    if link is None:
        raise NcidNotLinked()
    try:
        result = ncid.authenticate(biz_seq=proof["biz_seq"], purpose="consent", user_id=user.id,
                                   id_card_auth_data=proof["id_card_auth_data"],
                                   cert_pwd_data=proof.get("cert_pwd_data"), auth_mode=proof["auth_mode"])
    except NcidAuthFailed as exc:
        if exc.extra.get("reason") == "consent_refused":  # the citizen declined in the national app
            raise IdentityConsentRequired(purpose) from None
        raise
    if link.app_user_id_bidx != app_user_index(result.app_user_id):
        raise _refused(user.id, purpose, "other_ncid", NcidAccountMismatch())
    if result.identity is None:  # the platform released nothing: no consent was given there
        raise _refused(user.id, purpose, "identity_not_released", IdentityConsentRequired(purpose))
    name, raw_id = result.identity
    try:
        id_number = normalize_id_number(raw_id)
    except IdNumberError:
        raise _refused(user.id, purpose, "id_number_invalid", NcidResultInvalid()) from None
    c = field_cipher()
    index = c.blind_index("id", id_number)
    if models.id_number_held_by_other(index, user.id):
        raise _refused(user.id, purpose, "identity_held", NcidIdentityHeld())
    if user.id_number_bidx is not None and user.id_number_bidx != index:  # not the person this account is
        raise _refused(user.id, purpose, "other_person", NcidAccountMismatch())
    fields = PURPOSES[purpose]
    now = utcnow()
    try:
        with unit_of_work():
            models.set_consented_identity(
                user.id, id_number_index=index, now=now,
                name_enc=c.encrypt(name, "user.name") if "name" in fields else None,
                id_number_enc=c.encrypt(id_number, "user.id_number") if "id_number" in fields else None)
            consent = models.active_consent(user.id, purpose)
            if consent is None:
                models.insert_consent(user_id=user.id, purpose=purpose, now=now)
            else:
                models.renew_consent(consent.id, now)
            record_level(user.id, result, proof["biz_seq"])
            audit.record("identity.consent", actor_kind="citizen", actor_id=user.id,
                         details={"purpose": purpose, "stored": sorted({"id_number_index", *fields})})
    except pw.IntegrityError:  # the same ID number consented concurrently by another account
        raise _refused(user.id, purpose, "identity_held", NcidIdentityHeld()) from None
    after_commit(_notify_verified, user.id)
    return {"purpose": purpose, "granted_at": now}


def _notify_verified(user_id: str) -> None:
    """Parked licences and cases issued to the person attach now (wallet and cases receive it)."""
    real_name_verified.send(current_app._get_current_object(), user_id=user_id)
