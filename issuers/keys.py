"""Issuer signing keys (发证机关签名密钥): SM2 keys with validity periods, certified by the platform CA,
rotated, and revoked from a date.

Each department signs licences with its newest active key. The key lives in the key store (purpose
"issuer"); its certificate from the platform CA names the department (O and CN = its name,
serialNumber = its USCC) for digitalSignature and nonRepudiation, valid `KEY_DAYS` days: the key's
signing period. Its `kid` is the first 16 hex digits of SM3 over the SubjectPublicKeyInfo.

- Rotation (`flask issuers rotate-key USCC`, POST /api/v1/admin/issuers/{id}/keys): a new key signs
  new licences; the old one is retired and keeps verifying what it signed (the trust list keeps
  publishing it). A key whose certificate has expired is replaced when the department next signs.
- Revocation (`flask issuers revoke-key KID --since DATE --reason keyCompromise`, POST
  /api/v1/admin/issuers/{id}/keys/{kid}/revoke): the key signs nothing more (disabled in the key
  store), its certificate is revoked in the platform CA with `since` as the revocation date (the
  CRL lists it), and a licence version it signed at or after `since` is flagged by every
  verification (`signature_status`). If it was the signing key, the department gets a new one.
- Keys of departments carried over from the wallet's per-client issuers are adopted on first use:
  the existing key is certified from its creation time, so what it signed stays verifiable.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from app import audit
from app.crypto.ca import keystore, platform_ca
from app.crypto.keystore import Actor, KeyInfo
from app.crypto.platform_keys import kid_of
from app.crypto.x509 import load_certificate
from app.db import unit_of_work, utcnow
from app.i18n import N_
from issuers import models
from issuers.errors import IssuerKeyAlreadyRevoked, IssuerKeyNotFound, IssuerKeyRevocationInvalid
from issuers.models import Issuer, IssuerKey

log = logging.getLogger(__name__)

KEY_PURPOSE = "issuer"  # the key store purpose (the wallet's issuer keys had it already)
KEY_DAYS = 730  # signing period of a key: rotate at least every two years
KEY_USAGE = {"digitalSignature", "nonRepudiation"}
# RFC 5280 reasons an operator may give (certificateHold / removeFromCRL are not revocations here)
REVOCATION_REASONS = ("keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation",
                      "privilegeWithdrawn", "unspecified")


# --- what a verifier is told -----------------------------------------------------------------

def key_status(row: IssuerKey, now: datetime | None = None) -> str:
    """active | retired | expired | revoked: revoked wins; a key past its certificate is expired."""
    if row.status == "revoked":
        return "revoked"
    if row.not_after <= (now or utcnow()):
        return "expired"
    return row.status


def signature_status(key_id: str, signed_at: datetime) -> dict[str, Any]:
    """How the key behind a licence version stands for a signature made at `signed_at`:
    {key_id: kid | None, key_status, revoked_since, flagged}. `flagged` when the key is revoked and
    the version was signed at or after `revoked_since`, or signed outside the key's validity. A key
    the registry does not know (a licence signed before keys were registered, never adopted) is
    `unregistered` and not flagged: its signature is checked with the key store's public key."""
    row = models.issuer_key_by_key_id(key_id)
    if row is None:
        return {"key_id": None, "key_status": "unregistered", "revoked_since": None, "flagged": False}
    revoked = row.status == "revoked" and signed_at >= row.revoked_since
    outside = not (row.not_before - timedelta(seconds=1) <= signed_at <= row.not_after)
    return {"key_id": row.kid, "key_status": key_status(row), "revoked_since": row.revoked_since,
            "flagged": revoked or outside}


def kid_for_key_id(key_id: str) -> str | None:
    """The published kid of a key store key (a licence's `key_id`), None if not registered."""
    row = models.issuer_key_by_key_id(key_id)
    return row.kid if row else None


def key_view(row: IssuerKey) -> dict[str, Any]:
    """A key as the admin API and the trust list show it."""
    return {"kid": row.kid, "status": key_status(row), "not_before": row.not_before, "not_after": row.not_after,
            "certificate": row.certificate_pem, "certificate_serial": row.certificate_serial,
            "public_key": keystore().public_key(row.key_id).public_bytes_der(),
            "revoked_since": row.revoked_since, "revoked_reason": row.revoked_reason, "created_at": row.created_at}


def keys_of(issuer: Issuer) -> list[dict[str, Any]]:
    return [key_view(row) for row in models.issuer_keys(issuer.id)]


# --- choosing, making and rotating keys --------------------------------------------------------

def _subject(issuer: Issuer) -> dict[str, str]:
    subject = {"C": "CN", "O": issuer.name[:64], "CN": issuer.name[:64]}
    code = issuer.uscc or getattr(issuer, "legacy_code", None)
    if code:
        subject["serialNumber"] = code
    return subject


def _certify(issuer: Issuer, info: KeyInfo, *, not_before: datetime | None, actor: Actor | None) -> IssuerKey:
    """Certify a key store key for the department and register it (inside the caller's unit)."""
    ca = platform_ca()
    start = (not_before or utcnow()).replace(microsecond=0)
    ca_end = load_certificate(ca.certificate_der()).not_valid_after
    days = min(KEY_DAYS, (ca_end - start).days)
    cert = ca.issue_certificate(info.public_key(), _subject(issuer), days=days, key_usage=KEY_USAGE,
                                not_before=start, actor=actor)
    return models.insert_issuer_key(kid=kid_of(info.public_key_der), issuer_id=issuer.id, key_id=info.key_id,
                                    certificate_serial=cert.serial, certificate_pem=cert.pem,
                                    not_before=cert.not_before, not_after=cert.not_after, status="active",
                                    created_at=utcnow())


def _new_key(issuer: Issuer, actor: Actor | None, *, replacing: IssuerKey | None) -> IssuerKey:
    """A new signing key (inside the caller's unit): the key store rotates the replaced key when it
    can still sign, else generates one; the replaced key is retired here."""
    store = keystore()
    if replacing is not None and store.info(replacing.key_id).status == "active":
        info = store.rotate(replacing.key_id, actor=actor)
    else:
        info = store.generate(purpose=KEY_PURPOSE, owner=issuer.id, label=issuer.name[:128], actor=actor)
    if replacing is not None:
        models.retire_issuer_key(replacing.kid, utcnow())
    return _certify(issuer, info, not_before=None, actor=actor)


def _usable(row: IssuerKey | None) -> bool:
    return row is not None and row.not_after > utcnow() + timedelta(minutes=1)


def _adopt(issuer: Issuer) -> None:
    """Register the department's keys from before the registry (key store purpose "issuer", owner =
    its id: the wallet's per-client issuers had the same id), each certified from its creation so
    that what it signed stays verifiable (inside the caller's unit)."""
    for info in sorted(keystore().find(purpose=KEY_PURPOSE, owner=issuer.id, status=None), key=lambda i: i.created_at):
        if info.status == "disabled" or models.issuer_key_by_key_id(info.key_id) is not None:
            continue
        row = _certify(issuer, info, not_before=info.created_at, actor=None)
        if info.status == "retired":
            models.retire_issuer_key(row.kid, info.retired_at or utcnow())
        audit.record("issuers.key_adopted", actor_kind="system", target=issuer.id,
                     details={"kid": row.kid, "status": info.status, "not_after": row.not_after.isoformat()})


def signing_key(issuer: Issuer) -> tuple[IssuerKey, bool]:
    """(the key that signs the department's next licence, whether it was registered just now): its
    newest active key; on first use its key from before the registry (adopted) or a new one; a key
    whose certificate has expired replaced."""
    row = models.active_issuer_key(issuer.id)
    if _usable(row):
        return row, False
    with unit_of_work():
        models.issuer_for_update(issuer.id)  # one key per department even when two requests arrive at once
        row = models.active_issuer_key(issuer.id)
        if _usable(row):
            return row, True  # made by a concurrent request
        if row is None:
            _adopt(issuer)
            row = models.active_issuer_key(issuer.id)
            if _usable(row):
                return row, True
        new = _new_key(issuer, None, replacing=row)
        audit.record("issuers.key_rotated", actor_kind="system", target=issuer.id,
                     details={"before": row.kid if row else None, "after": new.kid,
                              "why": "expired" if row else "first key"})
    log.info("issuer signing key made", extra={"issuer": issuer.id, "kid": new.kid})
    return new, True


def rotate(issuer: Issuer, *, actor: Actor) -> IssuerKey:
    """A new signing key for the department; the current one is retired (verify-only)."""
    with unit_of_work():
        models.issuer_for_update(issuer.id)
        _adopt(issuer)
        current = models.active_issuer_key(issuer.id)
        new = _new_key(issuer, actor, replacing=current)
        kind, actor_id = actor
        audit.record("issuers.key_rotated", actor_kind=kind, actor_id=actor_id, target=issuer.id,
                     details={"before": current.kid if current else None, "after": new.kid})
    return new


def revoke(issuer: Issuer, kid: str, *, since: datetime, reason: str, actor: Actor) -> IssuerKey:
    """Revoke one of the department's keys from `since` (not in the future). IssuerKeyNotFound for
    another department's key, IssuerKeyAlreadyRevoked, IssuerKeyRevocationInvalid."""
    now = utcnow()
    if reason not in REVOCATION_REASONS:
        raise IssuerKeyRevocationInvalid(errors={"reason": [N_("取值不在允许范围内。")]})
    if since > now:
        raise IssuerKeyRevocationInvalid(errors={"since": [N_("吊销起始时间不能晚于当前时间。")]})
    since = since.replace(microsecond=0)
    with unit_of_work():
        models.issuer_for_update(issuer.id)
        row = models.issuer_key(kid)
        if row is None or row.issuer_id != issuer.id:
            raise IssuerKeyNotFound()
        if row.status == "revoked":
            raise IssuerKeyAlreadyRevoked()
        before = key_status(row, now)
        models.revoke_issuer_key(kid, since=since, at=now, reason=reason)
        keystore().disable(row.key_id, f"revoked: {reason}", actor=actor)
        platform_ca().revoke(row.certificate_serial, reason, at=since, actor=actor)
        replacement = _new_key(issuer, actor, replacing=None) if row.status == "active" else None
        kind, actor_id = actor
        audit.record("issuers.key_revoked", actor_kind=kind, actor_id=actor_id, target=issuer.id,
                     details={"kid": kid, "before": before, "after": "revoked", "since": since.isoformat(),
                              "reason": reason, "replacement": replacement.kid if replacement else None})
    log.warning("issuer key revoked", extra={"issuer": issuer.id, "kid": kid, "reason": reason})
    return models.issuer_key(kid)
