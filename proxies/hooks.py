"""Request glue for proxy tokens (授权代理): the per-request grant check `auth_required` calls and
the record of each request's outcome (app/security/delegation.py, kind "citizen"), the grants a
sign-in session made (for its revocation), and what `acting_for` says of a proxy's answers."""
from __future__ import annotations

from flask import Flask

from app.security import acting_for, delegation
from app.security.tokens import Principal
from proxies import service as proxies
from proxies.models import find_grant


def describe(principal: Principal) -> tuple[str | None, str | None]:
    """`acting_for` of a proxy token (app/security/acting_for.py): the principal's and the proxy's
    masked names, as the grant keeps them."""
    grant = find_grant(principal.grant_id) if principal.grant_id else None
    if grant is None or grant.principal_id != principal.id:
        return None, None
    return grant.principal_name_masked, grant.proxy_name_masked


def init_app(app: Flask) -> None:
    # The grant still holds; each request is recorded before it runs (fail closed if it cannot be).
    delegation.install(app, "citizen", delegation.DelegationLog(
        verify=proxies.verify_grant, start=proxies.start_action, finish=proxies.finish_action,
        refused=proxies.record_refused))
    # Revoking a sign-in session (identity/session_control.py) names the grants made in it.
    app.extensions["session_grants"] = proxies.session_grants
    acting_for.register(app, "citizen", describe)
