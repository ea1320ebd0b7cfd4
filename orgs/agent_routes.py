"""Agent endpoints (经办人): the legal representative adds, lists and revokes agents; the agent sees
their invitations and accepts or declines; the LR or an active agent opens an enterprise session.
None of them accepts a delegated token: managing agents is done as oneself."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from identity.service import policy
from orgs import agent_schemas as s
from orgs import agents

blp = Blueprint("orgs_agents", __name__, url_prefix="/api/v1", description="企业经办人 (enterprise agents)")

# The assurance policies (config ASSURANCE_POLICY) as documented defaults, fixed when the routes load.
ADD_LEVEL, ADD_MAX_AGE = policy("agent_add")
REVOKE_LEVEL, REVOKE_MAX_AGE = policy("agent_revoke")
_LEVEL = "assurance_level_insufficient, step_up_required"


@blp.route("/enterprises/<enterprise_id>/agents", methods=["POST"])
@blp.arguments(s.CreateAgentSchema())
@blp.response(201, s.AgentGrantSchema())
@problems(blp, {403: f"{_LEVEL} (ASSURANCE_POLICY[\"agent_add\"]: L{ADD_LEVEL} within {ADD_MAX_AGE} s), "
                     "proxy_not_allowed",
                404: "enterprise_not_found", 409: "agent_exists",
                422: "validation_failed, agent_scope_invalid, agent_expiry_invalid, agent_not_found, agent_self"})
@auth_required(level=ADD_LEVEL, max_age=ADD_MAX_AGE, purpose="agent_add")
def add_agent(body, enterprise_id):
    """As the legal representative, invite a verified citizen to act for the enterprise; pending until accepted."""
    return agents.grant_agent(enterprise_id=enterprise_id, lr_id=current_principal().id, phone=body["phone"],
                              name=body["name"], scopes=body["scopes"], expires_at=body["expires_at"]), 201


@blp.route("/enterprises/<enterprise_id>/agents", methods=["GET"])
@blp.response(200, s.AgentGrantListSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "enterprise_not_found"})
@auth_required()
def list_agents(enterprise_id):
    """As the legal representative, every grant the enterprise gave, newest first."""
    return agents.list_agents(enterprise_id=enterprise_id, lr_id=current_principal().id)


@blp.route("/enterprises/<enterprise_id>/agents/<grant_id>", methods=["DELETE"])
@blp.response(200, s.AgentGrantSchema())
@problems(blp, {403: f"{_LEVEL} (ASSURANCE_POLICY[\"agent_revoke\"]: L{REVOKE_LEVEL} within {REVOKE_MAX_AGE} s), "
                     "proxy_not_allowed",
                404: "enterprise_not_found, agent_grant_not_found"})
@auth_required(level=REVOKE_LEVEL, max_age=REVOKE_MAX_AGE, purpose="agent_revoke")
def revoke_agent(enterprise_id, grant_id):
    """As the legal representative, revoke a grant now; the agent's enterprise tokens stop at once."""
    return agents.revoke_agent(enterprise_id=enterprise_id, grant_id=grant_id, lr_id=current_principal().id)


@blp.route("/me/enterprise-grants", methods=["GET"])
@blp.response(200, s.AgentGrantListSchema())
@problems(blp, {403: "proxy_not_allowed"})
@auth_required()
def my_enterprise_grants():
    """The grants enterprises made to me (invitations and their outcome), newest first."""
    return agents.my_grants(user_id=current_principal().id)


@blp.route("/enterprise-grants/<grant_id>/accept", methods=["POST"])
@blp.response(200, s.AgentGrantSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "agent_grant_not_found",
                409: "agent_grant_not_pending"})
@auth_required(level=2)
def accept_enterprise_grant(grant_id):
    """As the invited agent (L2), accept a pending grant: it takes effect now."""
    return agents.answer_grant(user_id=current_principal().id, grant_id=grant_id, accept=True)


@blp.route("/enterprise-grants/<grant_id>/decline", methods=["POST"])
@blp.response(200, s.AgentGrantSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "agent_grant_not_found", 409: "agent_grant_not_pending"})
@auth_required()
def decline_enterprise_grant(grant_id):
    """As the invited agent, decline a pending grant."""
    return agents.answer_grant(user_id=current_principal().id, grant_id=grant_id, accept=False)


@blp.route("/enterprises/<enterprise_id>/sessions", methods=["POST"])
@blp.response(200, s.EnterpriseSessionSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed, agent_grant_pending, agent_grant_revoked, "
                     "agent_grant_expired",
                404: "enterprise_not_found"})
@auth_required(level=2)
def open_enterprise_session(enterprise_id):
    """As the legal representative or an active agent (L2), act for the enterprise: an enterprise
    token (≤ 15 min, no refresh token) whose answers all carry `acting_for`."""
    return agents.open_session(person=current_principal(), enterprise_id=enterprise_id)
