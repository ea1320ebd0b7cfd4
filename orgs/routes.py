"""Enterprise endpoints (企业): registration by the legal representative, and the enterprises a
citizen may act for (as LR or as an active agent). None accepts a delegated token: an agent acting
for an enterprise manages nothing here."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from orgs import schemas as s
from orgs import service as orgs
from orgs.errors import EnterpriseNotFound

blp = Blueprint("orgs", __name__, url_prefix="/api/v1", description="企业 (enterprises)")


@blp.route("/enterprises", methods=["POST"])
@blp.arguments(s.RegisterEnterpriseSchema())
@blp.response(201, s.RegisteredEnterpriseSchema())
@problems(blp, {403: "assurance_level_insufficient, step_up_required, identity_consent_required, "
                     "not_legal_representative",
                404: "enterprise_not_found", 409: "enterprise_inactive, enterprise_exists",
                422: "validation_failed, uscc_invalid, legal_rep_id_number_invalid",
                429: "enterprise_register_attempts_exceeded", 503: "business_registry_unavailable"})
@auth_required(level=3, max_age=600, purpose="enterprise_register")
def register_enterprise(body):
    """Register an enterprise as its legal representative (L3 within 600 s): the business registry
    confirms it exists, is active (存续/在业) and that I am its LR. The USCC is checked locally
    (GB 32100 + GB 11714 + region) before anything is sent."""
    return orgs.register(user_id=current_principal().id, uscc=body["uscc"],
                         legal_rep_id_number=body["legal_rep_id_number"]), 201


@blp.route("/enterprises", methods=["GET"])
@blp.response(200, s.EnterpriseListSchema())
@problems(blp, {})
@auth_required()
def list_enterprises():
    """The enterprises I may act for: as legal representative, then as an active agent (accepted, not
    revoked, not expired)."""
    return {"items": orgs.enterprises_for_user(current_principal().id)}


@blp.route("/enterprises/<enterprise_id>", methods=["GET"])
@blp.response(200, s.EnterpriseSchema())
@problems(blp, {404: "enterprise_not_found"})
@auth_required()
def get_enterprise(enterprise_id):
    """One enterprise I may act for (another's → 404, the same answer as none)."""
    user_id = current_principal().id
    role = orgs.role_of(enterprise_id, user_id)
    e = orgs.get_enterprise(enterprise_id) if role else None
    if e is None:
        raise EnterpriseNotFound()
    return {**orgs.enterprise_view(e), "role": role["role"], "scopes": role["scopes"], "expires_at": role["expires_at"]}
