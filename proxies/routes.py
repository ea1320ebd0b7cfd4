"""Proxy endpoints — 授权代理 / 亲友代办: grant (with a step-up), the relative's accept or decline,
list, revoke, switch into the principal's context, and the record of what was done. None of them
accepts a proxy token."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from proxies import schemas as s
from proxies import service as proxies

blp = Blueprint("proxies", __name__, url_prefix="/api/v1", description="授权代理 (authorised proxies)")


@blp.route("/proxies", methods=["POST"])
@blp.arguments(s.CreateProxySchema())
@blp.response(201, s.ProxyGrantSchema())
@problems(blp, {400: "pin_invalid", 403: "assurance_level_insufficient, proxy_not_allowed, step_up_failed",
                404: "signing_not_enrolled",
                409: "proxy_grant_exists, proxy_limit_reached",
                422: "validation_failed, phone_invalid, proxy_scope_invalid, proxy_expiry_invalid, "
                     "proxy_relative_not_found, proxy_self",
                423: "signing_locked", 429: "proxy_attempts_exceeded"})
@auth_required(level=2)
def create_proxy(body):
    """Invite a verified relative to act for me (step-up: `sms_code` or `pin`); pending until accepted."""
    principal = current_principal()
    return proxies.create_grant(principal_id=principal.id, phone=body["phone"], name=body["name"],
                                scopes=body["scopes"], expires_at=body["expires_at"],
                                session_id=principal.session_id, sms_code=body["sms_code"], pin=body["pin"]), 201


@blp.route("/proxies/<grant_id>/accept", methods=["POST"])
@blp.response(200, s.ProxyGrantSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "proxy_grant_not_found",
                409: "proxy_grant_not_pending"})
@auth_required()
def accept_proxy(grant_id):
    """As the invited relative, accept a pending grant: it takes effect now and the principal is told."""
    return proxies.answer_grant(user_id=current_principal().id, grant_id=grant_id, accept=True)


@blp.route("/proxies/<grant_id>/decline", methods=["POST"])
@blp.response(200, s.ProxyGrantSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "proxy_grant_not_found", 409: "proxy_grant_not_pending"})
@auth_required()
def decline_proxy(grant_id):
    """As the invited relative, decline a pending grant; the principal is told."""
    return proxies.answer_grant(user_id=current_principal().id, grant_id=grant_id, accept=False)


@blp.route("/proxies", methods=["GET"])
@blp.arguments(s.ProxyListArgsSchema(), location="query")
@blp.response(200, s.ProxyGrantListSchema())
@problems(blp, {403: "proxy_not_allowed", 422: "cursor_invalid, validation_failed"})
@auth_required()
def list_proxies(args):
    """Grants I gave (role=principal, default) or was given (role=proxy), newest first."""
    return proxies.list_grants(user_id=current_principal().id, role=args["role"], limit=args["limit"],
                               cursor=args["cursor"])


@blp.route("/proxies/<grant_id>", methods=["DELETE"])
@blp.response(204)
@problems(blp, {403: "proxy_not_allowed", 404: "proxy_grant_not_found"})
@auth_required()
def revoke_proxy(grant_id):
    """Revoke a grant now (or, as the proxy, give it up); its proxy tokens stop working at once."""
    proxies.revoke_grant(user_id=current_principal().id, grant_id=grant_id)
    return "", 204


@blp.route("/proxies/<grant_id>/session", methods=["POST"])
@blp.response(201, s.ProxySessionSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "proxy_grant_not_found",
                409: "proxy_grant_pending",
                410: "proxy_grant_revoked, proxy_grant_declined, proxy_grant_expired"})
@auth_required()
def open_proxy_session(grant_id):
    """Switch into the principal's context: a proxy token (≤ 15 min) for the grant's scopes."""
    return proxies.open_session(proxy=current_principal(), grant_id=grant_id), 201


@blp.route("/proxies/<grant_id>/activity", methods=["GET"])
@blp.arguments(s.ActivityArgsSchema(), location="query")
@blp.response(200, s.ProxyActionListSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "proxy_grant_not_found", 422: "cursor_invalid, validation_failed"})
@auth_required()
def proxy_activity(args, grant_id):
    """What was done under a grant (principal and proxy named), newest first."""
    return proxies.list_activity(user_id=current_principal().id, grant_id=grant_id, limit=args["limit"],
                                 cursor=args["cursor"])
