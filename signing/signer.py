"""Signing under the citizen's sole control (签署): requests, authorisation, batches, history.

A request fixes what will be signed: e = SM3(Z ‖ M) computed here from the document (Z depends on
the citizen's public key and the signer ID, so a client's SM3(M) could not be signed), or sent by
the client for large files. Authorising it with the PIN (and, when configured, an SMS code or a
fresh face check) signs exactly that e, once: the request is consumed by the conditional UPDATE
`pending → signed` in the same transaction that stores the signature and its audit row, so of
concurrent replays exactly one signs. A batch (CSC `numSignatures`) is consumed the same way, all
of its requests at once, and never signs more than it listed. The citizen may refuse a pending
request instead (`pending → refused`, the same conditional update), with an optional reason kept
encrypted (free text may hold personal data: it reaches neither the audit row nor the logs). Each
request (or batch) waiting, signed or refused is told to the citizen in its transaction
(signing/notices.py).

Each signature made from a known document digest (the document, or `document_sm3` sent beside e)
also gets its evidence in the same transaction: a CMS SignedData with the platform TSA's timestamp
(signing/evidence.py).

Every request records who asked (`requested_by`): the citizen's own app (a citizen's token: the
only caller `POST /signing/requests` and `/batches` accept today) or a machine client, named as it
was registered when it asked. A pending request past its `expires_at` reads `expired`.

Signing for an enterprise (issue 19): under an enterprise token whose grant holds `signing:sign`, the
request's owner (`owner_id`: its `user_id`, who may read, refuse and authorise it) is the enterprise,
while everything about the signature itself — the key and certificate, the PIN and its lockout, the
level and the face-check policy, the SMS code, the notices — is the acting person's (`user_id`, the
signer). A request is bound to its creator's credential (e depends on their public key): only they
sign it. The signature keeps both: `user_id` the signer, `acting_for` the enterprise.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app import audit
from app.crypto.ca import keystore
from app.crypto.sm3 import sm3_hex
from app.db import new_id, unit_of_work, utcnow
from app.errors import ValidationFailed
from app.i18n import N_, T_, translate
from app.security.pii import field_cipher
from identity import service as identity
from orgs import service as orgs
from signing import evidence, models, notices
from signing.enrolment import active_credential, check_pin, require_level
from signing.errors import (
    CredentialChanged, DocumentInvalid, DocumentTooLarge, RequestExpired, RequestInBatch, RequestNotFound,
    RequestNotPending, RequestUsed, SignerMismatch,
)
from signing.models import Signature, SigningCredential, SigningRequest
from signing.second_factors import _second_factors
from signing.second_factors import send_sms_code  # noqa: F401 - signing/service.py imports it here

MAX_LIMIT = 50
CITIZEN_REQUESTER = T_("本人")  # a request the citizen's own app made (the name answered in the request's language)
REASON_COLUMN = "signing_request.refuse_reason"  # the field cipher's context for the refusal reason


def _decode_document(document_b64: str) -> bytes:
    limit = current_app.config["SIGNING_MAX_DOCUMENT_BYTES"]
    if len(document_b64) > (limit + 2) // 3 * 4 + 4:  # refuse before decoding
        raise DocumentTooLarge(extra={"max_bytes": limit})
    try:
        document = base64.b64decode(document_b64, validate=True)
    except (binascii.Error, ValueError):
        raise DocumentInvalid(errors={"document_b64": [N_("不是有效的 Base64 编码。")]}) from None
    if len(document) > limit:
        raise DocumentTooLarge(extra={"max_bytes": limit})
    return document


def state(row: SigningRequest, now: datetime) -> str:
    """The request's status as the citizen reads it: a pending one past its expires_at is `expired`
    (authorising it answers 410 signing_request_expired)."""
    return "expired" if row.status == "pending" and now > row.expires_at else row.status


def requester_view(row: SigningRequest) -> dict[str, str]:
    if row.requested_by_kind == "client":
        return {"kind": "client", "name": row.requested_by_name or row.requested_by_client or ""}
    return {"kind": "citizen", "name": translate(CITIZEN_REQUESTER)}


def _refusal_reason(row: SigningRequest) -> str | None:
    if row.refuse_reason_enc is None:
        return None
    return field_cipher().decrypt(bytes(row.refuse_reason_enc), REASON_COLUMN)


def request_view(row: SigningRequest, now: datetime | None = None) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "e_hex": row.e_hex, "document_sm3": row.document_sm3,
            "document_size": row.document_size, "status": state(row, now or utcnow()), "batch_id": row.batch_id,
            "requested_by": requester_view(row), "created_at": row.created_at, "expires_at": row.expires_at,
            "signed_at": row.signed_at, "refused_at": row.refused_at, "refusal_reason": _refusal_reason(row)}


def batch_view(rows: list[SigningRequest], now: datetime | None = None) -> dict[str, Any]:
    """A batch (its requests in the order they were listed): its members share status, requester and expiry."""
    now = now or utcnow()
    first = rows[0]
    return {"id": first.batch_id, "status": state(first, now), "requested_by": requester_view(first),
            "items": [request_view(r, now) for r in rows], "created_at": first.created_at,
            "expires_at": first.expires_at}


def _requester(client_id: str | None) -> dict[str, Any]:
    """The requested_by columns: the citizen's own app, or the machine client and its registered name now."""
    if client_id is None:
        return {"requested_by_kind": "citizen"}
    name = identity.client_name(client_id) or client_id
    return {"requested_by_kind": "client", "requested_by_client": client_id, "requested_by_name": name[:128]}


def _new_request(credential: SigningCredential, *, title: str, document_b64: str | None, e_hex: str | None,
                 now: datetime, requester: dict[str, Any], batch_id: str | None = None,
                 document_sm3: str | None = None, owner_id: str | None = None) -> SigningRequest:
    """With `e_hex`, `document_sm3` is what the caller declares the document's SM3 to be (unchecked:
    the platform never sees that document); with `document_b64` both are computed here."""
    document_sm3, size = (document_sm3.lower() if document_sm3 else None), None
    document = None
    if document_b64 is not None:
        document = _decode_document(document_b64)
        e_hex = keystore().public_key(credential.key_id).digest(document).hex()
        document_sm3, size = sm3_hex(document), len(document)
    expires_at = now + timedelta(seconds=current_app.config["SIGNING_REQUEST_TTL"])
    row = models.insert_request(id=new_id("sgr"), user_id=owner_id or credential.user_id, credential_id=credential.id,
                                batch_id=batch_id, title=title, e_hex=e_hex.lower(), document_sm3=document_sm3,
                                document_size=size, created_at=now, **requester, expires_at=expires_at)
    if document is not None:  # kept (encrypted) until signed or refused: the attached CMS is signed over it
        models.keep_document(request_id=row.id, document_enc=evidence.seal_document(row.id, document),
                             expires_at=expires_at)
    return row


def _actor(user_id: str, client_id: str | None) -> dict[str, Any]:
    if client_id is None:
        return {"actor_kind": "citizen", "actor_id": user_id}
    return {"actor_kind": "client", "actor_id": client_id}


def create_request(*, user_id: str, title: str, document_b64: str | None = None, e_hex: str | None = None,
                   client_id: str | None = None, document_sm3: str | None = None,
                   owner_id: str | None = None) -> dict[str, Any]:
    """A request to sign one document (or one precomputed e, optionally with the document's SM3 so
    that the signature gets its CMS evidence), asked by the citizen's own app or, with `client_id`,
    by that machine client. With `owner_id` (an enterprise) the request is the enterprise's, to be
    signed by `user_id` (its agent or legal representative) with their own key.
    NotEnrolled, DocumentTooLarge, DocumentInvalid."""
    require_level(user_id)
    credential = active_credential(user_id)
    requester = _requester(client_id)
    with unit_of_work():
        models.drop_expired_documents(utcnow())
        row = _new_request(credential, title=title, document_b64=document_b64, e_hex=e_hex, now=utcnow(),
                           requester=requester, document_sm3=document_sm3, owner_id=owner_id)
        details = {"mode": "document" if document_b64 is not None else "digest", **_for(owner_id)}
        audit.record("signing.request", **_actor(user_id, client_id), target=row.id,
                     details=details if client_id is None else {**details, "user": user_id})
        notices.request_waiting(user_id=user_id, title=row.title, count=1, request_id=row.id)
    return request_view(row)


def create_batch(*, user_id: str, items: list[dict[str, Any]], client_id: str | None = None) -> dict[str, Any]:
    """Several requests authorised together, at most SIGNING_BATCH_MAX (asked as `create_request`)."""
    require_level(user_id)
    if len(items) > current_app.config["SIGNING_BATCH_MAX"]:
        raise ValidationFailed(code="batch_too_large", detail=N_("批量签署的文件数量超过上限。"),
                               extra={"max_items": current_app.config["SIGNING_BATCH_MAX"]})
    credential = active_credential(user_id)
    batch_id, now = new_id("sgb"), utcnow()
    requester = _requester(client_id)
    with unit_of_work():
        models.drop_expired_documents(now)
        rows = [_new_request(credential, title=item["title"], document_b64=item.get("document_b64"),
                             e_hex=item.get("e_hex"), now=now + timedelta(microseconds=i), requester=requester,
                             batch_id=batch_id, document_sm3=item.get("document_sm3"))
                for i, item in enumerate(items)]
        details = {"items": len(rows)}
        audit.record("signing.batch", **_actor(user_id, client_id), target=batch_id,
                     details=details if client_id is None else {**details, "user": user_id})
        notices.request_waiting(user_id=user_id, title=rows[0].title, count=len(rows), batch_id=batch_id)
    return batch_view(rows, now)


def get_request(*, user_id: str, request_id: str) -> dict[str, Any]:
    row = models.find_request(request_id=request_id, user_id=user_id)
    if row is None:
        raise RequestNotFound()
    return request_view(row)


def get_batch(*, user_id: str, batch_id: str) -> dict[str, Any]:
    """The citizen's batch with its documents (RequestNotFound for another citizen's too)."""
    return batch_view(_batch_rows(user_id, batch_id))


def list_requests(*, user_id: str, status: str | None = None, limit: int = 20,
                  cursor: str | None = None) -> dict[str, Any]:
    """The citizen's requests (a batch's too, each with its batch_id), newest first, optionally of one
    status (`expired`: pending past expires_at; `pending`: still open). `next_cursor` null on the last page."""
    limit = max(1, min(limit, MAX_LIMIT))
    now = utcnow()
    page, next_cursor = models.requests_page(user_id, status=status, now=now, limit=limit, cursor=cursor)
    return {"items": [request_view(r, now) for r in page], "next_cursor": next_cursor}


def _batch_rows(user_id: str, batch_id: str) -> list[SigningRequest]:
    rows = models.batch_requests(batch_id=batch_id, user_id=user_id)
    if not rows:
        raise RequestNotFound(N_("批量签署请求不存在。"))
    return rows


# --- Authorisation -----------------------------------------------------------------------------

def _for(owner_id: str | None) -> dict[str, Any]:
    """The audit details naming the enterprise a person acted for (nothing for their own request)."""
    return {"acting_for": owner_id} if owner_id else {}


def _acting_for_view(enterprise_id: str | None) -> dict[str, Any] | None:
    if not enterprise_id:
        return None
    return {"kind": "enterprise", "id": enterprise_id, "name": orgs.enterprise_name(enterprise_id)}


def signature_view(row: Signature, certificate_pem: str) -> dict[str, Any]:
    return {"signature_id": row.id, "request_id": row.request_id, "title": row.title, "e_hex": row.e_hex,
            "document_sm3": row.document_sm3, "signature_b64": base64.b64encode(bytes(row.signature_der)).decode(),
            "certificate_serial": row.cert_serial, "certificate_pem": certificate_pem, "signed_at": row.signed_at,
            "acting_for": _acting_for_view(row.acting_for), **evidence.view(row)}


def _authorize(rows: list[SigningRequest], *, user_id: str, pin: str, sms_code: str | None,
               batch_id: str | None, liveness_session_id: str | None = None,
               owner_id: str | None = None) -> list[dict[str, Any]]:
    """`user_id` signs (their credential, PIN, lockout, level, face check); the rows are `owner_id`'s
    (an enterprise), or theirs."""
    require_level(user_id)
    now = utcnow()
    if any(r.status != "pending" for r in rows):
        raise RequestUsed()
    if any(now > r.expires_at for r in rows):
        raise RequestExpired()
    credential = models.credential_by_id(rows[0].credential_id)
    if credential is None or credential.status != "active":
        raise CredentialChanged()
    if credential.user_id != user_id:  # an enterprise's request made by another of its agents
        raise SignerMismatch()
    _second_factors(user_id, batch_id or rows[0].id, sms_code, liveness_session_id)
    cfg = current_app.config  # what this authorisation required beside the PIN (the art. 13 report reads it)
    factors = {"sms": bool(cfg["SIGNING_REQUIRE_SMS"]), "liveness": bool(cfg["SIGNING_REQUIRE_LIVENESS"]),
               "source": "authorisation"}
    check_pin(credential, pin)
    store = keystore()
    with unit_of_work():
        consumed = models.consume_requests(user_id=owner_id or user_id, at=now, request_id=rows[0].id,
                                           batch_id=batch_id)
        if consumed != len(rows):  # a concurrent authorisation got there first: roll back, refuse
            raise RequestUsed()
        signed = []
        for r in rows:
            der = store.sign_digest(credential.key_id, bytes.fromhex(r.e_hex))
            proof = _evidence(r, credential, now)
            sig = models.insert_signature(id=new_id("sig"), user_id=user_id, request_id=r.id,
                                          credential_id=credential.id, cert_serial=credential.cert_serial,
                                          title=r.title, e_hex=r.e_hex, document_sm3=r.document_sm3,
                                          signature_der=der, signature_sm3=sm3_hex(der), signed_at=now,
                                          acting_for=owner_id, **(proof.columns() if proof else {}))
            audit.record("signing.sign", actor_kind="citizen", actor_id=user_id, target=sig.id,
                         details={"request": r.id, "serial": credential.cert_serial, "batch": batch_id,
                                  "e_sm3": r.e_hex[:16], "cms": proof is not None,
                                  "cms_attached": proof is not None and proof.cms_attached_der is not None,
                                  "factors": factors, **_for(owner_id)})
            signed.append(signature_view(sig, credential.certificate_pem))
        models.drop_documents([r.id for r in rows])
        notices.signed(user_id=user_id, title=rows[0].title, count=len(rows), request_id=rows[0].id,
                       batch_id=batch_id)
    return signed


def _evidence(row: SigningRequest, credential: SigningCredential, now: datetime) -> evidence.Evidence | None:
    """The request's CMS evidence (None when the document's SM3 is unknown), with the attached form
    when the document was kept."""
    if not row.document_sm3:
        return None
    sealed = models.document_of(row.id)
    document = evidence.open_document(row.id, sealed) if sealed is not None else None
    return evidence.make(key_id=credential.key_id, certificate_pem=credential.certificate_pem,
                         document_sm3=row.document_sm3, signed_at=now, document=document)


def authorize(*, user_id: str, request_id: str, pin: str, sms_code: str | None = None,
              liveness_session_id: str | None = None, owner_id: str | None = None) -> dict[str, Any]:
    """Sign the request's e with the citizen's key (`owner_id`: an enterprise's request, signed by
    its agent `user_id`). RequestNotFound (another owner's too), RequestInBatch, RequestUsed,
    RequestExpired, CredentialChanged, SignerMismatch, PinInvalid, SigningLocked."""
    row = models.find_request(request_id=request_id, user_id=owner_id or user_id)
    if row is None:
        raise RequestNotFound()
    if row.batch_id:
        raise RequestInBatch()
    return _authorize([row], user_id=user_id, pin=pin, sms_code=sms_code, batch_id=None,
                      liveness_session_id=liveness_session_id, owner_id=owner_id)[0]


def authorize_batch(*, user_id: str, batch_id: str, pin: str, sms_code: str | None = None,
                    liveness_session_id: str | None = None) -> dict[str, Any]:
    """Sign every request of the batch with one authorisation; all or nothing."""
    rows = _batch_rows(user_id, batch_id)
    return {"batch_id": batch_id,
            "signatures": _authorize(rows, user_id=user_id, pin=pin, sms_code=sms_code, batch_id=batch_id,
                                     liveness_session_id=liveness_session_id)}


def refuse(*, user_id: str, request_id: str, reason: str | None = None, owner_id: str | None = None) -> dict[str, Any]:
    """The citizen declines to sign: `pending → refused`, with an optional reason (stripped; blank is
    none) stored encrypted, audited (whether a reason was given, never its text) and told.
    `owner_id`: an enterprise's request, refused by its agent `user_id`.
    RequestNotFound (another owner's too), RequestInBatch, RequestNotPending (already signed or refused)."""
    owner_id, person = owner_id or user_id, user_id
    row = models.find_request(request_id=request_id, user_id=owner_id)
    if row is None:
        raise RequestNotFound()
    if row.batch_id:
        raise RequestInBatch()
    reason = (reason or "").strip() or None
    reason_enc = field_cipher().encrypt(reason, REASON_COLUMN) if reason else None
    with unit_of_work():
        if models.refuse_request(request_id=row.id, user_id=owner_id, at=utcnow(), reason_enc=reason_enc) != 1:
            raise RequestNotPending()
        models.drop_documents([row.id])
        audit.record("signing.refuse", actor_kind="citizen", actor_id=person, target=row.id,
                     details={"reason_given": reason is not None, **_for(owner_id if owner_id != person else None)})
        notices.refused(user_id=person, title=row.title, request_id=row.id)
    return request_view(models.find_request(request_id=row.id, user_id=owner_id))


# --- History -----------------------------------------------------------------------------------

def signature_cms(*, user_id: str, signature_id: str, document_b64: str | None = None) -> bytes:
    """The citizen's signature as a CMS SignedData (DER): detached, or with `document_b64` attached
    once its SM3 is the signed messageDigest. DocumentInvalid, DocumentTooLarge, SignatureNotFound
    (another citizen's too), CmsNotMade, DocumentMismatch."""
    require_level(user_id)
    if document_b64 is None:
        return evidence.detached_cms(user_id=user_id, signature_id=signature_id)
    return evidence.attached_cms(user_id=user_id, signature_id=signature_id,
                                 document=_decode_document(document_b64))


def list_signatures(*, user_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """The citizen's signatures, newest first (`next_cursor` null on the last page)."""
    require_level(user_id)
    limit = max(1, min(limit, MAX_LIMIT))
    page, next_cursor = models.signatures_page(user_id, limit=limit, cursor=cursor)
    pems = models.certificate_pems({r.credential_id for r in page})
    items = [signature_view(r, pems.get(r.credential_id, "")) for r in page]
    return {"items": items, "next_cursor": next_cursor}
