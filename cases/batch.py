"""Backfills: many department events in one request, each processed (and answered) on its own.

Events are applied case by case in seq order (a backfill sent in any order needs no pending
step); each has its own transaction, so one refused event leaves the others in place. The
answer lists the results in the order sent, each with the status code it would have had alone.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from app import business_metrics
from app.errors import AppError, ValidationFailed, flatten_messages
from cases.events import ENTERPRISE, PERSON, EventIn, receive_event
from cases.schemas import CaseEventSchema

_schema = CaseEventSchema()


def event_from(body: dict[str, Any]) -> EventIn:
    """An EventIn from a loaded CaseEventSchema body."""
    applicant = body["applicant"]
    enterprise = applicant.get("uscc") is not None  # an enterprise applicant (issue 19)
    return EventIn(event_id=body["event_id"], case_no=body["case_no"], applicant_name=applicant["name"],
                   applicant_id_number=applicant["uscc"] if enterprise else applicant["id_number"],
                   applicant_kind=ENTERPRISE if enterprise else PERSON, item_code=body["item_code"],
                   item_name=body["item_name"], status=body["status"], seq=body["seq"],
                   occurred_at=body["occurred_at"], message=body["message"], tracking_no=body["tracking_no"],
                   promised_days=body["promised_days"], channel=body["channel"],
                   supplement_due=body.get("supplement_due"))


def _refused(index: int, event_id: Any, exc: AppError) -> dict[str, Any]:
    item = {"index": index, "accepted": False, "duplicate": bool(exc.extra.get("duplicate", False)),
            "http_status": exc.status, "code": exc.code, "detail": exc.detail}
    if isinstance(event_id, str):
        item["event_id"] = event_id
    if exc.errors:
        item["errors"] = exc.errors
    return item


def receive_batch(*, client_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate and receive each raw event; `{items (in the order sent), accepted, rejected}`."""
    results: list[dict[str, Any] | None] = [None] * len(events)
    loaded: list[tuple[int, EventIn]] = []
    for index, raw in enumerate(events):
        try:
            loaded.append((index, event_from(_schema.load(raw))))
        except ma.ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            results[index] = _refused(index, raw.get("event_id"),
                                      ValidationFailed(errors=flatten_messages({"json": messages})))
    for index, event in sorted(loaded, key=lambda pair: (pair[1].case_no, pair[1].seq, pair[0])):
        try:
            results[index] = {"index": index, **receive_event(client_id=client_id, event=event).as_dict(),
                              "http_status": 202}
        except AppError as exc:
            results[index] = _refused(index, event.event_id, exc)
    for item in results:  # yiwang_case_events_total: each event of the backfill, as if sent alone
        business_metrics.count(business_metrics.CASE_EVENTS, "ok" if item["accepted"] else item["code"])
    accepted = sum(1 for r in results if r and r["accepted"])
    return {"items": results, "accepted": accepted, "rejected": len(results) - accepted}
