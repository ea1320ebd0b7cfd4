"""Issuing licences to enterprises (wallet/issuance.py's enterprise-holder path).

A licence may be issued to an enterprise (issue 19): holder `{kind: "enterprise", uscc, name}`, for a
type with a credit-code field (营业执照) whose value is that USCC. The holder's "ID number" is then the
USCC (it is what the signed payload names), its blind index is blind_index("uscc", …) — another label
than a person's "id", so the two never collide — and the owner is the enterprise registered with that
USCC (orgs), or none: parked until the enterprise registers (`on_enterprise_registered`).
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app import audit
from app.db import unit_of_work
from app.i18n import N_
from app.security.pii import field_cipher
from app.uscc import normalise_uscc, uscc_valid
from orgs import service as orgs
from wallet import models, notices
from wallet.catalogue import LicenceDataError, LicenceType, validate_data
from wallet.consistency import HOLDER_NAME_MISMATCH, Contradiction, contradictions, same_name
from wallet.errors import LicenceDataInvalid, UsccInvalid, ValidityInvalid
from wallet.models import STATUS_LABELS

if TYPE_CHECKING:
    from wallet.issuance import IssueRequest

log = logging.getLogger(__name__)

ENTERPRISE = "enterprise"  # Licence.holder_kind (PERSON: wallet/issuance.py)
AWAITING_ENTERPRISE = "awaiting_enterprise_registration"  # parked: no enterprise registered with the USCC


def holder_bidx(kind: str, number: str) -> str:
    """The holder's blind index: of the ID number ("id") or of the USCC ("uscc")."""
    return field_cipher().blind_index("uscc" if kind == ENTERPRISE else "id", number)


def credit_code_field(licence_type: LicenceType) -> str | None:
    """The key of the type's credit-code field (the enterprise it is issued to), or None."""
    return next((f.key for f in licence_type.fields if f.type == "credit_code"), None)


def _checked_enterprise(licence_type: LicenceType, request: IssueRequest) -> tuple[Any, IssueRequest]:
    """An enterprise holder: a valid USCC (GB 32100 + GB 11714, app/uscc.py; 422 uscc_invalid), a type
    with a credit-code field, and that field naming the same USCC."""
    uscc = normalise_uscc(request.holder_id_number or "")
    if not uscc_valid(uscc):
        raise UsccInvalid(errors={"holder.uscc": [N_("统一社会信用代码不正确。")]})
    key = credit_code_field(licence_type)
    if key is None:
        raise LicenceDataInvalid(errors={"holder.kind": [N_("该类证照不能发给企业。")]})
    try:
        data = validate_data(licence_type, request.data)
    except LicenceDataError as exc:
        raise LicenceDataInvalid(errors={f"data.{k}": v for k, v in exc.errors.items()}) from None
    if data.get(key) != uscc:  # the licence names the enterprise it is issued to
        raise LicenceDataInvalid(errors={f"data.{key}": [N_("应与持证企业的统一社会信用代码一致。")]})
    if request.valid_until is not None and request.valid_until <= request.valid_from:
        raise ValidityInvalid(errors={"valid_until": [N_("截止日期应晚于起始日期。")]})
    return licence_type, replace(request, type_code=licence_type.code, holder_name=request.holder_name.strip(),
                                 holder_id_number=uscc, data=data)


def _enterprise_contradictions(licence_type: LicenceType, request: IssueRequest, owner: str | None) -> list:
    """As `contradictions` for an enterprise holder: the holder's name is the enterprise's (its
    registered name once registered, and the data's own name field), never the LR's name field."""
    found = [c for c in contradictions(licence_type, request.data, holder_name=request.holder_name, record_name=None,
                                       valid_from=request.valid_from, valid_until=request.valid_until,
                                       status_label=STATUS_LABELS["01"])
             if c.code != HOLDER_NAME_MISMATCH]  # those compare the LR's name with the enterprise's
    registered = orgs.enterprise_name(owner) if owner else None
    if registered is not None and not same_name(request.holder_name, registered):
        found.insert(0, Contradiction("holder.name", HOLDER_NAME_MISMATCH, N_("与企业的登记名称不一致。")))
    if "name" in request.data and not same_name(request.data["name"], request.holder_name):
        found.insert(0, Contradiction("data.name", HOLDER_NAME_MISMATCH, N_("应与持证企业名称一致。")))
    return found


# --- Enterprise holders (issue 19) --------------------------------------------------------------

def attach_enterprise_parked(*, enterprise_id: str, uscc: str) -> int:
    """Give a newly registered enterprise the licences issued to its USCC while it was not registered
    (the registry confirmed the USCC and the LR; the name is the issuer's, as on the licence). The
    number attached; each licence's holder is told (`notices.attached`, fanned out by notify)."""
    with unit_of_work():
        parked = models.parked_licences(holder_bidx(ENTERPRISE, normalise_uscc(uscc)), ENTERPRISE)
        ids = [licence.id for licence in parked]
        attached = models.attach_licences(ids, enterprise_id) if ids else 0
        for licence in parked:
            licence.user_id = enterprise_id
            notices.attached(licence)  # once per licence: its dedupe key
        if attached:
            audit.record("wallet.licences_attached", actor_kind="system", actor_id=None, target=enterprise_id,
                         details={"count": attached, "holder_kind": ENTERPRISE})
    return attached


def on_enterprise_registered(sender: Any, *, uscc: str, **_: Any) -> None:
    """orgs.signals.enterprise_registered (sender: the enterprise id)."""
    attached = attach_enterprise_parked(enterprise_id=sender, uscc=uscc)
    if attached:
        log.info("parked enterprise licences attached", extra={"enterprise": sender, "count": attached})
