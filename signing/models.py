"""Cloud-signing tables: a citizen's signing credential (PIN + key + certificate), signing
requests (what will be signed, awaiting the citizen's authorisation) and the signatures made.

Nothing here holds key material or a PIN in clear: the private key lives wrapped in the key store
(`key_id`), the PIN as an Argon2id hash of a peppered HMAC. Every query of the feature is a named
function below; enrolment, signer and verification call them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from app.crypto.ca_models import CertificateRecord
from app.db import BaseModel, UTCDateTimeField, execute, insert_row, select_where, update_where, utcnow
from app.pagination import newest_first


class SigningCredential(BaseModel):
    """A citizen's enrolment (签名凭证): signing PIN, SM2 key in the key store, certificate.

    `active_slot` holds the user id while the credential is active (UNIQUE): two concurrent
    enrolments cannot both succeed. Revocation clears it; the row stays for history."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    active_slot = pw.CharField(max_length=32, null=True, unique=True)
    status = pw.CharField(max_length=16, default="active")  # active | revoked
    key_id = pw.CharField(max_length=32)
    cert_serial = pw.CharField(max_length=42, unique=True)
    certificate_pem = pw.TextField()
    pin_hash = pw.CharField(max_length=255)
    failed_pins = pw.IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)
    revoke_reason = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "signing_credential"


class SigningRequest(BaseModel):
    """What a citizen is asked to sign — 待签署文件: title, e = SM3(Z ‖ M) and, when the document
    was sent, its SM3 and size. Bound to the credential (and so the key) current when it was made.
    Consumed once by the conditional update `pending → signed`."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    credential_id = pw.CharField(max_length=32)
    batch_id = pw.CharField(max_length=32, null=True, index=True)
    title = pw.CharField(max_length=128)
    e_hex = pw.CharField(max_length=64)
    document_sm3 = pw.CharField(max_length=64, null=True)
    document_size = pw.BigIntegerField(null=True)
    status = pw.CharField(max_length=16, default="pending")  # pending | signed | refused (expired: computed)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    signed_at = UTCDateTimeField(null=True)
    # Who asked (issue 16): the citizen's own app (`citizen`, no name kept: answered as 本人), or a
    # machine client, its registered name as it was when it asked.
    requested_by_kind = pw.CharField(max_length=16, default="citizen")  # citizen | client
    requested_by_client = pw.CharField(max_length=40, null=True)
    requested_by_name = pw.CharField(max_length=128, null=True)
    refused_at = UTCDateTimeField(null=True)
    refuse_reason_enc = pw.BlobField(null=True)  # the citizen's free text may hold personal data: encrypted

    class Meta:
        table_name = "signing_request"
        indexes = ((("user_id", "created_at", "id"), False),)


class Signature(BaseModel):
    """A signature the platform made for a citizen (签名记录); `signature_sm3` finds it again
    from the bytes a relying party sends to the verification API."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    request_id = pw.CharField(max_length=32, unique=True)
    credential_id = pw.CharField(max_length=32)
    cert_serial = pw.CharField(max_length=42)
    title = pw.CharField(max_length=128)
    e_hex = pw.CharField(max_length=64)
    document_sm3 = pw.CharField(max_length=64, null=True)
    signature_der = pw.BlobField()
    signature_sm3 = pw.CharField(max_length=64, index=True)
    signed_at = UTCDateTimeField(default=utcnow)
    # Evidence (issue 18, signing/evidence.py): the detached CMS SignedData with its TSA token, the SM3
    # (hex) of its SignerInfo's signature value, the token's genTime and the TSA certificate's serial;
    # the attached form kept without its eContent and the SM3 of its own signature value (document
    # mode only). NULL for older signatures and digest-only requests without the document's SM3.
    cms_der = pw.BlobField(null=True)
    cms_signature_sm3 = pw.CharField(max_length=64, null=True, index=True)
    timestamped_at = UTCDateTimeField(null=True)
    tsa_serial = pw.CharField(max_length=42, null=True)
    cms_attached_der = pw.BlobField(null=True)
    cms_attached_sm3 = pw.CharField(max_length=64, null=True, index=True)
    # Signed for an enterprise (issue 19): its id ("en_…"); `user_id` is then the agent or legal
    # representative whose certificate signed. NULL: the citizen's own signature.
    acting_for = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "signing_signature"
        indexes = ((("user_id", "signed_at", "id"), False),)


class SigningDocument(BaseModel):
    """A pending document-mode request's document, SM4-GCM encrypted (signing/evidence.py): the
    attached SignedData is signed over the document itself, so it is kept until the request is
    signed or refused, and no longer (expired ones: `drop_expired_documents`)."""

    request_id = pw.CharField(primary_key=True, max_length=32)
    document_enc = pw.BlobField()
    expires_at = UTCDateTimeField(index=True)

    class Meta:
        table_name = "signing_document"


# --- Queries: credentials ----------------------------------------------------------------------

def active_credential_of(user_id: str) -> SigningCredential | None:
    return select_where(SigningCredential, active_slot=user_id)


def credential_by_id(credential_id: str) -> SigningCredential | None:
    return select_where(SigningCredential, id=credential_id)


def has_enrolled_before(user_id: str) -> bool:
    """Whether the citizen ever held a credential (active or revoked)."""
    return select_where(SigningCredential, user_id=user_id) is not None


def latest_lock(user_id: str) -> datetime | None:
    """The latest `locked_until` over all of the citizen's credentials (a lockout outlives
    re-enrolment), past or future."""
    # raw SQL: MAX over the citizen's credentials, on the authorisation path (SQL built once)
    row = execute('SELECT MAX("locked_until") FROM "signing_credential" WHERE "user_id" = ?', [user_id]).fetchone()
    return SigningCredential.locked_until.python_value(row[0]) if row and row[0] else None


def insert_credential(*, credential_id: str, user_id: str, key_id: str, cert_serial: str, certificate_pem: str,
                      pin_hash: str) -> None:
    """Take the citizen's active slot (IntegrityError when a concurrent enrolment took it first)."""
    insert_row(SigningCredential, id=credential_id, user_id=user_id, active_slot=user_id, key_id=key_id,
               cert_serial=cert_serial, certificate_pem=certificate_pem, pin_hash=pin_hash)


def revoke_credential(credential_id: str, *, at: datetime, reason: str) -> int:
    """Conditional `active → revoked` freeing the slot; the number of rows changed (0 or 1)."""
    return update_where(SigningCredential, {"id": credential_id, "status": "active"}, status="revoked",
                        active_slot=None, revoked_at=at, revoke_reason=reason)


def reset_failed_pins(credential_id: str) -> None:
    update_where(SigningCredential, {"id": credential_id}, failed_pins=0)


def count_failed_pin(credential_id: str) -> int:
    """Add one wrong PIN atomically (in the caller's transaction); the count after it."""
    # raw SQL: an in-place increment, so concurrent wrong tries are all counted
    execute('UPDATE "signing_credential" SET "failed_pins" = "failed_pins" + 1 WHERE "id" = ?', [credential_id])
    return execute('SELECT "failed_pins" FROM "signing_credential" WHERE "id" = ?', [credential_id]).fetchone()[0]


def lock_credential(credential_id: str, until: datetime) -> None:
    update_where(SigningCredential, {"id": credential_id}, failed_pins=0, locked_until=until)


def change_pin_hash(credential_id: str, *, old_hash: str, new_hash: str) -> int:
    """Conditional: the active credential still holding `old_hash` takes `new_hash` (its wrong-PIN
    count cleared); the number changed (0: revoked, or the PIN changed meanwhile)."""
    return update_where(SigningCredential, {"id": credential_id, "status": "active", "pin_hash": old_hash},
                        pin_hash=new_hash, failed_pins=0)


def reset_pin_hash(credential_id: str, *, user_id: str, new_hash: str) -> int:
    """Conditional on the credential being active: `new_hash`, no wrong PINs counted, and no lockout
    left on any of the citizen's credentials (a lockout outlives re-enrolment, so it may sit on a
    revoked one). The number of active credentials changed (0 or 1); nothing else when 0."""
    changed = update_where(SigningCredential, {"id": credential_id, "status": "active"}, pin_hash=new_hash,
                           failed_pins=0, locked_until=None)
    if changed:
        update_where(SigningCredential, {"user_id": user_id}, locked_until=None)
    return changed


def certificate_pems(credential_ids: set[str]) -> dict[str, str]:
    """{credential id: certificate PEM} for these credentials."""
    if not credential_ids:
        return {}
    return {c.id: c.certificate_pem
            for c in SigningCredential.select(SigningCredential.id, SigningCredential.certificate_pem)
            .where(SigningCredential.id.in_(credential_ids))}


# --- Queries: requests and signatures ----------------------------------------------------------

def insert_request(**values: Any) -> SigningRequest:
    return insert_row(SigningRequest, **values)


def find_request(*, request_id: str, user_id: str) -> SigningRequest | None:
    """The citizen's request (None for another citizen's)."""
    return select_where(SigningRequest, id=request_id, user_id=user_id)


def find_batch_member(*, batch_id: str, user_id: str) -> SigningRequest | None:
    """One request of the citizen's batch, or None."""
    return select_where(SigningRequest, batch_id=batch_id, user_id=user_id)


def batch_requests(*, batch_id: str, user_id: str) -> list[SigningRequest]:
    """The citizen's batch, in the order it was made."""
    return list(SigningRequest.select().where(SigningRequest.batch_id == batch_id, SigningRequest.user_id == user_id)
                .order_by(SigningRequest.created_at, SigningRequest.id))


def consume_requests(*, user_id: str, at: datetime, request_id: str | None = None, batch_id: str | None = None) -> int:
    """Conditional `pending → signed` of one request or a whole batch: the number consumed (of
    concurrent authorisations, one consumes them, the others 0)."""
    where = {"batch_id": batch_id} if batch_id else {"id": request_id}
    return update_where(SigningRequest, {**where, "user_id": user_id, "status": "pending"}, status="signed",
                        signed_at=at)


def refuse_request(*, request_id: str, user_id: str, at: datetime, reason_enc: bytes | None = None) -> int:
    """Conditional `pending → refused` of one request: the number changed (0 or 1)."""
    return update_where(SigningRequest, {"id": request_id, "user_id": user_id, "status": "pending"}, status="refused",
                        refused_at=at, refuse_reason_enc=reason_enc)


def requests_page(user_id: str, *, status: str | None, now: datetime, limit: int,
                  cursor: str | None) -> tuple[list[SigningRequest], str | None]:
    """One page of the citizen's requests (batch members included), newest first, and the cursor of
    the next (None: last). `pending` are those still open at `now`, `expired` the pending ones past
    their expires_at."""
    query = SigningRequest.select().where(SigningRequest.user_id == user_id)
    if status == "pending":
        query = query.where((SigningRequest.status == "pending") & (SigningRequest.expires_at >= now))
    elif status == "expired":
        query = query.where((SigningRequest.status == "pending") & (SigningRequest.expires_at < now))
    elif status:
        query = query.where(SigningRequest.status == status)
    return newest_first(query, SigningRequest.created_at, SigningRequest.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.created_at, id_of=lambda r: r.id)


def certificates_ending(start: datetime, end: datetime) -> list[tuple[SigningCredential, datetime]]:
    """(active credential, its certificate's not_after) for the good certificates ending in [start, end)."""
    query = (SigningCredential.select(SigningCredential, CertificateRecord.not_after)
             .join(CertificateRecord, on=(CertificateRecord.serial == SigningCredential.cert_serial))
             .where(SigningCredential.status == "active", CertificateRecord.status == "good",
                    CertificateRecord.not_after >= start, CertificateRecord.not_after < end)
             .order_by(CertificateRecord.not_after, SigningCredential.id).objects())
    return [(row, row.not_after) for row in query]


def insert_signature(**values: Any) -> Signature:
    return insert_row(Signature, **values)


def signatures_page(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Signature], str | None]:
    """One page of the citizen's signatures, newest first, and the cursor of the next (None: last)."""
    return newest_first(Signature.select().where(Signature.user_id == user_id), Signature.signed_at, Signature.id,
                        limit=limit, cursor=cursor, at_of=lambda r: r.signed_at, id_of=lambda r: r.id)


def find_signature(*, signature_id: str, user_id: str) -> Signature | None:
    """The citizen's signature (None for another citizen's)."""
    return select_where(Signature, id=signature_id, user_id=user_id)


def signature_by_id(signature_id: str) -> Signature | None:
    """Any citizen's signature, for the operator's `flask signing export-evidence`."""
    return select_where(Signature, id=signature_id)


def signature_by_cms_sm3(cms_signature_sm3: str) -> Signature | None:
    """The signature whose CMS SignerInfo signature value has this SM3 (lower-case hex) — of its
    detached SignedData, or of its attached form — or None."""
    digest = cms_signature_sm3.lower()
    return select_where(Signature, cms_signature_sm3=digest) or select_where(Signature, cms_attached_sm3=digest)


def keep_document(*, request_id: str, document_enc: bytes, expires_at: datetime) -> None:
    insert_row(SigningDocument, request_id=request_id, document_enc=document_enc, expires_at=expires_at)


def document_of(request_id: str) -> bytes | None:
    """The encrypted document kept for this pending request, or None."""
    row = select_where(SigningDocument, request_id=request_id)
    return bytes(row.document_enc) if row else None


def drop_documents(request_ids: list[str]) -> None:
    SigningDocument.delete().where(SigningDocument.request_id.in_(request_ids)).execute()


def drop_expired_documents(now: datetime) -> int:
    """Delete the documents of requests past their expires_at (never authorised): the number deleted."""
    return SigningDocument.delete().where(SigningDocument.expires_at < now).execute()


def signature_record(signature_sm3: str) -> tuple[str, datetime] | None:
    """(e_hex, signed_at) of the signature the platform made with these bytes' SM3, or None."""
    # raw SQL: the verification hot path (SQL built once)
    row = execute('SELECT "e_hex", "signed_at" FROM "signing_signature" WHERE "signature_sm3" = ? LIMIT 1',
                  [signature_sm3]).fetchone()
    return (row[0], Signature.signed_at.python_value(row[1])) if row else None


def certificate_status(serial: str) -> tuple[str, datetime | None, str | None]:
    """(status, revoked_at, reason) of an issued certificate, read live; ("unknown", None, None)."""
    # raw SQL: the verification hot path reads the CA's table (app.crypto.ca_models) with SQL built once
    row = execute('SELECT "status", "revoked_at", "reason" FROM "issued_certificate" WHERE "serial" = ?',
                  [serial]).fetchone()
    if row is None:
        return "unknown", None, None
    return row[0], CertificateRecord.revoked_at.python_value(row[1]), row[2]
