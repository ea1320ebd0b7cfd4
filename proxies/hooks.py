"""Request glue for proxy tokens (授权代理): the per-request grant check `auth_required` calls,
the record of each request's outcome, and the grants a sign-in session made (for its revocation).
Reads the request; the service functions do not."""
from __future__ import annotations

import logging

import peewee as pw
from flask import Flask, Response, g, request

from app.security.tokens import Principal
from proxies import service as proxies

log = logging.getLogger(__name__)


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else request.path


def check_delegation(principal: Principal) -> None:
    """The grant still holds; the request is recorded before it runs (fail closed if it cannot be)."""
    proxies.verify_grant(principal)
    g.proxy_action_id = proxies.start_action(principal=principal, method=request.method, route=_route(),
                                             request_id=g.get("request_id"))


def record_outcome(response: Response) -> Response:
    principal: Principal | None = g.get("delegated_principal")
    if principal is None:
        return response
    try:
        action_id = g.get("proxy_action_id")
        if action_id:
            proxies.finish_action(action_id=action_id, status=response.status_code, scope=g.get("delegated_scope"))
        else:
            proxies.record_refused(principal=principal, method=request.method, route=_route(),
                                   status=response.status_code, request_id=g.get("request_id"))
    except pw.PeeweeException as exc:  # the answer is already decided; the row written before it stays
        log.error("proxy action outcome not recorded", extra={"error": type(exc).__name__,
                                                              "grant": principal.grant_id})
    return response


def init_app(app: Flask) -> None:
    app.extensions.setdefault("delegation_checks", {})["citizen"] = check_delegation
    # Revoking a sign-in session (identity/session_control.py) names the grants made in it.
    app.extensions["session_grants"] = proxies.session_grants
    app.after_request(record_outcome)
