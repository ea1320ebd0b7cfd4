"""Issuing licences (发证): issuers sign licences for holders; holders not yet verified are parked.

A machine client issues for the department it is registered to in the issuer registry (issuers/,
issue 17): 403 issuer_not_registered, issuer_suspended, or issuer_type_not_allowed for a type outside
the department's list. The wallet keeps a row per department (`wallet_issuer`, same id: its serial
counter and first SM2 signing key, purpose ``issuer``, owner = department id), created on its first
issue; its code, the identifier's issuer segment, is the department's USCC. A licence is signed over
the issuer code in its own identifier, so licences issued under a carried-over department's old code
keep verifying.

Enterprise holders (issue 19): wallet/issuance_enterprise.py.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import peewee as pw

from app import audit, i18n
from app.crypto.ca import keystore
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_
from app.idnumber import IdNumberError, normalize_id_number
from app.security.pii import DecryptionError, field_cipher, mask_id_number, mask_name
from identity import service as identity
from identity.service import IdNumberInvalid
from issuers import service as issuers
from orgs import service as orgs
from wallet import lifecycle, models, notices
from wallet.canonical import canonical_bytes, canonical_sha, licence_document
from wallet.catalogue import LicenceDataError, LicenceType, all_types, get_type, validate_data
from wallet.consistency import (
    HOLDER_NAME_MISMATCH, STATUS_INCONSISTENT, VALIDITY_INCONSISTENT, contradictions, same_name, with_status,
)
from wallet.errors import (
    HolderNameMismatch, LicenceDataInvalid, LicenceNotFound, LicenceTypeUnknown, ReferenceConflict,
    StatusInconsistent, ValidityInconsistent, ValidityInvalid,
)
from wallet.identifier import make_identifier
from wallet.issuance_enterprise import (
    AWAITING_ENTERPRISE, ENTERPRISE, _checked_enterprise, _enterprise_contradictions, holder_bidx,
)
from wallet.issuance_enterprise import attach_enterprise_parked, credit_code_field  # noqa: F401 - as before
from wallet.issuance_enterprise import on_enterprise_registered  # noqa: F401 - wallet/__init__.py connects it here
from wallet.models import STATUS_LABELS, Issuer, Licence

log = logging.getLogger(__name__)

KEY_PURPOSE = "issuer"
REVOCATION_CODES = ("02", "03", "04", "05", "06", "07", "99")
PERSON = "person"  # Licence.holder_kind; ENTERPRISE: wallet/issuance_enterprise.py
_CONTRADICTIONS = {HOLDER_NAME_MISMATCH: HolderNameMismatch, VALIDITY_INCONSISTENT: ValidityInconsistent,
                   STATUS_INCONSISTENT: StatusInconsistent}


# --- Issuers ----------------------------------------------------------------------------------

def issuer_for_client(client_id: str, type_code: str | None = None) -> Issuer:
    """The wallet's row of the department this client acts for (created with its signing key on the
    department's first issue, its code and name following the registry's). 403 issuer_not_registered
    / issuer_suspended; with `type_code`, 403 issuer_type_not_allowed outside the department's list."""
    department = issuers.issuer_for_client(client_id)
    if type_code is not None:
        issuers.check_type(department, type_code)
    issuer = models.issuer_by_id(department.id)
    if issuer is None:
        try:
            with unit_of_work():
                key = keystore().generate(purpose=KEY_PURPOSE, owner=department.id, label=department.name[:128])
                issuer = models.create_issuer(issuer_id=department.id, client_id=department.id, code=department.uscc,
                                              name=department.name, key_id=key.key_id)
                audit.record("wallet.issuer_created", actor_kind="client", actor_id=client_id, target=department.id)
        except pw.IntegrityError:  # created concurrently by another request of the department
            return models.issuer_by_id(department.id)
    elif (issuer.code, issuer.name) != (department.uscc, department.name):  # recorded or renamed since
        issuer = models.update_issuer(issuer, code=department.uscc, name=department.name)
    return issuer


def signed_issuer_code(licence: Licence) -> str:
    """The issuer code a licence was signed over: its identifier's issuer segment."""
    return licence.identifier.split(".")[-4]


def _signing_key_id(issuer: Issuer) -> str:
    """The department's signing key (issuers/keys.py): its newest active key with a platform CA
    certificate; its key from before the registry adopted, an expired one renewed."""
    return issuers.signing_key_id(issuer.id)


# --- Issuing ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssueRequest:
    type_code: str
    holder_name: str
    holder_id_number: str
    data: dict[str, Any]
    valid_from: date
    valid_until: date | None
    reference: str
    holder_kind: str = PERSON  # ENTERPRISE: holder_id_number is the enterprise's USCC


def _checked(request: IssueRequest) -> tuple[Any, IssueRequest]:
    """Validate against the catalogue; returns the licence type and the normalised request."""
    try:
        licence_type = get_type(request.type_code)
    except KeyError:
        raise LicenceTypeUnknown(errors={"type_code": [N_("未知的证照类型。")]}) from None
    if request.holder_kind == ENTERPRISE:
        return _checked_enterprise(licence_type, request)
    try:
        id_number = normalize_id_number(request.holder_id_number)
    except IdNumberError as exc:
        raise IdNumberInvalid(str(exc), errors={"holder.id_number": [str(exc)]}) from None
    try:
        data = validate_data(licence_type, request.data)
    except LicenceDataError as exc:
        raise LicenceDataInvalid(errors={f"data.{k}": v for k, v in exc.errors.items()}) from None
    if data.get(licence_type.holder_field) != id_number:  # the licence names the person it is issued to
        raise LicenceDataInvalid(errors={f"data.{licence_type.holder_field}": [N_("应与持证人身份证号码一致。")]})
    if request.valid_until is not None and request.valid_until <= request.valid_from:
        raise ValidityInvalid(errors={"valid_until": [N_("截止日期应晚于起始日期。")]})
    name = request.holder_name.strip()
    return licence_type, IssueRequest(licence_type.code, name, id_number, data, request.valid_from,
                                      request.valid_until, request.reference)


def _owner(request: IssueRequest) -> str | None:
    """The holder's account: the citizen with that ID number, or the enterprise with that USCC."""
    if request.holder_kind == ENTERPRISE:
        return orgs.enterprise_for(request.holder_id_number)
    return identity.user_id_for_id_number(request.holder_id_number)


def _consistent(licence_type: LicenceType, request: IssueRequest, owner: str | None) -> IssueRequest:
    """Refuse data that contradicts the licence (the problem's code is the first contradiction's;
    `errors` and `field_codes` name every field); returns the request with the status written in."""
    if request.holder_kind == ENTERPRISE:
        found = _enterprise_contradictions(licence_type, request, owner)
    else:
        person = identity.verified_identity(owner) if owner else None
        found = contradictions(licence_type, request.data, holder_name=request.holder_name,
                               record_name=person.name if person else None, valid_from=request.valid_from,
                               valid_until=request.valid_until, status_label=STATUS_LABELS["01"])
    if found:
        errors: dict[str, list[str]] = {}
        for item in found:
            errors.setdefault(item.field, []).append(item.reason)
        raise _CONTRADICTIONS[found[0].code](errors=errors,
                                             extra={"field_codes": {item.field: item.code for item in found}})
    return replace(request, data=with_status(licence_type, request.data, STATUS_LABELS["01"]))


def _request_digest(request: IssueRequest) -> str:
    """Keyed digest of what was asked, to tell a retry from a different licence under the same reference."""
    asked = {"type_code": request.type_code, "name": request.holder_name, "id": request.holder_id_number,
                       "data": request.data, "from": request.valid_from.isoformat(),
             "until": request.valid_until.isoformat() if request.valid_until else None}
    if request.holder_kind != PERSON:  # a person's digest stays as it was before enterprise holders
        asked["kind"] = request.holder_kind
    body = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return field_cipher().blind_index("licence-request", body)


def issue_licence(*, client_id: str, request: IssueRequest) -> tuple[dict[str, Any], bool]:
    """Issue and sign a licence; returns (issuer view, created). The same `reference` with the same
    content returns the existing licence (created False); with other content: ReferenceConflict."""
    known = request.type_code in {t.code for t in all_types()}  # an unknown type: 422 below
    issuer = issuer_for_client(client_id, type_code=request.type_code if known else None)  # 403s before 422s
    licence_type, request = _checked(request)
    owner = _owner(request)
    request = _consistent(licence_type, request, owner)
    digest = _request_digest(request)
    existing = models.licence_by_reference(issuer.id, request.reference)
    if existing is None:
        try:
            with unit_of_work():
                existing = _create(issuer, licence_type, request, digest, owner)
                lifecycle.record(existing, kind="issued", from_status=None, reason=None, actor_kind="client",
                                 actor_id=client_id, at=existing.created_at)
                if owner is not None:  # a parked licence is told when it is attached (attach_parked)
                    notices.issued(existing)
                audit.record("wallet.licence_issued", actor_kind="client", actor_id=client_id, target=existing.id,
                             details={"type_code": request.type_code, "parked": existing.user_id is None,
                                      "holder_kind": request.holder_kind})
            return issuer_view(existing, issuer), True
        except pw.IntegrityError:  # the same reference issued concurrently
            existing = models.licence_by_reference(issuer.id, request.reference)
    if existing.request_digest != digest:
        with unit_of_work():
            audit.record("wallet.licence_issued", outcome="refused", actor_kind="client", actor_id=client_id,
                         target=existing.id, details={"reason": "reference_conflict"})
        raise ReferenceConflict()
    return issuer_view(existing, issuer), False


def _create(issuer: Issuer, licence_type: Any, request: IssueRequest, digest: str, owner: str | None) -> Licence:
    serial = models.take_serial(issuer.id)
    now = utcnow()
    identifier = make_identifier(licence_type.type_code, issuer.code, f"{now.year}{serial:07d}", 1)
    c = field_cipher()
    licence = Licence(
        id=new_id("lic"), identifier=identifier, type_code=request.type_code, issuer=issuer.id,
        reference=request.reference, request_digest=digest,
        holder_bidx=holder_bidx(request.holder_kind, request.holder_id_number), holder_kind=request.holder_kind,
        holder_name_enc=c.encrypt(request.holder_name, "licence.holder_name"),
        holder_id_enc=c.encrypt(request.holder_id_number, "licence.holder_id"),
        user_id=owner,
        data_enc=c.encrypt(json.dumps(request.data, ensure_ascii=False), "licence.data"),
        valid_from=request.valid_from, valid_until=request.valid_until, status="01", version=1,
        created_at=now, updated_at=now,
    )
    _sign(licence, issuer, request.holder_name, request.holder_id_number, request.data)
    return models.insert_licence(licence)


def _sign(licence: Licence, issuer: Issuer, name: str, id_number: str, data: dict[str, Any]) -> None:
    message = canonical_bytes(licence_document(
        identifier=licence.identifier, type_code=licence.type_code, issuer_code=signed_issuer_code(licence),
        holder_name=name, holder_id_number=id_number, data=data, valid_from=licence.valid_from,
        valid_until=licence.valid_until, status=licence.status, version=licence.version))
    licence.key_id = _signing_key_id(issuer)
    licence.signature = keystore().sign(licence.key_id, message)
    licence.canonical_sha = canonical_sha(message)


# --- Status changes ---------------------------------------------------------------------------

def _own_licence(client_id: str, licence_id: str) -> tuple[Licence, Issuer]:
    """A licence of the department this client acts for (any of its clients); another department's
    licence is not found (no probing)."""
    row = models.issued_licence(issuers.issuer_for_client(client_id).id, licence_id)
    if row is None:
        raise LicenceNotFound()
    return row, row.issuer


def get_issued(*, client_id: str, licence_id: str) -> dict[str, Any]:
    licence, issuer = _own_licence(client_id, licence_id)
    return issuer_view(licence, issuer)


def change_status(*, client_id: str, licence_id: str, status_code: str, reason: str) -> dict[str, Any]:
    """Suspend, restore, revoke, cancel … a licence as the life cycle allows (wallet/lifecycle.py): a
    new version with the new status (and the identifier's version segment), re-signed; the old
    version kept, the change in the history, the holder told."""
    with unit_of_work():
        models.lock_licence(licence_id)  # concurrent changes of one licence queue here
        licence, issuer = _own_licence(client_id, licence_id)
        from_status = licence.status
        lifecycle.check_transition(from_status, status_code)
        name, id_number, stored = decrypt_parts(licence)
        # The new version states the new status in its data too (a status field follows the licence).
        data = with_status(get_type(licence.type_code), stored, STATUS_LABELS[status_code])
        now = utcnow()
        lifecycle.supersede(licence, at=now)
        if data != stored:
            licence.data_enc = field_cipher().encrypt(json.dumps(data, ensure_ascii=False), "licence.data")
        licence.status, licence.status_reason = status_code, reason
        lifecycle.next_version(licence)
        licence.updated_at = now
        _sign(licence, issuer, name, id_number, data)
        models.save_licence(licence)
        lifecycle.record(licence, kind="status", from_status=from_status, reason=reason, actor_kind="client",
                         actor_id=client_id, at=now)
        if licence.user_id is not None:
            notices.status_changed(licence)
        audit.record("wallet.licence_status", actor_kind="client", actor_id=client_id, target=licence.id,
                     details={"from": from_status, "status": status_code, "version": licence.version})
    return issuer_view(licence, issuer)


# --- Views and verification -------------------------------------------------------------------

def decrypt_parts(licence: Licence) -> tuple[str, str, dict[str, Any]]:
    """(holder name, holder ID number, data); DecryptionError if a ciphertext was altered."""
    c = field_cipher()
    return (c.decrypt(licence.holder_name_enc, "licence.holder_name"),
            c.decrypt(licence.holder_id_enc, "licence.holder_id"),
            json.loads(c.decrypt(licence.data_enc, "licence.data")))


def decrypt_data(licence: Licence) -> dict[str, Any]:
    """The licence's data only (what a presentation discloses); DecryptionError if it was altered."""
    return json.loads(field_cipher().decrypt(licence.data_enc, "licence.data"))


def signed_bytes(licence: Licence, issuer: Issuer,
                 parts: tuple[str, str, dict[str, Any]] | None = None) -> bytes:
    """The canonical bytes of the licence as stored now (to re-verify its signature); `parts` are
    its `decrypt_parts` when the caller has them already."""
    name, id_number, data = parts if parts is not None else decrypt_parts(licence)
    return canonical_bytes(licence_document(
        identifier=licence.identifier, type_code=licence.type_code, issuer_code=signed_issuer_code(licence),
        holder_name=name, holder_id_number=id_number, data=data, valid_from=licence.valid_from,
        valid_until=licence.valid_until, status=licence.status, version=licence.version))


def holder_view(licence: Licence, name: str, id_number: str) -> dict[str, Any]:
    """The holder as answers show it: a person masked; an enterprise by its name and USCC in full
    (public register data)."""
    if licence.holder_kind == ENTERPRISE:
        return {"kind": ENTERPRISE, "name": name, "uscc": id_number, "name_masked": name}
    return {"name_masked": mask_name(name), "id_number_masked": mask_id_number(id_number)}


def issuer_view(licence: Licence, issuer: Issuer) -> dict[str, Any]:
    name, id_number, _ = decrypt_parts(licence)
    return {
        "id": licence.id, "identifier": licence.identifier, "type_code": licence.type_code,
        "reference": licence.reference, "issuer": {"code": issuer.code, "name": issuer.name},
        "status": licence.status, "status_label": i18n.label("licence_status", licence.status),
        "status_reason": licence.status_reason, "version": licence.version,
        "holder": holder_view(licence, name, id_number),
        "parked": licence.user_id is None, "parked_reason": _parked_reason(licence, name, id_number),
        "valid_from": licence.valid_from, "valid_until": licence.valid_until,
        "key_id": licence.key_id, "canonical_sha": licence.canonical_sha,
        "created_at": licence.created_at, "updated_at": licence.updated_at,
        "history": lifecycle.history(licence, issuer_name=issuer.name, for_issuer=True),
    }


# --- Parking (停放) ---------------------------------------------------------------------------

def _parked_reason(licence: Licence, name: str, id_number: str) -> str | None:
    """Why a licence is parked: its holder has no real-name record yet, or has one under another
    name (the licence then stays parked until the issuer corrects it)."""
    if licence.user_id is not None:
        return None
    if licence.holder_kind == ENTERPRISE:
        return AWAITING_ENTERPRISE
    owner = identity.user_id_for_id_number(id_number)
    person = identity.verified_identity(owner) if owner else None
    return HOLDER_NAME_MISMATCH if person is not None and not same_name(name, person.name) else "awaiting_real_name"


def _sorted_parked(parked: list[Licence], real_name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(ids of the parked licences issued under the holder's real name, [(id, reason) of the others])."""
    matching, kept = [], []
    for licence in parked:
        try:
            name = field_cipher().decrypt(licence.holder_name_enc, "licence.holder_name")
        except DecryptionError:
            kept.append((licence.id, "undecryptable"))
            continue
        if same_name(name, real_name):
            matching.append(licence.id)
        else:
            kept.append((licence.id, HOLDER_NAME_MISMATCH))
    return matching, kept


def attach_parked(*, user_id: str) -> int:
    """Give a newly verified citizen the licences issued to their ID number while they had no account.

    A licence issued under another name than the citizen's real-name record stays parked (it may
    name someone else: a typo in the ID number at the issuer); each such licence is audited with
    the reason `holder_name_mismatch`, and the issuer sees it as `parked_reason`."""
    person = identity.verified_identity(user_id)
    # A 网号 account that consented to matching holds only its ID number's blind index (no name to
    # compare): its licences attach by the index alone; the national platform vouched for the person.
    index = field_cipher().blind_index("id", person.id_number) if person else identity.holder_index(user_id)
    if index is None:
        return 0
    with unit_of_work():
        parked = models.parked_licences(index)
        matching, kept = _sorted_parked(parked, person.name) if person else ([p.id for p in parked], [])
        attached = models.attach_licences(matching, user_id) if matching else 0
        for licence in parked:
            if licence.id in matching:
                licence.user_id = user_id
                notices.attached(licence)  # once per licence: its dedupe key
        if attached:
            audit.record("wallet.licences_attached", actor_kind="citizen", actor_id=user_id,
                         details={"count": attached})
        for licence_id, reason in kept:
            audit.record("wallet.licences_attached", outcome="refused", actor_kind="citizen", actor_id=user_id,
                         target=licence_id, details={"reason": reason})
    if kept:
        log.warning("parked licences kept: holder name differs from the real-name record (or undecryptable)",
                    extra={"user": user_id, "count": len(kept)})
    return attached


def on_real_name_verified(sender: Any, *, user_id: str, **_: Any) -> None:
    attached = attach_parked(user_id=user_id)
    if attached:
        log.info("parked licences attached", extra={"user": user_id, "count": attached})
