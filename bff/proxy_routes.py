"""Proxy endpoints — 授权代理 / 亲友代办: grant, list, revoke, switch into the principal's
context, and the record of what was done. None of them accepts a proxy token."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from bff import proxies
from bff import proxy_schemas as s

blp = Blueprint("proxies", __name__, url_prefix="/api/v1", description="授权代理 (authorised proxies)")


@blp.route("/proxies", methods=["POST"])
@blp.arguments(s.CreateProxySchema())
@blp.response(201, s.ProxyGrantSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 409: "proxy_grant_exists, proxy_limit_reached",
                422: "validation_failed, phone_invalid, proxy_scope_invalid, proxy_expiry_invalid, "
                     "proxy_relative_not_found, proxy_relative_not_verified, proxy_self",
                429: "proxy_attempts_exceeded"})
@auth_required()
def create_proxy(body):
    """Authorise a verified relative (phone + real name) to act for me in listed scopes until a time."""
    return proxies.create_grant(principal_id=current_principal().id, phone=body["phone"], name=body["name"],
                                scopes=body["scopes"], expires_at=body["expires_at"]), 201


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
                410: "proxy_grant_revoked, proxy_grant_expired"})
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
