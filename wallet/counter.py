"""Counter verification (柜台核验): a clerk scans a citizen's QR text (or types the manual code).

Checks, in order: parse + MAC (400 presentation_invalid) → expiry (410 presentation_expired) →
consume the nonce in Redis with GETDEL (missing: 409 presentation_used) → re-read the licence now,
no cache (status 01, within validity; else 422 licence_not_valid) → verify the issuer's SM2
signature over the canonical bytes (failure: 422) → consume the database row with a conditional
UPDATE live → used (0 rows: 409 presentation_used; survives a Redis restart).
Refusals never carry licence data. Every check of a known presentation leaves a
`PresentationCheck` row and an audit row, written in the same transaction as the consumption.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

from flask import current_app

from app import audit, i18n
from app.crypto.ca import keystore
from app.db import unit_of_work, utcnow
from app.errors import AppError
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.redis import get_redis
from app.security.pii import DecryptionError, mask_id_number, mask_name
from app.security.tokens import Principal
from identity import service as identity
from wallet import models, notices
from wallet.catalogue import disclose, get_type
from wallet.errors import LicenceNotValid, PresentationExpired, PresentationInvalid, PresentationUsed
from wallet.holder import live_data, require_verified
from wallet.issuance import decrypt_parts, signed_bytes
from wallet.models import Issuer, Licence, Presentation
from wallet.presentation import CHINA, code_key, decode_qr, licence_valid_now, nonce_key, today

log = logging.getLogger(__name__)

# Licence facts the counter answer states outside `licence.fields`: a disclosed field repeating one
# of them is merged there, so that the card shows each fact once (持证人 and 姓名 are one row).
CARD_FACTS = ("holder.name", "holder.id_number", "licence.status", "licence.valid_until")


def _resolve_manual_code(clerk: Principal, code: str) -> tuple[str, int]:
    consume([Limit(f"counter-manual:{clerk.id}", current_app.config["COUNTER_MANUAL_CODE_PER_MINUTE"], 60,
                   detail=N_("手工核验码输入过于频繁，请稍后再试。"))])
    code = (code or "").strip()
    raw = get_redis().get(code_key(code)) if code.isdigit() and len(code) == 8 else None
    if raw is None:
        raise PresentationInvalid(N_("核验码无效或已过期，请让持证人刷新后重新出示。"))
    record = json.loads(raw)
    return record["nonce"], int(record["exp"])


def _record(clerk: Principal, presentation: Presentation, result: str, licence: Licence | None = None,
            name_masked: str | None = None) -> datetime:
    """The check row and its audit row (inside the caller's transaction)."""
    now = utcnow()
    models.insert_check(presentation=presentation, clerk_id=clerk.id, hall_code=clerk.hall_code, checked_at=now,
                        result=result, type_code=licence.type_code if licence else None,
                        holder_name_masked=name_masked)
    audit.record("wallet.presentation_verified", outcome="success" if result == "verified" else "refused",
                 actor_kind="staff", actor_id=clerk.id, target=presentation.id,
                 details={"result": result, "hall": clerk.hall_code, "licence": presentation.licence_id})
    return now


def _refuse(clerk: Principal, presentation: Presentation | None, error: AppError) -> None:
    if presentation is not None:
        with unit_of_work():
            _record(clerk, presentation, error.code)
    raise error


def _not_valid(licence: Licence | None) -> LicenceNotValid:
    """The refusal of a licence that is not valid now, in words a clerk can act on: suspended or
    revoked since which day (China time), or expired on which day."""
    if licence is None:
        return LicenceNotValid()
    since = licence.updated_at.astimezone(CHINA).date()  # the last change of a 02…99 licence is its status
    if licence.status == "02":
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}被暂扣，不能核验。", day=since))
    if licence.status in ("03", "07"):
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}被撤销或吊销，不能核验。", day=since))
    if licence.status != "01":
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}注销或失效，不能核验。", day=since))
    if licence.valid_until is not None and licence.valid_until < today():
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}过期，不能核验。", day=licence.valid_until))
    return LicenceNotValid()


def _licence_problem(licence: Licence | None, issuer: Issuer | None) -> tuple[AppError | None, tuple | None]:
    """Is the licence valid now, with an intact issuer signature? (error or None, decrypted parts)"""
    if licence is None or issuer is None or not licence_valid_now(licence):
        return _not_valid(licence), None
    try:
        parts = decrypt_parts(licence)
        signature_ok = keystore().public_key(licence.key_id).verify(bytes(licence.signature),
                                                                   signed_bytes(licence, issuer, parts))
    except DecryptionError:
        signature_ok = False
    if not signature_ok:
        log.warning("licence signature check failed at the counter", extra={"licence": licence.id})
        return LicenceNotValid(), None
    return None, parts


def verify(*, clerk: Principal, qr_text: str | None = None, manual_code: str | None = None) -> dict[str, Any]:
    if qr_text is not None:
        nonce, expiry = decode_qr(qr_text)
        nonce_hex = nonce.hex()
    else:
        nonce_hex, expiry = _resolve_manual_code(clerk, manual_code or "")
    presentation = models.presentation_by_nonce(nonce_hex)
    if time.time() > expiry:
        if presentation is not None:
            with unit_of_work():
                models.expire_live_presentation(presentation.id)
                _record(clerk, presentation, PresentationExpired.code)
        raise PresentationExpired()
    if get_redis().getdel(nonce_key(nonce_hex)) is None:  # used, retired or revoked
        _refuse(clerk, presentation, PresentationUsed())
    if presentation is None:  # a MAC-valid code without its row: never expected
        log.error("presentation row missing", extra={"presentation_nonce": nonce_hex[:8]})
        raise PresentationUsed()

    # Read the licence now (no cache: a revocation committed before this read refuses the code).
    licence = models.licence_by_id(presentation.licence_id)
    issuer = models.issuer_by_id(licence.issuer_id) if licence is not None else None
    problem, parts = _licence_problem(licence, issuer)
    holder, shown_keys = None, []
    if problem is None:
        name, id_number, data = parts
        holder = {"name_masked": mask_name(name), "id_number_masked": mask_id_number(id_number)}
        licence_type = get_type(licence.type_code)
        keys = json.loads(presentation.fields)
        shown = disclose(licence_type, live_data(licence, data), keys if presentation.explicit else None)
        shown_keys = [key for key in keys if key in shown]
    # One transaction: the code is consumed (live → used, the backstop when Redis lost its state)
    # together with the check and audit rows; of concurrent scans exactly one changes the row.
    now = utcnow()
    with unit_of_work():
        consumed = models.consume_live_presentation(presentation.id, used_at=now, clerk_id=clerk.id,
                                                    hall_code=clerk.hall_code)
        if consumed == 1:
            checked_at = _record(clerk, presentation, problem.code if problem else "verified", licence,
                                 holder["name_masked"] if holder else None)
            if problem is None:  # the holder is told who saw which fields (labels, never values)
                notices.used(licence, presentation_id=presentation.id, fields=shown_keys, purpose=presentation.purpose,
                             clerk=identity.staff_usernames({clerk.id}).get(clerk.id), hall=clerk.hall_code)
    if consumed != 1:
        _refuse(clerk, presentation, PresentationUsed())
    if problem is not None:
        raise problem

    fields, merged = _merge_facts(licence_type, shown_keys, shown, holder,
                                  in_full=presentation.explicit)
    return {
        "result": "verified",
        "licence": {
            "identifier": licence.identifier, "type_code": licence.type_code,
            "type_name": i18n.label("licence_type", licence_type.code), "status": licence.status,
            "status_label": i18n.label("licence_status", licence.status), "issuer": issuer.name,
            "valid_until": licence.valid_until, "fields": fields, "merged_fields": merged,
        },
        "holder": holder,
        "purpose": presentation.purpose,
        "checked_at": checked_at,
    }


def _merge_facts(licence_type: Any, keys: list[str], shown: dict[str, str], holder: dict[str, str], *,
                 in_full: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(the disclosed fields that are not a CARD_FACTS fact, {merged field: fact}). A holder fact the
    holder chose to disclose in full is added to `holder` unmasked (`name`, `id_number`)."""
    fields, merged = {}, {}
    for key in keys:
        fact = licence_type.field(key).same_as
        if fact not in CARD_FACTS:
            fields[key] = shown[key]
            continue
        merged[key] = fact
        if in_full and fact.startswith("holder."):
            holder.setdefault(fact.removeprefix("holder."), shown[key])
    return fields, merged


def _field_names(presentation: Presentation) -> list[str]:
    try:
        return list(json.loads(presentation.fields))
    except ValueError:
        return []


def clerk_today(*, clerk: Principal) -> dict[str, Any]:
    """Today's (China time) checks by this clerk, newest first."""
    start = datetime.combine(today(), datetime.min.time(), CHINA).astimezone(timezone.utc)
    items = []
    for check in models.clerk_checks_since(clerk.id, start):
        type_name = None
        if check.type_code:
            try:
                type_name = i18n.label("licence_type", get_type(check.type_code).code)
            except KeyError:
                type_name = check.type_code
        items.append({"checked_at": check.checked_at, "result": check.result, "type_name": type_name,
                      "holder": {"name_masked": check.holder_name_masked},
                      "fields": _field_names(check.presentation) if check.result == "verified" else []})
    return {"items": items}


def holder_usage(*, user_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """Who checked the holder's presentations, where and what they saw (field names), newest first."""
    require_verified(user_id)
    page, next_cursor = models.holder_checks_page(user_id, limit=limit, cursor=cursor)
    clerks = identity.staff_usernames({c.clerk_id for c in page})
    items = [{"licence_id": c.presentation.licence_id, "presentation_id": c.presentation_id,
              "verified_at": c.checked_at, "result": c.result, "hall": c.hall_code,
              "clerk": clerks.get(c.clerk_id), "fields": _field_names(c.presentation) if c.result == "verified" else [],
              "purpose": c.presentation.purpose} for c in page]
    return {"items": items, "next_cursor": next_cursor}
