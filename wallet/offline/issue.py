"""Issuing an offline-verifiable QR (离线亮证码) to the holder of a licence, for one matter.

The code is made and signed here and handed to the holder; YiWang keeps no copy of the values it
discloses and cannot know when or where it is scanned. The holder's usage history records that it
was issued: for which matter, with which fields (names, never values) — a `Presentation` row in
status "offline" and a check row with result "offline_issued" (no clerk, no hall).
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Callable

import qrcode
from flask import current_app

from app import audit, qr
from app.crypto import platform_keys
from app.crypto.ca import keystore
from app.crypto.sm2 import decode_signature
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.security.pii import DecryptionError, mask_name
from wallet import models
from wallet.catalogue import get_type
from wallet.errors import LicenceKeyRevoked, LicenceNotFound, LicenceNotValid, MatterNotApplicable
from wallet.holder import live_data, require_verified, signature_view
from wallet.issuance import decrypt_parts, signed_bytes
from wallet.matters import active_matter, disclose_for, localized
from wallet.offline.errors import OfflineQrTooLarge
from wallet.offline.format import MAX_LIFETIME, OfflinePayload, encode_payload, to_text
from wallet.presentation import licence_valid_now

PURPOSE = "presentation"  # the platform key's purpose (app/crypto/platform_keys.py)


def _ttl() -> int:
    return max(1, min(int(current_app.config["OFFLINE_PRESENTATION_TTL"]), MAX_LIFETIME))


def issuer_kid(key_id: str) -> str:
    """The trust list's kid of an issuer key (SM3 over its SPKI, as for the platform keys)."""
    return platform_keys.kid_of(keystore().public_key(key_id).public_bytes_der())


def raw_signature(der: bytes) -> bytes:
    r, s = decode_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_payload(build: Callable[[str], OfflinePayload]) -> tuple[str, bytes]:
    """(QR text, signed bytes) of `build(kid)` signed by the current platform "presentation" key
    (the kid is inside the signed bytes, so the key is read first)."""
    kid = platform_keys.current(PURPOSE).kid
    for _ in range(3):
        signed = encode_payload(build(kid))
        signer, der = platform_keys.sign(PURPOSE, signed)
        if signer == kid:
            return to_text(signed, raw_signature(der)), signed
        kid = signer  # rotated between the two calls: sign again with the new kid inside
    raise RuntimeError("platform presentation key rotating")


def _vouched_parts(licence: Any, issuer: Any) -> tuple[str, str, dict[str, Any]]:
    """The licence's decrypted parts, if the platform may vouch for it now as the counter would: its
    issuer signature verifies and its key was not revoked at or before it signed (LicenceNotValid,
    LicenceKeyRevoked otherwise)."""
    try:
        parts = decrypt_parts(licence)
        intact = keystore().public_key(licence.key_id).verify(bytes(licence.signature),
                                                              signed_bytes(licence, issuer, parts))
    except DecryptionError:
        intact = False
    if not intact:
        raise LicenceNotValid()
    if not signature_view(licence, True)["valid"]:
        raise LicenceKeyRevoked()
    return parts


def create(*, user_id: str, licence_id: str, matter_code: str) -> dict[str, Any]:
    """A signed offline QR of one of the holder's valid licences for a matter: exactly the matter's
    fields, as it shows them; recorded in the holder's usage history (field names only)."""
    require_verified(user_id)
    consume([Limit(f"offline-pres:{user_id}",
                   int(current_app.config["OFFLINE_PRESENTATION_PER_MINUTE"]), 60,
                   detail=N_("离线亮证码生成过于频繁，请稍后再试。"))])
    licence = models.holder_licence(licence_id, user_id)
    if licence is None:
        raise LicenceNotFound()
    if not licence_valid_now(licence):
        raise LicenceNotValid()
    matter = active_matter(matter_code)  # 422 matter_unknown with the allowed list
    if licence.type_code not in matter.accepts:
        raise MatterNotApplicable(extra={"matter": matter_code, "licence_type": licence.type_code,
                                         "accepted_types": list(matter.accepts)})
    issuer = models.issuer_by_id(licence.issuer_id)
    name, id_number, data = _vouched_parts(licence, issuer)
    licence_type = get_type(licence.type_code)
    shown, hows = disclose_for(matter, licence_type, live_data(licence, data))
    ttl = _ttl()
    nonce = secrets.token_bytes(8)
    stamped: dict[str, int] = {}

    def build(kid: str) -> OfflinePayload:
        # Stamped once the signing key is read (sign_payload reads it first): a key made just now is
        # live at issued_at, which is never the second before its not_before (verifiers refuse that).
        stamped["now"] = now = int(time.time())
        return OfflinePayload(
            kid=kid, issued_at=now, lifetime=ttl, nonce=nonce, issuer_kid=issuer_kid(licence.key_id),
            licence_signed_at=int(licence.updated_at.timestamp()), identifier=licence.identifier,
            issuer_uscc=issuer.code, type_code=licence.type_code, matter=matter.code,
            holder_name_masked=mask_name(name) or "", holder_id_tail4=(id_number or "")[-4:],
            fields=tuple((key, hows[key], value) for key, value in shown.items()))

    try:
        qr_text, signed = sign_payload(build)
    except ValueError:  # a value longer than the format's 255 bytes
        raise OfflineQrTooLarge() from None
    expires_at = datetime.fromtimestamp(stamped["now"] + ttl, timezone.utc)
    presentation_id = _record(user_id, licence, matter.code, list(shown), nonce.hex(), expires_at)
    png = qr.render_png(qr_text)
    return {"id": presentation_id, "qr_text": qr_text, "expires_at": expires_at, "matter": matter.code,
            "fields": list(shown), "png": png, "size": {"bytes": len(signed) + 64, "chars": len(qr_text),
                                                        "qr_version": qr_version(qr_text)}}


def qr_version(text: str) -> int:
    """The QR version (1–40) the text takes at error-correction level M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    return code.version


def _record(user_id: str, licence: Any, matter: str, keys: list[str], nonce_hex: str, expires_at: datetime) -> str:
    presentation_id = new_id("prs")
    with unit_of_work():
        models.insert_offline_presentation(presentation_id=presentation_id, nonce=nonce_hex, licence_id=licence.id,
                                           user_id=user_id, fields=json.dumps(keys), expires_at=expires_at)
        presentation = models.Presentation(id=presentation_id, user_id=user_id)
        models.insert_check(presentation=presentation, clerk_id="", hall_code=None, checked_at=utcnow(),
                            result="offline_issued", type_code=licence.type_code, holder_name_masked=None,
                            matter=matter, disclosed=json.dumps(keys))
        audit.record("wallet.offline_presentation_issued", actor_kind="citizen", actor_id=user_id,
                     target=presentation_id, details={"licence": licence.id, "matter": matter, "fields": keys})
    return presentation_id


def matters_for(*, user_id: str, licence_id: str) -> dict[str, Any]:
    """The active matters one of the holder's licences can be shown for offline: code, name and the
    fields each puts in the code (with how), in the answer's language."""
    require_verified(user_id)
    licence = models.holder_licence(licence_id, user_id)
    if licence is None:
        raise LicenceNotFound()
    items = []
    for matter in localized():
        for licence_type in matter["licence_types"]:
            if licence_type["code"] == licence.type_code:
                items.append({"code": matter["code"], "name": matter["name"], "fields": licence_type["fields"]})
    return {"items": items}
