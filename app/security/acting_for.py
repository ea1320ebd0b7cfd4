"""`acting_for` on every JSON answer to a delegated request (issue 19, plan D4).

Whoever acts for someone else — a proxy for a citizen (授权代理, kind "citizen") or an agent or
legal representative for an enterprise (经办人, kind "enterprise") — must see on every answer whom
the request was made for, so an app can never show one party's data as another's without saying
so: `acting_for: {kind, id, name, agent: {id, name_masked}}`. It is added by an after_request hook
to JSON object bodies, problem+json included (a 401 for a revoked grant names it too).

The kernel imports no feature: each feature registers a describer for its kind in
`app.extensions["acting_for"]` (proxies for "citizen", orgs for "enterprise"); it returns the
subject's display name and the actor's masked name. A kind without a describer, or a describer
that fails, still gets the ids (never a failed answer because of the label).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import marshmallow as ma
from flask import Flask, Response, current_app, g

from app.security.tokens import Principal

log = logging.getLogger(__name__)

# kind → describer(principal) -> (subject's name, actor's masked name)
Describer = Callable[[Principal], tuple[str | None, str | None]]


class ActingAgentSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "实际操作人（代办人 / 经办人）的用户 ID"})
    name_masked = ma.fields.String(allow_none=True, metadata={"example": "李*"})


class ActingForSchema(ma.Schema):
    """Documented on delegable routes; present on every answer made with a delegated token."""

    kind = ma.fields.String(metadata={"enum": ["citizen", "enterprise"],
                                      "description": "citizen：代亲友办理；enterprise：代企业办理"})
    id = ma.fields.String(metadata={"description": "被代办者：用户 ID 或企业 ID（en_…）"})
    name = ma.fields.String(allow_none=True, metadata={"description": "被代办者的名称（企业全称或脱敏姓名）"})
    agent = ma.fields.Nested(ActingAgentSchema)


def register(app: Flask, kind: str, describer: Describer) -> None:
    """A feature says how to name the subject and the actor of its kind of delegated token."""
    app.extensions.setdefault("acting_for", {})[kind] = describer


def describe(principal: Principal) -> dict[str, Any]:
    """The `acting_for` object of a delegated principal."""
    name = agent_name = None
    describer = current_app.extensions.get("acting_for", {}).get(principal.kind)
    if describer is not None:
        try:
            name, agent_name = describer(principal)
        except Exception as exc:  # noqa: BLE001 — the label must never turn an answer into a 500
            log.error("acting_for not described", extra={"kind": principal.kind, "error": type(exc).__name__})
    return {"kind": principal.kind, "id": principal.id, "name": name,
            "agent": {"id": principal.actor_id, "name_masked": agent_name}}


def _json_object_answer(response: Response) -> bool:
    mimetype = response.mimetype or ""
    return ((mimetype == "application/json" or mimetype.endswith("+json")) and not response.direct_passthrough
            and not response.is_streamed and "Content-Encoding" not in response.headers
            and response.status_code not in (204, 304))


def add_acting_for(response: Response) -> Response:
    principal: Principal | None = g.get("delegated_principal")
    if principal is None or not _json_object_answer(response):
        return response
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    body["acting_for"] = describe(principal)
    response.set_data(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return response


def init_app(app: Flask) -> None:
    """Installed after the features (app/__init__.py): Flask runs after_request hooks last-registered
    first, so the body is labelled before a feature's hook hashes (ETag) or compresses it."""
    app.extensions.setdefault("acting_for", {})
    app.after_request(add_acting_for)
