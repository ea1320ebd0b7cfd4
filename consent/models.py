"""Consent tables (用证授权): a verifier's request to a citizen and its answer, kept in the database
(never in a process's memory: any API replica answers the poll, a restart loses nothing).

A request names the citizen only by the account id it resolved to (null when no verified account
holds the phone the verifier gave: the request then simply expires); never a phone or ID number.
Its state changes once, by a conditional UPDATE `pending → approved | refused` before its expiry.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, select_one, update_where, utcnow
from app.pagination import newest_first

PENDING, APPROVED, REFUSED, EXPIRED = "pending", "approved", "refused", "expired"
# direct_post delivery of the answer to the verifier's response_uri
NO_DELIVERY, DELIVERY_PENDING, DELIVERED, DELIVERY_FAILED = "none", "pending", "delivered", "failed"


class ConsentRequest(BaseModel):
    """ConsentRequest — 用证授权请求: who asks (a machine client with `verifications:request`), for
    which matter and fields, of which citizen; the answer (a signed disclosure or a refusal)."""

    id = pw.CharField(primary_key=True, max_length=32)
    client_id = pw.CharField(max_length=40, index=True)  # the verifier
    verifier_name = pw.CharField(max_length=128)  # its registered name when it asked
    user_id = pw.CharField(max_length=32, null=True)  # null: nobody verified holds the phone given
    matter = pw.CharField(max_length=64)
    type_codes = pw.TextField()  # JSON list: the licence types the verifier accepts (within the matter's)
    claims = pw.TextField()  # JSON list: the field keys asked for (within the matter's)
    dcql_query = pw.TextField()  # JSON, as the verifier sent it
    nonce = pw.CharField(max_length=128)
    state = pw.CharField(max_length=128, null=True)
    response_mode = pw.CharField(max_length=16)  # direct_post | poll
    response_uri = pw.CharField(max_length=512, null=True)
    status = pw.CharField(max_length=16, default=PENDING)  # pending | approved | refused (expired: computed)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    answered_at = UTCDateTimeField(null=True)
    step_up = pw.CharField(max_length=8, null=True)  # sms | pin: how the citizen proved it was them
    licence_id = pw.CharField(max_length=32, null=True)
    disclosed = pw.TextField(null=True)  # JSON list of the field keys disclosed (never the values)
    disclosure = pw.TextField(null=True)  # the signed compact disclosure (what the verifier receives)
    delivery = pw.CharField(max_length=16, default=NO_DELIVERY)
    delivery_attempts = pw.IntegerField(default=0)
    delivered_at = UTCDateTimeField(null=True)
    delivery_error = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "consent_request"
        indexes = ((("user_id", "created_at", "id"), False), (("delivery", "answered_at"), False))


def insert_request(**values: Any) -> ConsentRequest:
    return insert_row(ConsentRequest, **values)


def find_request(request_id: str) -> ConsentRequest | None:
    return select_one(ConsentRequest, ConsentRequest.id, request_id)


def answer_request(request_id: str, **values: Any) -> int:
    """pending → approved | refused (conditional: of concurrent answers one sees 1)."""
    return update_where(ConsentRequest, {"id": request_id, "status": PENDING}, **values)


def set_delivery(request_id: str, **values: Any) -> None:
    update_where(ConsentRequest, {"id": request_id}, **values)


def user_requests_page(user_id: str, *, status: str | None, now: datetime, limit: int,
                       cursor: str | None) -> tuple[list[ConsentRequest], str | None]:
    """The citizen's requests, newest first; `status` filters (expired: pending past expiry)."""
    query = ConsentRequest.select().where(ConsentRequest.user_id == user_id)
    if status == PENDING:
        query = query.where((ConsentRequest.status == PENDING) & (ConsentRequest.expires_at > now))
    elif status == EXPIRED:
        query = query.where((ConsentRequest.status == PENDING) & (ConsentRequest.expires_at <= now))
    elif status is not None:
        query = query.where(ConsentRequest.status == status)
    return newest_first(query, ConsentRequest.created_at, ConsentRequest.id, limit=limit, cursor=cursor,
                        at_of=lambda r: r.created_at, id_of=lambda r: r.id)


def deliveries_due(limit: int = 100) -> list[ConsentRequest]:
    """Answers whose direct_post has not reached the verifier yet, oldest first."""
    return list(ConsentRequest.select().where(ConsentRequest.delivery == DELIVERY_PENDING)
                .order_by(ConsentRequest.answered_at).limit(limit))
