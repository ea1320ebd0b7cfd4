"""The citizen's cases (我的办件): their own cases (L2+), newest first, each with its timeline.

Another citizen's case, or a case still parked, is not found (no probing by id).
"""
from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app

from app import i18n
from app.db import utcnow
from app.i18n import N_
from app.security.pii import DecryptionError, mask_id_number, mask_name
from cases import clock, models, tags
from cases.errors import CaseNotFound
from cases.models import Case, Evaluation, TimelineEntry
from cases.statuses import CONCLUDED, FINAL
from identity import service as identity
from orgs import service as orgs

MAX_LIMIT = 50
RATING_LABELS = {5: N_("非常满意"), 4: N_("满意"), 3: N_("基本满意"), 2: N_("不满意"), 1: N_("非常不满意")}  # GB/T 39734
i18n.register_labels("rating", RATING_LABELS)
_RATING_BY_LABEL = {text: rating for rating, text in RATING_LABELS.items()}
i18n.register_labels("timeline_kind", {"evaluation": N_("服务评价"), "follow_up": N_("部门答复")})


def require_verified(user_id: str) -> None:
    """403 unless the citizen stands at L2. An enterprise (the subject of an enterprise token, issue 19)
    has no level of its own: the route's `auth_required(level=…)` checked the person acting for it."""
    if orgs.is_enterprise_id(user_id):
        return
    identity.require_level(user_id, 2)


def list_cases(*, user_id: str, limit: int = 20, cursor: str | None = None,
               status: str | None = None) -> dict[str, Any]:
    """The citizen's cases, newest first (`next_cursor` null on the last page); optionally one status."""
    require_verified(user_id)
    limit = max(1, min(limit, MAX_LIMIT))
    page, next_cursor = models.citizen_cases_page(user_id=user_id, status=status, limit=limit, cursor=cursor)
    now = utcnow()
    return {"items": [summary(case, now) for case in page], "next_cursor": next_cursor}


def home_cases(*, user_id: str, window: int, count: int) -> list[dict[str, Any]]:
    """The citizen's active cases among their newest `window` (still moving, or concluded and
    waiting for their 好差评), newest first, at most `count`, as the home screen shows them: id,
    case_no, item_name, department_name, status, status_label, status_at, overdue and can_evaluate,
    as `summary` has them. One query of only those columns; the times of the cases kept are the
    only ones converted. The caller has checked that the citizen stands at L2, as `list_cases` does
    (the home screen reads the account once for all of its parts)."""
    now, cards = utcnow(), []
    for case_id, case_no, item_name, department_name, status, status_at, rated, due, paused in \
            models.citizen_recent_cases(user_id, max(1, min(window, MAX_LIMIT))):
        can_evaluate = status in CONCLUDED and not rated
        if status in FINAL and not can_evaluate:
            continue
        clock_state = SimpleNamespace(status=status, due_date=Case.due_date.python_value(due),
                                      paused_since=Case.paused_since.python_value(paused))
        cards.append({"id": case_id, "case_no": case_no, "item_name": item_name, "department_name": department_name,
                      "status": status, "status_label": i18n.label("case_status", status),
                      "status_at": Case.status_at.python_value(status_at), "overdue": clock.overdue(clock_state, now),
                      "can_evaluate": can_evaluate})
        if len(cards) == count:
            break
    return cards


def summary(case: Case, now: datetime) -> dict[str, Any]:
    return {
        "id": case.id, "case_no": case.case_no, "item_code": case.item_code, "item_name": case.item_name,
        "department_name": case.department_name, "channel": case.channel, "status": case.status,
        "status_label": i18n.label("case_status", case.status), "status_at": case.status_at, "submitted_at": case.submitted_at,
        "tracking_no": case.tracking_no, "supplement_due": case.supplement_due, "clock": clock.view(case, now),
        "rated": case.rated_at is not None,
        "can_evaluate": case.status in CONCLUDED and case.rated_at is None,
        "created_at": case.created_at, "updated_at": case.updated_at,
    }


def own_case(user_id: str, case_id: str) -> Case:
    case = models.find_own_case(case_id, user_id)
    if case is None or case.status is None:
        raise CaseNotFound()
    return case


def get_case(*, user_id: str, case_id: str) -> dict[str, Any]:
    """One of the citizen's cases with its timeline, evaluation and the department's follow-up answer."""
    require_verified(user_id)
    case = own_case(user_id, case_id)
    view = summary(case, utcnow())
    view["applicant"] = applicant_view(case)
    view["timeline"] = [timeline_view(e) for e in models.timeline_of(case.id)]
    evaluation = models.evaluation_of(case.id)
    view["evaluation"] = evaluation_view(evaluation) if evaluation else None
    return view


def timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    """One timeline entry; `label` is its heading in the answer's language (a status, 服务评价 or
    部门答复); an evaluation's message is its rating label, stored in Chinese, shown localised."""
    message = entry.message
    if entry.kind == "evaluation" and message in _RATING_BY_LABEL:
        message = i18n.label("rating", _RATING_BY_LABEL[message])
    heading = (i18n.label("case_status", entry.status) if entry.kind == "status"
               else i18n.label("timeline_kind", entry.kind))
    return {"kind": entry.kind, "label": heading, "seq": entry.seq, "status": entry.status,
            "status_label": i18n.label("case_status", entry.status), "message": message,
            "tracking_no": entry.tracking_no, "supplement_due": entry.supplement_due, "occurred_at": entry.occurred_at}


def applicant_view(case: Case) -> dict[str, str | None]:
    """A person masked; an enterprise by its name and USCC (public register data)."""
    c = current_app.extensions["pii"]
    if case.applicant_kind == "enterprise":
        try:
            name = c.decrypt(case.applicant_name_enc, "case.applicant_name")
            return {"kind": "enterprise", "name_masked": name, "uscc": c.decrypt(case.applicant_id_enc, "case.applicant_id")}
        except DecryptionError:
            return {"kind": "enterprise", "name_masked": None, "uscc": None}
    try:
        return {"name_masked": mask_name(c.decrypt(case.applicant_name_enc, "case.applicant_name")),
                "id_number_masked": mask_id_number(c.decrypt(case.applicant_id_enc, "case.applicant_id"))}
    except DecryptionError:
        return {"name_masked": None, "id_number_masked": None}


def evaluation_view(evaluation: Evaluation) -> dict[str, Any]:
    follow_up = models.follow_up_of(evaluation.id)
    return {
        "id": evaluation.id, "rating": evaluation.rating, "rating_label": i18n.label("rating", evaluation.rating),
        "tags": json.loads(evaluation.tags), "tag_labels": tags.labels(json.loads(evaluation.tags)),
        "comment": decrypt_comment(evaluation),
        "created_at": evaluation.created_at,
        "follow_up": None if follow_up is None else {
            "status": follow_up.status, "due_date": follow_up.due_date, "answer": follow_up.answer,
            "answered_at": follow_up.answered_at},
    }


def decrypt_comment(evaluation: Evaluation) -> str | None:
    if evaluation.comment_enc is None:
        return None
    try:
        return current_app.extensions["pii"].decrypt(evaluation.comment_enc, "evaluation.comment")
    except DecryptionError:
        return None


# --- The department's view of one of its cases ---------------------------------------------------

def department_case(*, client_id: str, case_no: str) -> dict[str, Any]:
    """A case as its department sees it: status, the last seq applied and the seqs still waiting
    for a gap to fill (so a stuck case shows which event is missing)."""
    case = models.find_case_by_number(client_id, case_no)
    if case is None:
        raise CaseNotFound()
    return {**summary(case, utcnow()), "last_seq": case.last_seq, "pending_seqs": models.pending_seqs(case.id),
            "parked": case.user_id is None}
