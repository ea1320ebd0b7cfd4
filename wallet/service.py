"""The e-licence wallet's public API (电子证照): what the routes and other features use — through
this module only.

The catalogue and its validation live in `catalogue.py`; issuance, status changes and parking in
`issuance.py`; the holder's wallet in `holder.py`; showing a licence (亮证) in `presentation.py`;
counter verification (柜台核验) and the usage lists in `counter.py`; every query in `models.py`.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from app import i18n
from app.security.pii import DecryptionError, field_cipher
from wallet import models, queries
from wallet.catalogue import disclose, get_type, localized_types
from wallet.consistency import with_status
from wallet.counter import clerk_today, holder_usage
from wallet.counter import verify as verify_presentation
from wallet.holder import get_licence, list_licences
from wallet.issuance import IssueRequest, attach_parked, change_status, get_issued, issue_licence
from wallet.lifecycle import version_check
from wallet.matters import Matter, add_matter, disclose_for, get_matter, list_matters, localized_one, update_matter
from wallet.matters import localized as counter_matters
from wallet.offline.format import API_DESCRIPTION as OFFLINE_QR_DESCRIPTION
from wallet.offline.issue import create as create_offline_presentation
from wallet.offline.issue import matters_for as offline_matters
from wallet.presentation import create as create_presentation
from wallet.presentation import qr_text_of
from wallet.presentation import revoke as revoke_presentation
from wallet.reissue import Reissue, reissue

__all__ = ["IssueRequest", "OFFLINE_QR_DESCRIPTION", "attach_parked", "change_status", "clerk_today", "counter_matters",
           "create_offline_presentation", "create_presentation", "get_issued", "get_licence", "holder_usage",
           "issue_licence", "list_licences", "localized_types", "offline_matters", "qr_text_of",
           "revoke_presentation", "verify_presentation",
           # the catalogue of matters (用证事项): read by the counter, the offline QR and consent/
           "Matter", "add_matter", "disclose_for", "get_matter", "list_matters", "localized_one", "update_matter"]
__all__ += ["Reissue", "reissue", "version_check"]  # the life cycle (wallet/lifecycle.py, issue 17)


# --- Disclosure to a third party with the holder's consent (consent/, issue 17) ------------------
# The consent feature asks the wallet for exactly what a matter discloses of one of the holder's
# licences, checked as the counter checks it (valid now, the issuer's signature intact); it signs
# and delivers the answer itself. Written against the matters module's public names (get_matter,
# list_matters / all_matters, disclose_for) so that it reads the fixed list and the catalogue alike.

def _consent_matter(code: str):
    """The active matter with this code, or None."""
    from wallet import matters

    try:
        matter = matters.get_matter(code)
    except KeyError:  # the fixed list of issue 16 raised; the catalogue answers None
        return None
    return matter if matter is not None and getattr(matter, "active", True) else None


def consent_matter(code: str) -> dict | None:
    """A matter as a third party's request needs it: {code, name, legal_basis (None where the
    catalogue has none), fields: {type code: (field key, ...)}}; None when unknown or inactive."""
    matter = _consent_matter(code)
    if matter is None:
        return None
    return {"code": matter.code, "name": matter.name, "legal_basis": getattr(matter, "legal_basis", None),
            "fields": {t: tuple(key for key, _how in fields) for t, fields in matter.disclosures.items()}}


def consent_matter_codes() -> list[str]:
    """The codes of the matters a third party may ask for (active ones)."""
    from wallet import matters

    listed = matters.list_matters(True) if hasattr(matters, "list_matters") else matters.all_matters()
    return [m.code for m in listed if getattr(m, "active", True)]


def matter_disclosure(*, user_id: str, licence_id: str, matter_code: str,
                      claims: list[str] | None = None) -> dict:
    """The holder's licence as `matter_code` discloses it (only the `claims` among its fields when
    given): {licence_id, identifier, version, type_code, issuer_code, issuer_name, key_id, status,
    valid_until, fields: {key: value as the matter shows it}, how: {key: full|masked|tail4}}.
    LicenceNotFound (not the holder's), MatterNotApplicable (a type the matter does not accept),
    LicenceNotValid (not valid now, or its issuer signature does not verify)."""
    from app.crypto.ca import keystore
    from app.security.pii import DecryptionError
    from wallet import models
    from wallet.catalogue import get_type
    from wallet.errors import LicenceNotFound, LicenceNotValid, MatterNotApplicable
    from wallet.holder import live_data, require_verified
    from wallet.issuance import decrypt_parts, signed_bytes
    from wallet.matters import disclose_for
    from wallet.presentation import licence_valid_now

    require_verified(user_id)
    licence = models.holder_licence_with_issuer(licence_id, user_id)
    if licence is None:
        raise LicenceNotFound()
    matter = _consent_matter(matter_code)
    if matter is None or licence.type_code not in matter.accepts:
        raise MatterNotApplicable(extra={"matter": matter_code, "licence_type": licence.type_code,
                                         "accepted_types": list(matter.accepts) if matter else []})
    if not licence_valid_now(licence):
        raise LicenceNotValid()
    try:
        parts = decrypt_parts(licence)
        intact = keystore().public_key(licence.key_id).verify(bytes(licence.signature),
                                                              signed_bytes(licence, licence.issuer, parts))
    except DecryptionError:
        intact = False
    if not intact:
        raise LicenceNotValid()
    shown, hows = disclose_for(matter, get_type(licence.type_code), live_data(licence, parts[2]))
    if claims is not None:
        shown = {key: value for key, value in shown.items() if key in claims}
        hows = {key: how for key, how in hows.items() if key in shown}
    return {"licence_id": licence.id, "identifier": licence.identifier, "version": licence.version,
            "type_code": licence.type_code, "issuer_code": licence.issuer.code, "issuer_name": licence.issuer.name,
            "key_id": licence.key_id, "status": licence.status, "valid_until": licence.valid_until,
            "fields": shown, "how": hows}


__all__ += ["consent_matter", "consent_matter_codes", "matter_disclosure"]


# --- The home screen's licence cards (bff/home.py, issue 20) --------------------------------------

_log = logging.getLogger("wallet.holder")  # the wallet page's logger: one "licence undecryptable" line


def home_cards(*, user_id: str, limit: int, summary: bool = True) -> list[dict[str, Any]]:
    """The holder's newest `limit` licences as the home screen shows them: the fields it keeps of
    `list_licences`' items (id, type_code, type_name, status, status_label, valid_until and, with
    `summary`, issuer_name and summary), from one query, decrypting only the data. The caller has
    checked that the citizen stands at L2, as `list_licences` does (the home screen reads the
    account once for all of its parts)."""
    cards = []
    for row in queries.holder_cards(user_id, limit):
        code, status = row["type_code"], row["status"]
        card = {"id": row["id"], "type_code": code, "type_name": i18n.label("licence_type", code), "status": status,
                "status_label": i18n.label("licence_status", status), "valid_until": row["valid_until"]}
        if summary:
            card["issuer_name"] = row["issuer_name"]
            try:
                data = json.loads(field_cipher().decrypt(row["data_enc"], "licence.data"))
                licence_type = get_type(code)
                card["summary"] = disclose(licence_type, with_status(licence_type, data, models.STATUS_LABELS[status]))
            except DecryptionError:
                _log.warning("licence undecryptable", extra={"licence": row["id"]})
                card["summary"] = {}
        cards.append(card)
    return cards


__all__ += ["home_cards"]
