"""The issuer registry's admin API: /api/v1/admin/issuers (scope `issuers:admin`).

Who manages the registry: a machine client holding the scope `issuers:admin` (the province's
platform operations system), not a staff account: the admin staff role is for people at the
counter's back office, and the registry's changes come from the operators' own tooling or from
`flask issuers …`. Every change is audited with the department's state before and after.

Also here: the check that every request needing `licences:issue` comes from a client registered to
an active department (403 issuer_not_registered / issuer_suspended) — run before the request's
body is parsed, so 401 → 403 → 422 holds for the wallet's issuing routes and any later one.
"""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, authorise, current_principal, view_requirement
from issuers import schemas as s
from issuers import service
from issuers.service import Actor

blp = Blueprint("issuers_admin", __name__, url_prefix="/api/v1/admin/issuers",
                description="发证机关登记 (issuer registry, admin; scope issuers:admin)")

_ADMIN = {"kinds": ("client",), "scopes": ("issuers:admin",)}
ISSUING_SCOPE = "licences:issue"


def _actor() -> Actor:
    return Actor("client", current_principal().id)


@blp.route("", methods=["GET"])
@blp.arguments(s.IssuerListArgsSchema(), location="query")
@blp.response(200, s.IssuerListSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 422: "validation_failed"})
@auth_required(**_ADMIN)
def list_issuers(args):
    """Every registered department (suspended ones too unless `status` filters), by name."""
    items = service.list_views(active_only=False)
    if args["status"]:
        items = [i for i in items if i["status"] == args["status"]]
    return {"items": items}


@blp.route("", methods=["POST"])
@blp.arguments(s.IssuerCreateSchema())
@blp.response(201, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 409: "uscc_taken",
                422: "validation_failed, uscc_invalid, region_invalid, issuer_types_invalid"})
@auth_required(**_ADMIN)
def register_issuer(body):
    """Register an issuing department (active), audited."""
    issuer = service.register(uscc_code=body["uscc"], name=body["name"], region=body["region"], types=body["types"],
                              actor=_actor())
    return service.issuer_view(issuer)


@blp.route("/<issuer_id>", methods=["GET"])
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found"})
@auth_required(**_ADMIN)
def get_issuer(issuer_id):
    """One department with its clients."""
    return service.issuer_view(service.get_issuer(issuer_id))


@blp.route("/<issuer_id>", methods=["PATCH"])
@blp.arguments(s.IssuerUpdateSchema())
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found", 409: "uscc_taken, uscc_fixed",
                422: "validation_failed, empty_update, uscc_invalid, region_invalid, issuer_types_invalid"})
@auth_required(**_ADMIN)
def update_issuer(body, issuer_id):
    """Change a department's name, region or licence types (or record a carried-over one's USCC), audited."""
    issuer = service.update(issuer_id, name=body.get("name"), region=body.get("region"), types=body.get("types"),
                            uscc_code=body.get("uscc"), actor=_actor())
    return service.issuer_view(issuer)


@blp.route("/<issuer_id>/suspend", methods=["POST"])
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found"})
@auth_required(**_ADMIN)
def suspend_issuer(issuer_id):
    """Suspend a department: its clients are refused (403 issuer_suspended) until it resumes; audited."""
    return service.issuer_view(service.set_status(issuer_id, "suspended", actor=_actor()))


@blp.route("/<issuer_id>/resume", methods=["POST"])
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found", 409: "issuer_uscc_missing"})
@auth_required(**_ADMIN)
def resume_issuer(issuer_id):
    """Resume a suspended department (a carried-over one needs its USCC and region first); audited."""
    return service.issuer_view(service.set_status(issuer_id, "active", actor=_actor()))


@blp.route("/<issuer_id>/clients/<client_id>", methods=["PUT"])
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found", 409: "client_bound_elsewhere",
                422: "client_unknown"})
@auth_required(**_ADMIN)
def bind_client(issuer_id, client_id):
    """Bind a machine client to the department (idempotent; a client acts for one department); audited."""
    return service.issuer_view(service.bind_client(issuer_id, client_id, actor=_actor()))


@blp.route("/<issuer_id>/clients/<client_id>", methods=["DELETE"])
@blp.response(200, s.IssuerSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found", 409: "client_not_bound"})
@auth_required(**_ADMIN)
def unbind_client(issuer_id, client_id):
    """Unbind a machine client from the department; audited."""
    return service.issuer_view(service.unbind_client(issuer_id, client_id, actor=_actor()))


# --- Issuing clients act for a registered, active department ----------------------------------

def init_issuing_check(app: Flask) -> None:
    """Before any route needing `licences:issue` parses its input: the caller authenticated and
    authorised (401/403 as the route states), then registered to an active department (403)."""

    @app.before_request
    def _issuing_client_registered() -> None:
        requirement = view_requirement(current_app)
        if requirement is None or ISSUING_SCOPE not in requirement.scopes:
            return
        principal = g.get("principal") if g.get("authorised_for") is requirement else None
        if principal is None:
            principal = authorise(requirement)  # the kernel's hook runs after the features' ones
        service.issuer_for_client(principal.id)
