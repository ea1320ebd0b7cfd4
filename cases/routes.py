"""Case endpoints — 办件进度: department events, the citizen's cases and 好差评, follow-ups."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from cases import schemas as s
from cases import service

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="办件进度与好差评 (cases and evaluation)")

_DEPT = {"kinds": ("client",), "scopes": ("cases:write",)}
_L2 = "assurance_level_insufficient"
_EVENT_PROBLEMS = {403: "insufficient_scope, forbidden", 409: "illegal_transition, seq_conflict",
                   422: "validation_failed, id_number_invalid, uscc_invalid, event_conflict, case_mismatch, "
                        "applicant_name_mismatch"}
# A citizen, or an enterprise (issue 19): its LR's or an agent's enterprise token (`cases:follow`),
# whose subject ("en_…") owns the enterprise's cases; the level is the acting person's.
_FOLLOWERS = ("citizen", "enterprise")


# --- Department systems (`cases:write`) --------------------------------------------------------------

@blp.route("/dept/case-events", methods=["POST"])
@blp.arguments(s.CaseEventSchema())
@blp.response(202, s.EventAcceptedSchema())
@problems(blp, _EVENT_PROBLEMS)
@auth_required(**_DEPT)
def post_case_event(body):
    """Push a case status event (idempotent by `event_id`, applied in `seq` order per case)."""
    return service.receive_event(client_id=current_principal().id, event=service.event_from(body)).as_dict(), 202


@blp.route("/dept/case-events:batch", methods=["POST"])
@blp.arguments(s.CaseEventBatchSchema())
@blp.response(200, s.BatchResultSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 422: "validation_failed"})
@auth_required(**_DEPT)
def post_case_events_batch(body):
    """Backfill up to 500 events; each is processed on its own and has its own result."""
    return service.receive_batch(client_id=current_principal().id, events=body["events"])


@blp.route("/dept/cases/<path:case_no>", methods=["GET"])  # case numbers may hold "/"
@blp.response(200, s.DepartmentCaseSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "case_not_found"})
@auth_required(**_DEPT)
def get_department_case(case_no):
    """One of this department's cases by case number: status, last seq applied, seqs waiting."""
    return service.department_case(client_id=current_principal().id, case_no=case_no)


@blp.route("/dept/follow-ups", methods=["GET"])
@blp.arguments(s.FollowUpListArgsSchema(), location="query")
@blp.response(200, s.FollowUpListSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 422: "cursor_invalid, validation_failed"})
@auth_required(**_DEPT)
def list_follow_ups(args):
    """This department's follow-ups of poor ratings (差评整改), oldest first."""
    return service.list_follow_ups(client_id=current_principal().id, status=args["status"],
                                   limit=args["limit"], cursor=args["cursor"])


@blp.route("/dept/follow-ups/<follow_up_id>/answer", methods=["POST"])
@blp.arguments(s.AnswerFollowUpSchema())
@blp.response(200, s.FollowUpSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "follow_up_not_found", 409: "follow_up_answered",
                422: "validation_failed"})
@auth_required(**_DEPT)
def answer_follow_up(body, follow_up_id):
    """Answer a poor rating (once); the applicant sees the answer in the case timeline."""
    return service.answer_follow_up(client_id=current_principal().id, follow_up_id=follow_up_id,
                                    answer=body["answer"])


# --- Citizens (我的办件, L2+) ------------------------------------------------------------------------

@blp.route("/cases", methods=["GET"])
@blp.arguments(s.CaseListArgsSchema(), location="query")
@blp.response(200, s.CaseListSchema())
@problems(blp, {403: _L2, 422: "cursor_invalid, validation_failed"})
@auth_required(kinds=_FOLLOWERS, delegable="cases:follow", level=2)
def list_cases(args):
    """My cases, newest first (cursor pagination; optionally one status)."""
    return service.list_cases(user_id=current_principal().id, limit=args["limit"], cursor=args["cursor"],
                              status=args["status"])


@blp.route("/cases/evaluation-tags", methods=["GET"])
@blp.response(200, s.EvaluationTagCatalogueSchema())
def evaluation_tags():
    """The 好差评 tags per rating level (codes to send with an evaluation, and their words)."""
    return service.evaluation_tags()


@blp.route("/cases/<case_id>", methods=["GET"])
@blp.response(200, s.CaseDetailSchema())
@problems(blp, {403: _L2, 404: "case_not_found"})
@auth_required(kinds=_FOLLOWERS, delegable="cases:follow")
def get_case(case_id):
    """One of my cases with its timeline, SLA clock and evaluation."""
    return service.get_case(user_id=current_principal().id, case_id=case_id)


@blp.route("/cases/<case_id>/evaluation", methods=["POST"])
@blp.arguments(s.EvaluateSchema())
@blp.response(201, s.EvaluationSchema())
@problems(blp, {403: _L2, 404: "case_not_found", 409: "case_not_concluded, evaluation_exists",
                422: "evaluation_reason_required, evaluation_tag_invalid, validation_failed"})
@auth_required(level=2)
def evaluate_case(body, case_id):
    """Rate a concluded case (好差评, once): 5 非常满意 … 1 非常不满意; 1–2 need a reason."""
    return service.evaluate(user_id=current_principal().id, case_id=case_id, rating=body["rating"],
                            tags=body["tags"], comment=body["comment"]), 201
