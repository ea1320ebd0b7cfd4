"""Assurance endpoints (issue 19): my level and its history, how to step up, an SMS step-up (a
fresh L2), the one-time code a citizen shows at a counter, and the clerk's in-person check (L4).

The face step-up is the existing POST /me/liveness + /confirm (it records an L3 event); 网证 is
identity/ncid_routes.py. A refused operation answers 403 with `step_up_url` pointing here."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from identity import assurance, stepup
from identity import assurance_schemas as s

me_blp = Blueprint("assurance", __name__, url_prefix="/api/v1/me",
                   description="认证等级与二次核验 (assurance levels and step-up)")
counter_blp = Blueprint("identity_counter", __name__, url_prefix="/api/v1/counter",
                        description="窗口现场核验 (in-person identity check, L4)")


def _level(text: str) -> int:
    return int(text[1])


@me_blp.route("/assurance", methods=["GET"])
@me_blp.response(200, s.AssuranceSchema())
@auth_required()
def my_assurance():
    """My standing assurance level (the highest reached; it does not decay), how my identity was
    established, and my last 20 verifications (freshness is read from these)."""
    return assurance.assurance_view(current_principal().id)


@me_blp.route("/step-up", methods=["GET"])
@me_blp.arguments(s.StepUpQuerySchema(), location="query")
@me_blp.response(200, s.StepUpOptionsSchema())
@problems(me_blp, {422: "validation_failed"})
@auth_required()
def step_up_options(query):
    """The ways I can prove `required_level` now (a 403's `step_up_url` leads here): face (L3), 网证
    (L3/L4), an SMS code (a fresh L2 only). Start one, finish it, then retry the refused request."""
    return assurance.step_up_options(current_principal().id, required_level=_level(query["required_level"]),
                                     max_age=query["max_age"], purpose=query["purpose"])


@me_blp.route("/step-up/sms", methods=["POST"])
@me_blp.arguments(s.LevelSmsSchema())
@me_blp.response(202, s.LevelSmsSentSchema())
@problems(me_blp, {403: "assurance_level_insufficient, phone_required", 422: "validation_failed",
                   429: "sms_resend_too_soon, sms_limit_reached", 503: "sms_unavailable"})
@auth_required()
def send_level_sms(body):
    """Send an SMS step-up code to my bound phone: answering it proves a fresh L2 (needs standing L2)."""
    return stepup.send_level_step_up(user_id=current_principal().id, purpose=body["purpose"]), 202


@me_blp.route("/step-up/sms/verify", methods=["POST"])
@me_blp.arguments(s.LevelSmsVerifySchema())
@me_blp.response(200, s.SteppedUpSchema())
@problems(me_blp, {403: "assurance_level_insufficient, step_up_failed", 422: "validation_failed"})
@auth_required()
def verify_level_sms(body):
    """Answer the SMS step-up code: records a fresh L2 (never more), then retry the refused request."""
    return stepup.verify_level_step_up(user_id=current_principal().id, purpose=body["purpose"], code=body["code"])


@me_blp.route("/identity-codes", methods=["POST"])
@me_blp.response(201, s.IdentityCodeSchema())
@auth_required()
def new_identity_code():
    """A one-time 8-digit code (300 s) to show a counter clerk for the in-person check (L4; the clerk
    needs me at L3 first)."""
    return assurance.issue_identity_code(current_principal().id), 201


@counter_blp.route("/identity-checks", methods=["POST"])
@counter_blp.arguments(s.IdentityCheckSchema())
@counter_blp.response(201, s.IdentityCheckedSchema())
@problems(counter_blp, {403: "assurance_level_insufficient", 404: "identity_code_invalid", 422: "validation_failed",
                        429: "rate_limited"})
@auth_required(kinds=("staff",), roles=("clerk",))
def identity_check(body):
    """Confirm in person (the person and their ID card checked against the masked account) the citizen
    who shows this code: their account reaches L4. Audited with my id. The code is spent either way."""
    return assurance.counter_identity_check(clerk_id=current_principal().id, code=body["code"]), 201
