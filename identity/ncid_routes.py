"""网号 endpoints (CONTRACTS C): sessions, login, link / unlink, step-up, identity consents."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, client_ip, current_principal
from identity import ncid_consent, ncid_login
from identity import ncid_schemas as s
from identity import schemas as identity_schemas

auth_blp = Blueprint("ncid_auth", __name__, url_prefix="/api/v1",
                     description="网号登录 (national network identity login)")
me_blp = Blueprint("ncid_me", __name__, url_prefix="/api/v1/me",
                   description="我的网号与身份信息授权 (网号 link, step-up, identity consents)")

_AUTH_PROBLEMS = "ncid_session_invalid, ncid_result_invalid"


def _proof(body: dict) -> dict:
    return {k: body.get(k) for k in ("biz_seq", "id_card_auth_data", "cert_pwd_data", "auth_mode")}


@auth_blp.route("/auth/ncid/sessions", methods=["POST"])
@auth_blp.arguments(s.NcidLoginSessionRequestSchema())
@auth_blp.response(201, s.NcidSessionSchema())
@problems(auth_blp, {422: "validation_failed", 429: "ncid_rate_limited"})
def start_login_session(body):
    """Start a 网号 login: the bizSeq and parameters for wx.ncidas / the national app."""
    return ncid_login.start_session(purpose="login", ip=client_ip())


@auth_blp.route("/auth/ncid/login", methods=["POST"])
@auth_blp.arguments(s.NcidProofSchema())
@auth_blp.response(200, s.NcidTokensSchema())
@problems(auth_blp, {400: _AUTH_PROBLEMS, 403: "ncid_auth_failed", 422: "validation_failed",
                     503: "ncid_unavailable"})
def ncid_login_route(body):
    """Log in with 网号; the first login creates an account without phone, name or ID number."""
    channel = "miniprogram" if request.headers.get("X-Client") == "miniprogram" else "app"
    return ncid_login.login_with_ncid(proof=_proof(body), ip=client_ip(), channel=channel)


@me_blp.route("/ncid/sessions", methods=["POST"])
@me_blp.arguments(s.NcidSessionRequestSchema())
@me_blp.response(201, s.NcidSessionSchema())
@problems(me_blp, {422: "validation_failed"})
@auth_required()
def start_session(body):
    """Start a 网号 authentication bound to my account (link, step-up or consent)."""
    return ncid_login.start_session(purpose=body["purpose"], user_id=current_principal().id)


@me_blp.route("/ncid", methods=["POST"])
@me_blp.arguments(s.NcidProofSchema())
@me_blp.response(200, identity_schemas.UserSchema())
@problems(me_blp, {400: _AUTH_PROBLEMS, 403: "ncid_auth_failed", 409: "ncid_linked_elsewhere, ncid_already_linked",
                   422: "validation_failed", 503: "ncid_unavailable"})
@auth_required()
def link(body):
    """Link a 网号 to my account (a fresh 网号 authentication is the proof); then either logs in."""
    return ncid_login.link_ncid(user_id=current_principal().id, proof=_proof(body))


@me_blp.route("/ncid", methods=["DELETE"])
@me_blp.response(200, identity_schemas.UserSchema())
@problems(me_blp, {403: "assurance_level_insufficient, step_up_required",
                   409: "ncid_not_linked, ncid_last_login_method"})
@auth_required()
def unlink():
    """Unlink my 网号 (L2 within 300 s); refused when it is my only way to log in."""
    return ncid_login.unlink_ncid(user_id=current_principal().id)


@me_blp.route("/ncid/step-up", methods=["POST"])
@me_blp.arguments(s.NcidProofSchema())
@me_blp.response(200, s.NcidStepUpSchema())
@problems(me_blp, {400: _AUTH_PROBLEMS, 403: "ncid_auth_failed, ncid_account_mismatch", 409: "ncid_not_linked",
                   422: "validation_failed", 503: "ncid_unavailable"})
@auth_required()
def step_up(body):
    """Prove a level now with my own 网号 (网证 R01–R04): an assurance event."""
    return ncid_login.step_up_ncid(user_id=current_principal().id, proof=_proof(body))


@me_blp.route("/identity-consents", methods=["POST"])
@me_blp.arguments(s.IdentityConsentRequestSchema())
@me_blp.response(201, s.IdentityConsentSchema())
@problems(me_blp, {400: _AUTH_PROBLEMS, 403: "ncid_auth_failed, identity_consent_required, ncid_account_mismatch",
                   409: "ncid_not_linked, ncid_identity_held", 422: "validation_failed", 503: "ncid_unavailable"})
@auth_required()
def give_consent(body):
    """Consent once, for one purpose, to receive my identity from the national platform."""
    return ncid_consent.give_consent(user_id=current_principal().id, purpose=body["purpose"], proof=_proof(body))
