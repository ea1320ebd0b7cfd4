"""Citizen accounts as the rest of the system sees them: the profile, the verified identity and the
lookups other features make (through `identity.service`). Assurance levels: identity/assurance.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import NotFound
from app.i18n import N_
from app.security.pii import field_cipher, mask_id_number, mask_name, mask_phone
from identity import models
from identity.models import User

LEVEL_NAMES = {0: "L0", 1: "L1", 2: "L2", 3: "L3", 4: "L4"}


def phone_index(phone: str) -> str:
    return field_cipher().blind_index("phone", phone)


def get_user(user_id: str) -> User:
    user = models.user_by_id(user_id)
    if user is None:
        raise NotFound(N_("账号不存在或已注销。"), code="user_not_found")
    return user


def _ncid_linked(user: User) -> bool:
    """Read with the row by `models.user_by_id` / `user_by_phone_index` (one query); else asked."""
    linked = getattr(user, "ncid_linked", None)
    return models.ncid_link_of(user.id) is not None if linked is None else linked


def user_view(user: User, *, phone: str | None = None) -> dict[str, Any]:
    """The masked profile every client sees. `phone`: the account's phone when the caller holds it
    in clear already (a login by that phone), sparing its decryption."""
    c = field_cipher()
    if phone is None and user.phone_enc:
        phone = c.decrypt(user.phone_enc, "user.phone")
    name = c.decrypt(user.name_enc, "user.name") if user.name_enc else None
    id_number = c.decrypt(user.id_number_enc, "user.id_number") if user.id_number_enc else None
    return {
        "id": user.id,
        "phone_masked": mask_phone(phone),
        "name_masked": mask_name(name),
        "id_number_masked": mask_id_number(id_number),
        "assurance_level": LEVEL_NAMES[user.assurance_level],
        # established by the registry match or by 网号/网证 (whose accounts hold no name in clear)
        "real_name_verified": user.real_name_verified_at is not None or user.real_name_source is not None,
        "real_name_verified_at": user.real_name_verified_at,
        "liveness_verified_at": user.liveness_verified_at,
        "phone_bound": user.phone_bidx is not None,
        "ncid_linked": _ncid_linked(user),
        "real_name_source": user.real_name_source,
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


def user_id_for_id_number(id_number: str) -> str | None:
    """The verified account holding this (normalised) ID number, found by its blind index, or None."""
    user = models.user_by_id_number_index(field_cipher().blind_index("id", id_number))
    return user.id if user is not None else None


def holder_by_id_index(index: str) -> tuple[str | None, str | None]:
    """(account id, verified name) of the account holding this ID-number blind index
    (blind_index("id", ID number)): (None, None) when none does; the name is None unless the
    account holds a verified identity (its ID number stored, as `verified_identity` requires).
    One query, one decryption: a department's case event looks up its applicant this way."""
    found = models.holder_of_id_index(index)
    if found is None:
        return None, None
    user_id, has_id_number, name_enc = found
    if not has_id_number or name_enc is None:
        return user_id, None
    return user_id, field_cipher().decrypt(name_enc, "user.name")


def user_by_phone(phone: str) -> User | None:
    """The account holding this (normalised) phone, found by its blind index, or None."""
    return models.user_by_phone_index(phone_index(phone))


def client_name(client_id: str) -> str | None:
    """The registered name of a machine client (e.g. an issuing department), or None."""
    client = models.api_client(client_id)
    return client.name if client is not None else None


def openid_belongs_to(user_id: str, openid: str) -> bool:
    """Whether the mini-program `openid` is bound to the account `user_id`."""
    return models.openid_belongs_to(user_id, openid)


def phone_belongs_to(user_id: str, phone: str) -> bool:
    """Whether `phone` is the account's bound phone (compared by its blind index)."""
    user = models.user_by_id(user_id)
    return user is not None and user.phone_bidx == phone_index(phone)
