"""The request glue every kind of delegated token shares (授权代理 for a citizen, 经办人 for an
enterprise): on each request, check the grant and record the request before it runs; after it,
record its answer — or, when it was refused before it started (the grant had ended), record the
refusal. A feature gives its own grant check and action log (`DelegationLog`) and installs them
for its kind; `auth_required` then calls the check for every token of that kind (fail closed:
a kind nobody installed is refused).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import peewee as pw
from flask import Flask, Response, g, request

from app.security.tokens import Principal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DelegationLog:
    """What a feature does for its kind: `verify` raises (401/403) when the token may not make this
    request; `start` records it before it runs (→ action id); `finish` records its answer;
    `refused` records a request refused before it started."""

    verify: Callable[[Principal], None]
    start: Callable[..., str]  # (principal=, method=, route=, request_id=) -> action id
    finish: Callable[..., None]  # (action_id=, status=, scope=)
    refused: Callable[..., None]  # (principal=, method=, route=, status=, request_id=)


def route() -> str:
    """The URL rule the request matched (not the path: no ids in the record), else the path."""
    return request.url_rule.rule if request.url_rule is not None else request.path


def install(app: Flask, kind: str, actions: DelegationLog) -> None:
    """Check and record every request made with a delegated token acting for a `kind`."""
    action_key = f"delegated_action_{kind}"

    def check(principal: Principal) -> None:
        actions.verify(principal)
        if not g.get(action_key):  # once per request
            setattr(g, action_key, actions.start(principal=principal, method=request.method, route=route(),
                                                 request_id=g.get("request_id")))

    def record_outcome(response: Response) -> Response:
        principal: Principal | None = g.get("delegated_principal")
        if principal is None or principal.kind != kind:
            return response
        try:
            action_id = g.get(action_key)
            if action_id:
                actions.finish(action_id=action_id, status=response.status_code, scope=g.get("delegated_scope"))
            else:
                actions.refused(principal=principal, method=request.method, route=route(),
                                status=response.status_code, request_id=g.get("request_id"))
        except pw.PeeweeException as exc:  # the answer is already decided; the row written before it stays
            log.error("delegated action outcome not recorded", extra={"kind": kind, "error": type(exc).__name__,
                                                                      "grant": principal.grant_id})
        return response

    app.extensions.setdefault("delegation_checks", {})[kind] = check
    app.after_request(record_outcome)
