"""The holder's wallet (我的证照): licences issued to a verified citizen (L2+), masked, with the
issuer's signature re-verified on every detail read."""
from __future__ import annotations

import base64
import logging
from typing import Any

from app import i18n
from app.crypto.ca import keystore
from app.security.pii import DecryptionError
from identity import service as identity
from issuers import service as issuers
from orgs import service as orgs
from wallet import lifecycle, models
from wallet.catalogue import disclose, get_type, mask_value
from wallet.consistency import derived_keys, with_status
from wallet.errors import LicenceNotFound
from wallet.issuance import decrypt_parts, holder_view, signed_bytes
from wallet.models import STATUS_LABELS, Licence

log = logging.getLogger(__name__)

MAX_LIMIT = 50


def require_verified(user_id: str) -> None:
    """403 assurance_level_insufficient unless the citizen is real-name verified at L2 or above. An
    enterprise (its id: the subject of an enterprise token, issue 19) has no level of its own: the
    route's `auth_required(level=…)` checked the person acting for it (its LR or agent)."""
    if orgs.is_enterprise_id(user_id):
        return
    identity.require_level(user_id, 2)


def live_data(licence: Licence, data: dict[str, Any]) -> dict[str, Any]:
    """The licence's data as served: a status field is the licence's current status, whatever the
    stored (signed) data says (a version signed before its status changed says 有效)."""
    return with_status(get_type(licence.type_code), data, STATUS_LABELS[licence.status])


def list_licences(*, user_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """The citizen's licences, newest first, cursor-paginated (`next_cursor` null on the last page)."""
    require_verified(user_id)
    page, next_cursor = models.holder_licences_page(user_id, limit=max(1, min(limit, MAX_LIMIT)), cursor=cursor)
    return {"items": [_summary(licence) for licence in page], "next_cursor": next_cursor}


def _common(licence: Licence) -> dict[str, Any]:
    licence_type = get_type(licence.type_code)
    return {
        "id": licence.id, "identifier": licence.identifier, "type_code": licence.type_code,
        "type_name": i18n.label("licence_type", licence_type.code), "issuer_name": licence.issuer.name,
        "status": licence.status, "status_label": i18n.label("licence_status", licence.status), "valid_from": licence.valid_from,
        "valid_until": licence.valid_until, "version": licence.version,
        "derived_fields": derived_keys(licence_type),
    }


def _summary(licence: Licence) -> dict[str, Any]:
    view = _common(licence)
    try:
        _, _, data = decrypt_parts(licence)
        view["summary"] = disclose(get_type(licence.type_code), live_data(licence, data))
    except DecryptionError:
        log.warning("licence undecryptable", extra={"licence": licence.id})
        view["summary"] = {}
    return view


def get_licence(*, user_id: str, licence_id: str) -> dict[str, Any]:
    """One of the citizen's licences with every field masked and `signature_valid` checked now.

    A licence whose stored ciphertexts no longer decrypt, or whose signature does not verify over
    the canonical bytes, is shown with `signature_valid: false` (and no data when undecryptable)."""
    require_verified(user_id)
    licence = models.holder_licence_with_issuer(licence_id, user_id)
    if licence is None:
        raise LicenceNotFound()
    view = _common(licence)
    view.update(status_reason=licence.status_reason, issuer_code=licence.issuer.code, key_id=licence.key_id,
                signature_b64=base64.b64encode(bytes(licence.signature)).decode(),
                canonical_sha=licence.canonical_sha, fields={}, holder={},
                history=lifecycle.history(licence, issuer_name=licence.issuer.name, for_issuer=False))
    try:
        name, id_number, data = decrypt_parts(licence)
        message = signed_bytes(licence, licence.issuer)
    except DecryptionError:
        log.warning("licence undecryptable", extra={"licence": licence.id})
        view["signature_valid"] = False
        return view
    licence_type = get_type(licence.type_code)
    view["holder"] = holder_view(licence, name, id_number)
    shown = live_data(licence, data)
    view["fields"] = {f.key: mask_value(f, shown[f.key]) if f.sensitive else shown[f.key]
                      for f in licence_type.fields if f.key in shown}
    view["signature"] = signature_view(
        licence, keystore().public_key(licence.key_id).verify(bytes(licence.signature), message))
    view["signature_valid"] = view["signature"]["valid"]
    return view


def signature_view(licence: Licence, verifies: bool) -> dict[str, Any]:
    """The current version's issuer signature as verification shows it: {valid, key_id (the trust
    list's kid), key_status, revoked_since, signed_at}; valid when it verifies and its key was not
    revoked at or before the time it signed (issuers/keys.py)."""
    status = issuers.signature_status(licence.key_id, licence.updated_at)
    return {"valid": verifies and not status["flagged"], "key_id": status["key_id"],
            "key_status": status["key_status"], "revoked_since": status["revoked_since"],
            "signed_at": licence.updated_at}
