"""Request glue for enterprise tokens (经办人): the per-request check `auth_required` calls for kind
"enterprise" — the grant still holds (401), the route's scope is in it (403) — and the record of each
request and its outcome (app/security/delegation.py), and the `acting_for` describer. Reads the
request; orgs/agents.py does not."""
from __future__ import annotations

from flask import Flask, current_app

from app.security import acting_for, delegation
from app.security.auth import view_requirement
from app.security.tokens import Principal
from orgs import agents
from orgs.agent_errors import AgentScopeInsufficient

KIND = "enterprise"


def verify(principal: Principal) -> None:
    """The grant holds (401 `agent_grant_inactive`), and covers the scope of a route that serves
    enterprises (403 `agent_scope_insufficient`; a route that does not is refused by the kind check)."""
    agents.verify_grant(principal)
    requirement = view_requirement(current_app)
    if (requirement is not None and KIND in requirement.kinds
            and (requirement.delegable is None or requirement.delegable not in principal.delegated_scopes)):
        raise AgentScopeInsufficient()


def init_app(app: Flask) -> None:
    delegation.install(app, KIND, delegation.DelegationLog(
        verify=verify, start=agents.start_action, finish=agents.finish_action, refused=agents.record_refused))
    acting_for.register(app, KIND, agents.describe)
