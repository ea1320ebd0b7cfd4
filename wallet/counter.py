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
from app.clock import rfc3339
from app.crypto.ca import keystore
from app.db import unit_of_work, utcnow
from app.errors import AppError, NotFound
from app.i18n import N_, T_, Series
from app.ratelimit import Limit, consume
from app.redis import get_redis
from app.security.pii import DecryptionError, mask_id_number, mask_name
from app.security.tokens import Principal
from identity import service as identity
from mapsvc import service as halls
from wallet import lifecycle, models, notices, queries
from wallet.catalogue import get_type
from wallet.errors import (CounterOutOfScope, LicenceKeyRevoked, LicenceNotValid, MatterNotApplicable,
                           PresentationExpired, PresentationInvalid, PresentationUsed)
from wallet.holder import live_data, require_verified, signature_view
from wallet.issuance import ENTERPRISE, decrypt_parts, holder_view, signed_bytes
from wallet.matters import Matter, active_matter, disclose_for, ref, refs
from wallet.models import Issuer, Licence, Presentation
from wallet.presentation import CHINA, code_key, decode_qr, licence_valid_now, nonce_key, today

log = logging.getLogger(__name__)

# Licence facts the counter answer states outside `licence.fields`: a disclosed field repeating one
# of them is merged there, so that the card shows each fact once (持证人 and 姓名 are one row).
CARD_FACTS = ("holder.name", "holder.id_number", "licence.status", "licence.valid_until")


# A staff member's username, by id: the notice to the holder names the clerk. Usernames never change
# (identity/ has no rename; a staff id is never reused), so a per-process map is never stale; bounded.
_clerk_names: dict[str, str] = {}


def _clerk_name(clerk_id: str) -> str | None:
    name = _clerk_names.get(clerk_id)
    if name is None:
        name = identity.staff_usernames({clerk_id}).get(clerk_id)
        if name is not None:  # an unknown id is asked again next time
            if len(_clerk_names) >= 4096:
                _clerk_names.clear()
            _clerk_names[clerk_id] = name
    return name


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
            name_masked: str | None = None, matter: Matter | None = None,
            disclosed: list[str] | None = None) -> datetime:
    """The check row and its audit row (inside the caller's transaction)."""
    now = utcnow()
    models.insert_check(presentation=presentation, clerk_id=clerk.id, hall_code=clerk.hall_code, checked_at=now,
                        result=result, type_code=licence.type_code if licence else None,
                        holder_name_masked=name_masked, matter=matter.code if matter else None,
                        disclosed=json.dumps(disclosed) if disclosed is not None else None)
    audit.record("wallet.presentation_verified", outcome="success" if result == "verified" else "refused",
                 actor_kind="staff", actor_id=clerk.id, target=presentation.id,
                 details={"result": result, "hall": clerk.hall_code, "licence": presentation.licence_id,
                          "matter": matter.code if matter else None})
    return now


def _refuse(clerk: Principal, presentation: Presentation | None, error: AppError, matter: Matter | None = None) -> None:
    if presentation is not None:
        with unit_of_work():
            _record(clerk, presentation, error.code, matter=matter)
    raise error


def _require_applicable(clerk: Principal, presentation: Presentation, matter: Matter, licence: Licence | None) -> None:
    """A live code of a licence type the matter does not accept is refused BEFORE it is consumed
    (the clerk chooses another matter, or asks for another licence, and scans the same code again):
    422 matter_not_applicable naming the licence type and the types the matter accepts."""
    if licence is None or licence.type_code in matter.accepts:
        return
    accepted = Series(T_(get_type(code).name) for code in matter.accepts)
    error = MatterNotApplicable(
        N_("“{matter}”不接受{type_name}，可核验的证照：{accepted:、}。请重新选择事项或请群众出示其他证照。",
           matter=matter.name, type_name=T_(get_type(licence.type_code).name), accepted=accepted),
        errors={"matter": [N_("该事项可核验的证照：{accepted:、}。", accepted=accepted)]},
        extra={"matter": matter.code, "licence_type": licence.type_code, "accepted_types": list(matter.accepts)})
    _refuse(clerk, presentation, error, matter)


def _not_valid(licence: Licence | None) -> LicenceNotValid:
    """The refusal of a licence that is not valid now, in words a clerk can act on: suspended or
    revoked since which day (China time), or expired on which day."""
    if licence is None:
        return LicenceNotValid()
    since = licence.updated_at.astimezone(CHINA).date()  # the last change of a 02…99 licence is its status

    def why(reason: str, day: Any) -> dict[str, Any]:  # stable sub-code + the day, for the page
        return {"reason": reason, "since": day.isoformat()}

    if licence.status == "02":
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}被暂扣，不能核验。", day=since),
                               extra=why("suspended", since))
    if licence.status in ("03", "07"):
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}被撤销或吊销，不能核验。", day=since),
                               extra=why("revoked", since))
    if licence.status != "01":
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}注销或失效，不能核验。", day=since),
                               extra=why("ended", since))
    if licence.valid_until is not None and licence.valid_until < today():
        return LicenceNotValid(N_("该证照已于{day:%Y年%m月%d日}过期，不能核验。", day=licence.valid_until),
                               extra=why("expired", licence.valid_until))
    return LicenceNotValid()


def _licence_problem(licence: Licence | None,
                     issuer: Issuer | None) -> tuple[AppError | None, tuple | None, dict | None]:
    """Is the licence valid now, with an intact issuer signature by a key not revoked when it signed?
    (error or None, decrypted parts, the signature's status)"""
    if licence is None or issuer is None or not licence_valid_now(licence):
        return _not_valid(licence), None, None
    try:
        parts = decrypt_parts(licence)
        signature_ok = keystore().public_key(licence.key_id).verify(bytes(licence.signature),
                                                                   signed_bytes(licence, issuer, parts))
    except DecryptionError:
        signature_ok = False
    if not signature_ok:
        log.warning("licence signature check failed at the counter", extra={"licence": licence.id})
        return LicenceNotValid(), None, None
    signature = signature_view(licence, True)
    if not signature["valid"]:  # signed at or after its key's revocation date (or outside its validity)
        log.warning("licence signed by a revoked issuer key refused at the counter",
                    extra={"licence": licence.id, "kid": signature["key_id"]})
        since = signature["revoked_since"]
        return LicenceKeyRevoked(extra={"signature": {
            **signature, "revoked_since": rfc3339(since) if since else None,
            "signed_at": rfc3339(signature["signed_at"])}}), None, signature
    return None, parts, signature


def verify(*, clerk: Principal, matter: str, qr_text: str | None = None,
           manual_code: str | None = None) -> dict[str, Any]:
    """Verify a presentation for a matter (用证事项, required): the answer discloses exactly the
    matter's fields for the licence's type, whatever the holder chose to show; the holder's stated
    purpose is their own note and decides nothing. An unknown or inactive matter: 422 matter_unknown
    with the active ones, before the code is read."""
    if not clerk.hall_code:  # a clerk who is not assigned to a hall has no counter
        raise CounterOutOfScope()
    # The presentation, its licence and issuer (and, for a QR text, the matter) in one read, now (no
    # cache: a revocation committed before this read refuses the code).
    if qr_text is not None:
        try:
            nonce, expiry = decode_qr(qr_text)
        except PresentationInvalid:
            active_matter(matter)  # an unknown matter is refused first, as below
            raise
        nonce_hex = nonce.hex()
        presentation, licence, issuer, row = queries.presentation_for_scan(nonce_hex, matter) or (None,) * 4
        chosen = active_matter(matter, row)
    else:
        chosen = active_matter(matter)  # before the manual code counts against the clerk's limit
        nonce_hex, expiry = _resolve_manual_code(clerk, manual_code or "")
        presentation, licence, issuer, _ = queries.presentation_for_scan(nonce_hex) or (None,) * 4
    if time.time() > expiry:
        if presentation is not None:
            with unit_of_work():
                models.expire_live_presentation(presentation.id)
                _record(clerk, presentation, PresentationExpired.code, matter=chosen)
        raise PresentationExpired()
    if presentation is not None and presentation.status == "live":
        _require_applicable(clerk, presentation, chosen, licence)
    if get_redis().getdel(nonce_key(nonce_hex)) is None:  # used, retired or revoked
        _refuse(clerk, presentation, PresentationUsed(), chosen)
    if presentation is None:  # a MAC-valid code without its row: never expected
        log.error("presentation row missing", extra={"presentation_nonce": nonce_hex[:8]})
        raise PresentationUsed()

    problem, parts, signature = _licence_problem(licence, issuer)
    if problem is None and licence.type_code not in chosen.accepts:
        problem = MatterNotApplicable()  # the type changed between the check above and now: never expected
    holder, shown_keys, hows = None, [], {}
    enterprise = licence is not None and licence.holder_kind == ENTERPRISE
    if problem is None:
        name, id_number, data = parts
        holder = (holder_view(licence, name, id_number) if enterprise
                  else {"name_masked": mask_name(name), "id_number_masked": mask_id_number(id_number)})
        licence_type = get_type(licence.type_code)
        shown, hows = disclose_for(chosen, licence_type, live_data(licence, data))
        shown_keys = list(shown)
    # One transaction: the code is consumed (live → used, the backstop when Redis lost its state)
    # together with the check and audit rows; of concurrent scans exactly one changes the row.
    now = utcnow()
    with unit_of_work():
        consumed = models.consume_live_presentation(presentation.id, used_at=now, clerk_id=clerk.id,
                                                    hall_code=clerk.hall_code)
        if consumed == 1:
            checked_at = _record(clerk, presentation, problem.code if problem else "verified", licence,
                                 holder["name_masked"][:64] if holder else None, chosen,
                                 shown_keys if problem is None else None)
            if problem is None:  # the holder is told who saw which fields (labels, never values)
                notices.used(licence, presentation_id=presentation.id, fields=shown_keys, purpose=presentation.purpose,
                             clerk=_clerk_name(clerk.id), hall=clerk.hall_code,
                             hall_name=halls.hall_names_by_code({clerk.hall_code}).get(clerk.hall_code),
                             matter=chosen.code, matter_name=chosen.name)
    if consumed != 1:
        _refuse(clerk, presentation, PresentationUsed(), chosen)
    if problem is not None:
        raise problem

    if enterprise:  # the card names the enterprise and who showed it (issue 19)
        fields, merged = _merge_enterprise_facts(licence_type, shown_keys, shown)
        holder = {"kind": ENTERPRISE, "name": holder["name"], "uscc": holder["uscc"], "name_masked": holder["name"]}
    else:
        fields, merged = _merge_matter_facts(licence_type, shown_keys, shown, hows, holder)
    return {
        "result": "verified",
        "licence": {
            "identifier": licence.identifier, "version": licence.version,
            "superseded": _superseded(licence, presentation), "type_code": licence.type_code,
            "type_name": i18n.label("licence_type", licence_type.code), "status": licence.status,
            "status_label": i18n.label("licence_status", licence.status), "issuer": issuer.name,
            "valid_until": licence.valid_until, "fields": fields, "merged_fields": merged,
            "signature": signature,
        },
        "holder": holder,
        "shown_by": _shown_by(presentation) if enterprise else None,
        "matter": ref(chosen),
        "disclosed": shown_keys,
        "purpose": presentation.purpose,
        "checked_at": checked_at,
    }


def _superseded(licence: Licence, presentation: Presentation) -> dict[str, Any] | None:
    """The version shown, when the licence changed (re-issued, changed, restored …) after the code
    was made: the answer is the current version, flagged (wallet/lifecycle.py). No query otherwise."""
    if licence.updated_at <= presentation.created_at:
        return None
    return lifecycle.superseded_flag(licence, lifecycle.presented_version(licence.id, presentation.created_at))


def _merge_matter_facts(licence_type: Any, keys: list[str], shown: dict[str, str], hows: dict[str, str],
                        holder: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """As `_merge_facts`, for a matter: the holder block keeps only the holder facts the matter
    discloses (a vehicle check shows no ID number), each as the matter shows it."""
    fields, merged = {}, {}
    kept: dict[str, str] = {}
    for key in keys:
        fact = licence_type.field(key).same_as
        if fact not in CARD_FACTS:
            fields[key] = shown[key]
            continue
        merged[key] = fact
        if not fact.startswith("holder."):
            continue
        what = fact.removeprefix("holder.")
        if hows[key] == "full":
            kept[what] = shown[key]
            kept[f"{what}_masked"] = holder[f"{what}_masked"]
        elif hows[key] == "tail4":
            kept[f"{what}_masked"] = shown[key]
        else:
            kept[f"{what}_masked"] = holder[f"{what}_masked"]
    holder.clear()
    holder.update(kept)
    return fields, merged


def _merge_enterprise_facts(licence_type: Any, keys: list[str],
                            shown: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """As `_merge_matter_facts`, for an enterprise's licence: the holder is the enterprise (its name
    and USCC in full, in `holder`: the credit-code and name fields merge there), so the fields naming
    a person (the legal representative's name and ID number) stay fields, as the matter shows them;
    status and validity are merged as usual."""
    fields, merged = {}, {}
    for key in keys:
        field = licence_type.field(key)
        fact = field.same_as
        if field.type == "credit_code":
            merged[key] = "holder.uscc"
        elif key == "name" and field.same_as is None:  # the enterprise's name (营业执照 名称)
            merged[key] = "holder.name"
        elif fact in CARD_FACTS and not fact.startswith("holder."):
            merged[key] = fact
        else:
            fields[key] = shown[key]
    return fields, merged


def _shown_by(presentation: Presentation) -> dict[str, str | None] | None:
    """Who showed an enterprise's licence: the person acting for it (masked name: 张*); None when
    the presentation was made without a delegated token."""
    if not presentation.shown_by:
        return None
    try:
        person = identity.verified_identity(presentation.shown_by)
    except NotFound:  # the account was closed since
        person = None
    return {"name_masked": mask_name(person.name) if person else None}


def _field_names(check: Any) -> list[str]:
    """The field keys the counter saw at a verified check: the matter's (kept on the check) or,
    for a check without a matter, those the holder presented."""
    if check.result not in ("verified", "offline_issued"):  # offline: the fields the signed QR carries
        return []
    try:
        return list(json.loads(check.disclosed if check.disclosed is not None else check.presentation.fields))
    except ValueError:
        return []


def _field_labels(type_code: str | None, keys: list[str]) -> list[str]:
    return [i18n.label("licence_field", (type_code, key)) for key in keys] if type_code else list(keys)


def clerk_today(*, clerk: Principal) -> dict[str, Any]:
    """Today's (China time) checks by this clerk, newest first."""
    start = datetime.combine(today(), datetime.min.time(), CHINA).astimezone(timezone.utc)
    items = []
    checks = list(models.clerk_checks_since(clerk.id, start))
    matters = refs(c.matter for c in checks)
    for check in checks:
        type_name = None
        if check.type_code:
            try:
                type_name = i18n.label("licence_type", get_type(check.type_code).code)
            except KeyError:
                type_name = check.type_code
        items.append({"checked_at": check.checked_at, "result": check.result, "type_name": type_name,
                      "type_code": check.type_code, "holder": {"name_masked": check.holder_name_masked},
                      "fields": _field_names(check), "matter": matters.get(check.matter)})
    return {"items": items}


def holder_usage(*, user_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """Who checked the holder's presentations, where and what they saw (field names), newest first."""
    require_verified(user_id)
    page, next_cursor = models.holder_checks_page(user_id, limit=limit, cursor=cursor)
    clerks = identity.staff_usernames({c.clerk_id for c in page})
    hall_names = halls.hall_names_by_code({c.hall_code for c in page})
    matters = refs(c.matter for c in page)
    items = [{"licence_id": c.presentation.licence_id, "presentation_id": c.presentation_id,
              "verified_at": c.checked_at, "result": c.result, "hall": c.hall_code,
              "hall_name": hall_names.get(c.hall_code),
              "clerk": clerks.get(c.clerk_id), "fields": _field_names(c),
              "field_labels": _field_labels(c.type_code, _field_names(c)),
              "matter": matters.get(c.matter), "purpose": c.presentation.purpose} for c in page]
    return {"items": items, "next_cursor": next_cursor}
