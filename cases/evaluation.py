"""好差评 (GB/T 39734/39735): the applicant rates a concluded case once; a 差评 (1–2) carries a
reason and opens a follow-up (整改回访) the department answers within N working days."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import peewee as pw
from flask import current_app

from app import audit, calendar, i18n
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_
from app.pagination import decode_cursor, encode_cursor
from cases import citizen, models, notices
from cases import tags as tag_catalogue
from cases.errors import (
    CaseNotConcluded, EvaluationExists, EvaluationReasonRequired, EvaluationTagInvalid, FollowUpAnswered,
    FollowUpNotFound,
)
from cases.models import FollowUp
from cases.statuses import CONCLUDED

POOR = 2  # ratings at or below: 差评


def evaluate(*, user_id: str, case_id: str, rating: int, tags: list[str], comment: str | None) -> dict[str, Any]:
    """Rate one of my concluded cases (once). CaseNotFound, CaseNotConcluded, EvaluationExists,
    EvaluationReasonRequired (a 1–2 rating without tags or comment), EvaluationTagInvalid (a tag
    of another rating level: the catalogue is cases/tags.py)."""
    citizen.require_verified(user_id)
    case = citizen.own_case(user_id, case_id)
    comment = (comment or "").strip() or None
    tags = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    allowed = tag_catalogue.allowed(rating)
    invalid = [t for t in tags if t not in allowed]
    if invalid:
        raise EvaluationTagInvalid(rating=rating, invalid=invalid, allowed=allowed)
    if rating <= POOR and not (tags or comment):
        raise EvaluationReasonRequired(errors={"comment": [N_("请说明不满意的原因，或选择标签。")]})
    if case.status not in CONCLUDED:
        raise CaseNotConcluded()
    now = utcnow()
    try:
        with unit_of_work():
            # The case row is the one place a rating and the reminder command meet: whoever sets
            # `rated_at` first wins (see cases/tasks.py).
            if not models.mark_rated(case.id, now):
                raise EvaluationExists()
            evaluation = models.insert_evaluation(
                id=new_id("eval"), case=case.id, user_id=user_id, rating=rating,
                tags=json.dumps(tags, ensure_ascii=False),
                comment_enc=current_app.extensions["pii"].encrypt(comment, "evaluation.comment") if comment else None,
                created_at=now)
            models.insert_timeline_entry(case=case.id, kind="evaluation", message=citizen.RATING_LABELS[rating],
                                         occurred_at=now, created_at=now)
            if rating <= POOR:
                models.insert_follow_up(id=new_id("fu"), case=case.id, evaluation=evaluation.id,
                                        client_id=case.client_id, rating=rating, status="open",
                                        due_date=follow_up_due(now), created_at=now)
            audit.record("cases.evaluated", actor_kind="citizen", actor_id=user_id, target=case.id,
                         details={"rating": rating})
    except pw.IntegrityError:  # the unique evaluation per case, reached concurrently
        raise EvaluationExists() from None
    return citizen.evaluation_view(evaluation)


def follow_up_due(now: datetime) -> date:
    days = current_app.config["CASES_FOLLOW_UP_WORKING_DAYS"]
    return calendar.working_days_after(calendar.china_now(now).date(), days)[-1]


# --- The department's follow-ups (整改回访) -------------------------------------------------------

def list_follow_ups(*, client_id: str, status: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> dict[str, Any]:
    """This department's follow-ups, oldest first (open ones are worked through in order)."""
    limit = max(1, min(limit, citizen.MAX_LIMIT))
    after = decode_cursor(cursor) if cursor else None
    page = models.department_follow_ups(client_id=client_id, status=status, after=after, limit=limit + 1)
    last = page[limit - 1] if len(page) > limit else None
    return {"items": [_follow_up_view(row) for row in page[:limit]],
            "next_cursor": encode_cursor(last.created_at, last.id) if last else None}


def _follow_up_view(row: FollowUp) -> dict[str, Any]:
    case, evaluation = row.case, row.evaluation
    today = calendar.china_now().date()
    return {
        "id": row.id, "case_id": case.id, "case_no": case.case_no, "item_code": case.item_code,
        "item_name": case.item_name, "rating": row.rating, "rating_label": i18n.label("rating", row.rating),
        "tags": json.loads(evaluation.tags), "tag_labels": tag_catalogue.labels(json.loads(evaluation.tags)),
        "comment": citizen.decrypt_comment(evaluation),
        "applicant": {"name_masked": citizen.applicant_view(case)["name_masked"]},
        "status": row.status, "due_date": row.due_date, "overdue": row.status == "open" and today > row.due_date,
        "answer": row.answer, "answered_at": row.answered_at, "created_at": row.created_at,
    }


def answer_follow_up(*, client_id: str, follow_up_id: str, answer: str) -> dict[str, Any]:
    """Answer a 差评 (once): the answer shows in the citizen's case timeline."""
    row = models.find_follow_up(client_id, follow_up_id)
    if row is None:
        raise FollowUpNotFound()
    now, answer = utcnow(), answer.strip()
    with unit_of_work():
        if not models.mark_answered(row.id, answer=answer, now=now):
            raise FollowUpAnswered()
        models.insert_timeline_entry(case=row.case.id, kind="follow_up", message=answer, occurred_at=now,
                                     created_at=now)
        audit.record("cases.follow_up_answered", actor_kind="client", actor_id=client_id, target=row.case.id,
                     details={"follow_up": row.id})
        if row.case.user_id is not None:
            notices.follow_up_answered(row.case, follow_up_id=row.id)
    row.status, row.answer, row.answered_at = "answered", answer, now
    return _follow_up_view(row)
