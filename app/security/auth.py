"""Bearer authentication for routes: `@auth_required(...)` and `current_principal()`.

The decorator verifies the access token, refuses sessions revoked by logout
or refresh-token reuse, checks kind / role / scope / delegation / assurance level,
and documents the bearer requirement in the OpenAPI spec. The checks run in a
before_request hook (`init_app`), before any argument is parsed: 401 → 403 → 422
on every operation, whatever the order of a route's decorators (issue 14 item 10).

The kernel imports no feature: what it asks of the identity feature (a session's revocation in
the database, the citizen's assurance level) the feature registers with `use_identity`.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

from flask import Flask, current_app, g, request

from app.db import utcnow
from app.errors import AppError, Forbidden, Unauthorized
from app.i18n import N_
from app.redis import get_redis, publish_many
from app.security.tokens import InvalidToken, Principal

log = logging.getLogger(__name__)

BEARER_SECURITY = [{"bearerAuth": []}]
REVOKED_KEY = "auth:revoked-session:{}"
# A message here ends the session's open live streams at once (notify/stream.py subscribes to it).
SESSION_REVOKED_CHANNEL = "auth:session-revoked:{}"
# Set once the database's recent revocations are in this Redis. Missing when Redis lost its data (a
# restart without persistence, a flush): revoked sessions would come back to life until their access
# tokens expire, so the revocations are loaded again from `auth_session.revoked_at` first.
REVOCATIONS_LOADED_KEY = "auth:revocations-loaded"
_RELOADING_KEY = "auth:revocations-reloading"


class InvalidAccessToken(Unauthorized):
    code, detail = "token_invalid", N_("登录凭证无效或已过期，请重新登录。")


class InsufficientScope(Forbidden):
    code, detail = "insufficient_scope", N_("该客户端无权调用此接口。")


class ProxyNotAllowed(Forbidden):
    code, detail = "proxy_not_allowed", N_("代办身份不能进行此操作，请切换回本人账号。")


class DelegationUnchecked(InvalidAccessToken):
    code, detail = "proxy_grant_inactive", N_("代办授权已撤销或已过期。")


@dataclass(frozen=True)
class IdentityHooks:
    """What authentication asks of the identity feature (it registers them: `use_identity`)."""

    session_revoked: Callable[[str], bool]  # the database's word on one session
    revocations_since: Callable[[datetime], list[tuple[str, datetime]]]  # (session id, revoked at)
    # (user id, level, max_age or None, purpose or None): 403 assurance_level_insufficient below the
    # level, step_up_required when it was not proved within max_age seconds (identity/assurance.py)
    require_level: Callable[[str, int, int | None, str | None], None]


def use_identity(app: Flask, hooks: IdentityHooks) -> None:
    """Register the identity feature's answers (identity.init_app)."""
    app.extensions["auth_identity"] = hooks


def _identity() -> IdentityHooks:
    hooks = current_app.extensions.get("auth_identity")
    if hooks is None:  # no identity feature registered: fail closed
        raise AppError(status=500, code="internal_error", detail=N_("服务器内部错误，请稍后再试。"))
    return hooks


def revoke_session_tokens(session_id: str) -> None:
    """Refuse the session's outstanding access tokens until they would have expired anyway, and tell
    the session's open live streams to end (SESSION_REVOKED_CHANNEL)."""
    ttl = current_app.config["ACCESS_TOKEN_TTL"] + 60
    client = get_redis()
    client.set(REVOKED_KEY.format(session_id), "1", ex=ttl)
    # Streams also re-check the key on every heartbeat, so a lost message only delays their end.
    publish_many(client, [(SESSION_REVOKED_CHANNEL.format(session_id), "revoked")])


def session_revoked(session_id: str) -> bool:
    """Whether a session was revoked (logout, refresh-token reuse): open live streams ask on every
    heartbeat. Needs an app context; the database is asked only after Redis lost its data."""
    return _session_revoked(session_id)


def _session_revoked(session_id: str) -> bool:
    """Whether the session's access tokens are revoked: one Redis round trip, the database only
    after Redis lost its data (see REVOCATIONS_LOADED_KEY)."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.exists(REVOKED_KEY.format(session_id))
    pipe.exists(REVOCATIONS_LOADED_KEY)
    revoked, loaded = pipe.execute()
    if revoked:
        return True
    if loaded:
        return False
    return _reload_revocations(session_id)


def _reload_revocations(session_id: str) -> bool:
    """Put the revocations still in force (sessions revoked within an access token's life) back into
    Redis, then mark them loaded; whether `session_id` is revoked. One request reloads, the others
    meanwhile ask the database about their own session."""
    identity = _identity()
    redis, ttl = get_redis(), current_app.config["ACCESS_TOKEN_TTL"] + 60
    if not redis.set(_RELOADING_KEY, "1", nx=True, ex=30):
        return identity.session_revoked(session_id)
    now = utcnow()
    recent = identity.revocations_since(now - timedelta(seconds=ttl))
    pipe = redis.pipeline(transaction=False)
    for revoked_id, revoked_at in recent:
        pipe.set(REVOKED_KEY.format(revoked_id), "1", ex=max(1, ttl - int((now - revoked_at).total_seconds())))
    pipe.set(REVOCATIONS_LOADED_KEY, "1")
    pipe.delete(_RELOADING_KEY)
    pipe.execute()
    log.warning("session revocations reloaded into Redis", extra={"sessions": len(recent)})
    return any(revoked_id == session_id for revoked_id, _ in recent)


def _authenticate() -> Principal:
    header = request.environ.get("HTTP_AUTHORIZATION", "")  # request.headers.get("Authorization", ""), one lookup
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    try:
        principal = current_app.extensions["tokens"].verify(token.strip())
    except InvalidToken as exc:
        log.info("access token refused", extra={"reason": str(exc)})
        raise InvalidAccessToken() from exc
    if principal.session_id and _session_revoked(principal.session_id):
        raise InvalidAccessToken()
    if principal.delegated:
        g.delegated_principal = principal  # recorded as a proxy action, whatever the outcome
        # The grant is checked on every request (a cached, still-unexpired token included): its
        # revocation or expiry takes effect at once. One checker per subject kind (proxies: "citizen",
        # orgs: "enterprise"); no checker for the kind → refused (fail closed).
        check = current_app.extensions.get("delegation_checks", {}).get(principal.kind)
        if check is None:
            raise DelegationUnchecked()
        check(principal)
    return principal


@dataclass(frozen=True)
class Requirement:
    """What a route asks of its caller (`auth_required`): checked before the request's input is parsed."""

    kinds: frozenset[str]
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    delegable: str | None = None
    level: int | None = None
    max_age: int | None = None  # the level proved within this many seconds (a step-up), None: standing level
    purpose: str | None = None  # named in the refusal's step_up_url
    # The kinds of delegated token `delegable` admits (None: every kind — a relative's proxy token for a
    # citizen, an agent's for an enterprise); e.g. the inbox admits agents but not a relative's proxy.
    delegable_kinds: frozenset[str] | None = None


def auth_required(
    *,
    kinds: Iterable[str] = ("citizen",),
    roles: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
    delegable: str | None = None,
    level: int | None = None,
    max_age: int | None = None,
    purpose: str | None = None,
    delegable_kinds: Iterable[str] | None = None,
) -> Callable:
    """Require a bearer token of one of `kinds` (and `roles`, `scopes`; a citizen verified to `level`,
    proved within `max_age` seconds when given — `purpose` names the operation in the refusal).

    The level is checked for kinds "citizen" and "enterprise", on the person acting: the token's
    subject, or for a delegated token (a proxy, an enterprise's agent) its actor (`actor_id`).

    A delegated token (a proxy acting for a citizen, 授权代理) is accepted only where `delegable`
    names a scope its grant holds (and, with `delegable_kinds`, the token acts for one of those kinds);
    every other route refuses it with 403 `proxy_not_allowed`.

    The requirement is recorded on the view (`_auth_requirement`; functools.wraps carries it up
    through flask-smorest's wrappers) and checked by `init_app`'s before_request hook, so 401/403
    come before any argument parsing (422) whatever the order of the decorators (API.md).
    """
    if max_age is not None and not level:
        raise ValueError("auth_required: max_age needs a level")
    requirement = Requirement(frozenset(kinds), frozenset(roles or ()), frozenset(scopes or ()), delegable, level,
                              max_age, purpose, frozenset(delegable_kinds) if delegable_kinds is not None else None)

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if g.get("authorised_for") is not requirement:  # not yet checked by the hook (a direct call)
                authorise(requirement)
            return func(*args, **kwargs)

        wrapper._delegable = delegable  # type: ignore[attr-defined]  (tests list the delegable routes)
        wrapper._delegable_kinds = requirement.delegable_kinds  # type: ignore[attr-defined]
        wrapper._auth_requirement = requirement  # type: ignore[attr-defined]
        doc = getattr(wrapper, "_apidoc", {})
        doc.setdefault("manual_doc", {})["security"] = BEARER_SECURITY
        wrapper._apidoc = doc  # type: ignore[attr-defined]
        return wrapper

    return decorator


def authorise(requirement: Requirement) -> Principal:
    """Authenticate the caller (401) and check `requirement` (403); the principal goes to `g`."""
    principal = _authenticate()
    if principal.kind not in requirement.kinds:
        raise Forbidden()
    if requirement.roles and principal.role not in requirement.roles:
        raise Forbidden()
    if requirement.scopes and not requirement.scopes <= principal.scopes:
        raise InsufficientScope()
    delegable = requirement.delegable
    if principal.delegated and (delegable is None or delegable not in principal.delegated_scopes
                                or (requirement.delegable_kinds is not None
                                    and principal.kind not in requirement.delegable_kinds)):
        raise ProxyNotAllowed()
    level, max_age = requirement.level, requirement.max_age
    if requirement.purpose in current_app.config["ASSURANCE_POLICY"]:  # the live row, not the one at import
        level, max_age = current_app.config["ASSURANCE_POLICY"][requirement.purpose]
    if level and principal.kind in _LEVELLED_KINDS:
        # 403 naming required_level, current_level, max_age, step_up_url (issue 14 item 21, issue 19):
        # the person acting is checked — a proxy or agent, not the citizen or enterprise they act for.
        person = principal.actor_id if principal.delegated else principal.id
        if person is None or (principal.kind == "enterprise" and not principal.delegated):
            raise Forbidden()  # an enterprise acts only through a person: fail closed
        _identity().require_level(person, level, max_age, requirement.purpose)
    if principal.delegated:
        g.delegated_scope = delegable
    g.principal = principal
    g.authorised_for = requirement
    return principal


_LEVELLED_KINDS = frozenset({"citizen", "enterprise"})


# (view function, method) → its requirement: read from the view (and a MethodView's method) once. The
# key is the view object itself, so a view registered or replaced later is looked up afresh; methods
# are the rule's own (routing refuses any other before this runs), so the table stays small.
_requirements: dict[tuple[Callable | None, str], Requirement | None] = {}


def view_requirement(app: Flask) -> Requirement | None:
    """The requirement of the view the current request is routed to (None: public, or unrouted)."""
    req = request._get_current_object()
    endpoint = req.endpoint
    if endpoint is None:
        return None
    method = req.method
    if method == "OPTIONS" and getattr(req.url_rule, "provide_automatic_options", False):
        return None  # Flask answers it without calling the view
    view = app.view_functions.get(endpoint)
    key = (view, method)
    try:
        return _requirements[key]
    except KeyError:
        pass
    view_class = getattr(view, "view_class", None)
    if view_class is not None:  # a MethodView: each method carries its own requirement
        name = method.lower()
        view = getattr(view_class, name, None) or (getattr(view_class, "get", None) if name == "head" else None)
    if len(_requirements) >= 4096:
        _requirements.clear()
    found = _requirements[key] = getattr(view, "_auth_requirement", None)
    return found


def init_app(app: Flask) -> None:
    """Authentication and authorisation before anything reads the request's input."""

    app.extensions.setdefault("delegation_checks", {})  # kind → checker (proxies: citizen, orgs: enterprise)

    @app.before_request
    def _authorise_before_parsing() -> None:
        requirement = view_requirement(app)
        if requirement is not None:
            authorise(requirement)


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:  # a route forgot its decorator: fail closed
        raise AppError(status=500, code="internal_error", detail=N_("服务器内部错误，请稍后再试。"))
    return principal


def client_ip() -> str:
    return request.remote_addr or "unknown"
