"""Authorised proxies — 授权代理 / 亲友代办: the use cases.

A verified citizen (the principal) lets a verified relative (the proxy) act for them in a few
listed scopes until a chosen time. The proxy switches into the principal's context explicitly and
gets a short-lived access token whose subject is the principal and whose `act` claim names the
proxy (RFC 8693). Each request with such a token re-reads the grant (revocation and expiry take
effect at once) and is recorded with both identities. Signing, the profile, real-name changes and
proxy management itself are never delegable: routes refuse delegated tokens unless they name a
scope (`auth_required(delegable=...)`).

A bearer token alone cannot plant a grant (issue 14 item 2): making one needs a step-up (an SMS
code sent to the principal's bound phone, or the signing PIN), tells the principal on every channel,
and the grant stays `pending` — unusable — until the relative accepts it with their own token. Each
grant remembers the login session that made it; revoking that session for compromise can revoke it.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app import audit, ratelimit
from app.db import new_id, unit_of_work, utcnow
from app.i18n import N_, Series
from app.idnumber import normalize_phone
from app.ratelimit import Limit
from app.security.tokens import Principal
from identity import service as identity
from identity.service import PhoneInvalid, User, verify_sms_step_up
from proxies import models, notices
from proxies.errors import (
    ProxyExpiryInvalid, ProxyGrantDeclined, ProxyGrantExists, ProxyGrantExpired, ProxyGrantInactive, ProxyGrantNotFound,
    ProxyGrantNotPending, ProxyGrantPending, ProxyGrantRevoked, ProxyLimitReached, ProxyRelativeNotFound,
    ProxyScopeInvalid, ProxySelf,
)
from proxies.models import ACTIVE, DECLINED, EXPIRED, PENDING, REVOKED, ProxyGrant
from signing import service as signing

# The delegable scopes (with what the principal is shown). Anything else is refused: fail closed.
SCOPES = {
    "licences:view": "查看电子证照",
    "licences:present": "出示电子证照（亮证）",
    "cases:follow": "查看办件进度",
    "appointments:book": "预约办事",
}
# Showing a licence needs finding it first: granting `licences:present` grants `licences:view` too.
IMPLIED = {"licences:present": frozenset({"licences:view"})}
STEP_UP_PURPOSE = "proxy_grant"
MAX_DAYS = 365
MAX_ACTIVE_GRANTS = 10
MAX_LIMIT = 50
_CREATE_LIMIT = Limit("proxy:create:{}", 20, 3600, "proxy_attempts_exceeded", N_("授权操作过于频繁，请稍后再试。"))


def clock() -> datetime:
    """Now (UTC, aware); tests replace it to move time."""
    return utcnow()


# --- Grants ----------------------------------------------------------------------------------

def create_grant(*, principal_id: str, phone: str, name: str, scopes: list[str], expires_at: datetime,
                 session_id: str | None, sms_code: str | None = None, pin: str | None = None) -> dict[str, Any]:
    """Invite the L2 citizen holding `phone`, whose verified name is `name`, to act for the (L2)
    principal in `scopes` until `expires_at` (at most 365 days ahead). One pending or active grant
    per pair.

    Checks in order: the principal's level (403), the request's values (422), the step-up — the SMS
    code for purpose `proxy_grant` or the signing PIN, whose wrong tries count toward its lockout
    (403 `step_up_failed`, PIN errors) —, then who the relative is (422, one answer whatever is
    wrong) and the limits (409). The grant is `pending` until the relative accepts; the principal is
    told on every channel, the relative is invited. `session_id` is the session that made it."""
    identity.require_level(principal_id, 2)  # 403 naming required_level / current_level
    granted = _scopes(scopes)
    now = clock()
    if not now < expires_at <= now + timedelta(days=MAX_DAYS):
        raise ProxyExpiryInvalid(errors={"expires_at": [ProxyExpiryInvalid.detail]})
    phone = normalize_phone(phone)
    if phone is None:
        raise PhoneInvalid(errors={"phone": [N_("请输入 11 位中国大陆手机号码。")]})
    limit = _CREATE_LIMIT
    ratelimit.consume([Limit(limit.key.format(principal_id), limit.limit, limit.window, limit.code, limit.detail)])
    _step_up(principal_id=principal_id, sms_code=sms_code, pin=pin)
    relative = _verified_relative(principal_id=principal_id, phone=phone, name=name)
    principal_view, relative_view = identity.user_view(identity.get_user(principal_id)), identity.user_view(relative)
    key = f"{principal_id}:{relative.id}"
    with unit_of_work():
        models.free_expired_slot(key, now)
        if models.grants_held(principal_id, now) >= MAX_ACTIVE_GRANTS:
            raise ProxyLimitReached()
        grant = models.insert_grant(id=new_id("pg"), principal_id=principal_id, proxy_id=relative.id,
                                    scopes=" ".join(sorted(granted)), status=PENDING, active_key=key,
                                    principal_name_masked=principal_view["name_masked"],
                                    proxy_name_masked=relative_view["name_masked"],
                                    proxy_phone_masked=relative_view["phone_masked"], created_at=now,
                                    expires_at=expires_at, session_id=session_id)
        if grant is None:
            raise ProxyGrantExists()
        audit.record("proxy.grant", actor_kind="citizen", actor_id=principal_id, target=grant.id,
                     details={"proxy_id": relative.id, "scopes": sorted(granted), "session_id": session_id,
                              "step_up": "pin" if pin else "sms", "expires_at": expires_at.isoformat()})
        notices.grant_made(grant, SCOPES)
    return grant_view(grant, now)


def _step_up(*, principal_id: str, sms_code: str | None, pin: str | None) -> None:
    """Proof beyond the bearer token: the signing PIN when given, else the SMS code (none at all is
    refused like a wrong code). Runs outside any transaction, so a wrong PIN's count stays."""
    if pin:
        signing.check_pin(user_id=principal_id, pin=pin)
    else:
        verify_sms_step_up(user_id=principal_id, purpose=STEP_UP_PURPOSE, code=sms_code or "")


def _scopes(requested: list[str]) -> frozenset[str]:
    unknown = sorted(set(requested) - set(SCOPES))
    if unknown or not requested:
        raise ProxyScopeInvalid(errors={"scopes": [N_("不可授权：{scopes:, }", scopes=Series(unknown)) if unknown
                                                   else N_("请至少选择一项。")]})
    granted = set(requested)
    for scope in requested:
        granted |= IMPLIED.get(scope, frozenset())
    return frozenset(granted)


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    return norm(a) == norm(b)


def _verified_relative(*, principal_id: str, phone: str, name: str) -> User:
    """The account holding `phone`, real-name verified (L2+) under `name`.

    One answer (`proxy_relative_not_found`) whether nobody holds the phone, its holder is not
    verified or the name differs (issue 14 item 22), reached through the same steps: the lookup by
    blind index, one read of a verified identity (the principal's own stands in when nobody holds
    the phone) and one name comparison. The step-up and the hourly limit before it bound probing."""
    relative = identity.user_by_phone(phone)  # by the phone's blind index, as SMS login finds an account
    if relative is not None and relative.id == principal_id:
        raise ProxySelf()
    verified = identity.verified_identity(relative.id if relative is not None else principal_id)
    same_name = _same_name(verified.name if verified is not None else "", name)
    if relative is None or verified is None or verified.assurance_level < 2 or not same_name:
        raise ProxyRelativeNotFound()
    return relative


def status_of(grant: ProxyGrant, now: datetime) -> str:
    """pending | active | declined | revoked | expired (a pending or active grant past its expiry)."""
    if grant.status in (REVOKED, DECLINED):
        return grant.status
    return grant.status if grant.expires_at > now else EXPIRED


def grant_view(grant: ProxyGrant, now: datetime) -> dict[str, Any]:
    """A grant as both parties see it: ids and masked values only."""
    return {
        "id": grant.id, "status": status_of(grant, now), "scopes": sorted(grant.scope_set),
        "scope_labels": [SCOPES[s] for s in sorted(grant.scope_set) if s in SCOPES],
        "created_at": grant.created_at, "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at, "revoked_by": grant.revoked_by,
        "accepted_at": grant.accepted_at, "declined_at": grant.declined_at,
        "principal": {"id": grant.principal_id, "name_masked": grant.principal_name_masked},
        "proxy": {"id": grant.proxy_id, "name_masked": grant.proxy_name_masked,
                  "phone_masked": grant.proxy_phone_masked},
    }


def list_grants(*, user_id: str, role: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """Grants I gave (`role=principal`) or was given (`role=proxy`), newest first."""
    page, next_cursor = models.grants_page(user_id=user_id, role=role, limit=max(1, min(limit, MAX_LIMIT)),
                                           cursor=cursor)
    now = clock()
    return {"items": [grant_view(grant, now) for grant in page], "next_cursor": next_cursor}


def _party_grant(grant_id: str, user_id: str) -> ProxyGrant:
    """The grant if `user_id` is its principal or its proxy; anyone else learns nothing (404)."""
    grant = models.find_grant(grant_id)
    if grant is None or user_id not in (grant.principal_id, grant.proxy_id):
        raise ProxyGrantNotFound()
    return grant


def revoke_grant(*, user_id: str, grant_id: str) -> None:
    """End a grant now (the principal, or the proxy giving it up), pending or active. Outstanding
    proxy tokens stop working with their next request. Revoking an ended grant is a no-op."""
    with unit_of_work():
        grant = _party_grant(grant_id, user_id)
        _revoke(grant, by="principal" if user_id == grant.principal_id else "proxy", actor_id=user_id)


def _revoke(grant: ProxyGrant, *, by: str, actor_id: str) -> bool:
    """Revoke a pending or active grant (inside the caller's transaction); False if it had ended."""
    if grant.status not in (PENDING, ACTIVE):
        return False
    changed = models.move_grant(grant.id, from_status=grant.status, status=REVOKED, revoked_at=clock(),
                                revoked_by=by, active_key=None)
    if changed:
        audit.record("proxy.revoke", actor_kind="citizen", actor_id=actor_id, target=grant.id,
                     details={"by": by, "principal_id": grant.principal_id, "proxy_id": grant.proxy_id})
        notices.revoked(grant, by=by)
    return bool(changed)


def answer_grant(*, user_id: str, grant_id: str, accept: bool) -> dict[str, Any]:
    """The relative accepts (the grant takes effect) or declines a pending grant, with their own
    token; the principal is told. Only the proxy named in the grant may answer (others: 404);
    anything but a pending, unexpired grant: 409 `proxy_grant_not_pending`."""
    now = clock()
    grant = _party_grant(grant_id, user_id)
    if grant.proxy_id != user_id:
        raise ProxyGrantNotFound()
    if accept:
        identity.require_level(user_id, 2)
    if grant.expires_at <= now:
        raise ProxyGrantNotPending()
    with unit_of_work():
        if accept:
            changed = models.move_grant(grant.id, from_status=PENDING, status=ACTIVE, accepted_at=now)
        else:
            changed = models.move_grant(grant.id, from_status=PENDING, status=DECLINED, declined_at=now,
                                        active_key=None)
        if not changed:
            raise ProxyGrantNotPending()
        grant = models.find_grant(grant.id)
        audit.record("proxy.accept" if accept else "proxy.decline", actor_kind="citizen", actor_id=user_id,
                     target=grant.id, details={"principal_id": grant.principal_id})
        notices.grant_answered(grant, accepted=accept)
    return grant_view(grant, now)


def session_grants(*, user_id: str, session_id: str, revoke: bool) -> list[dict[str, Any]]:
    """The grants `user_id` made in login session `session_id`, oldest first; with `revoke`, the
    pending and active ones are revoked now (`revoked_by: session`), inside the caller's transaction.
    Identity calls it when a citizen revokes a session they no longer trust (issue 14 item 2)."""
    made = models.grants_made_in_session(user_id, session_id)
    if revoke:
        for grant in made:
            if _revoke(grant, by="session", actor_id=user_id):
                grant.status, grant.revoked_by, grant.revoked_at = REVOKED, "session", clock()
    now = clock()
    return [grant_view(grant, now) for grant in made]


# --- Acting as the principal -----------------------------------------------------------------

def open_session(*, proxy: Principal, grant_id: str) -> dict[str, Any]:
    """Switch into the principal's context: an access token (≤ 15 min, never past the grant's
    expiry) with subject = principal, `act.sub` = proxy, the grant id and its scopes."""
    grant = models.find_grant(grant_id)
    if grant is None or grant.proxy_id != proxy.id:
        raise ProxyGrantNotFound()
    now = clock()
    if grant.status == REVOKED:
        raise ProxyGrantRevoked()
    if grant.status == DECLINED:
        raise ProxyGrantDeclined()
    if grant.expires_at <= now:
        raise ProxyGrantExpired()
    if grant.status != ACTIVE:  # pending: not in effect until the relative accepts
        raise ProxyGrantPending()
    identity.require_level(proxy.id, 2)
    remaining = int((grant.expires_at - now).total_seconds())
    delegated = Principal(kind="citizen", id=grant.principal_id, session_id=proxy.session_id, actor_id=proxy.id,
                          grant_id=grant.id, delegated_scopes=grant.scope_set)
    ttl = max(1, min(current_app.config["ACCESS_TOKEN_TTL"], remaining))
    token, expires_in = current_app.extensions["tokens"].issue(delegated, ttl=ttl)
    with unit_of_work():
        audit.record("proxy.session", actor_kind="citizen", actor_id=proxy.id, target=grant.id,
                     details={"principal_id": grant.principal_id, "expires_in": expires_in})
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
            "scope": " ".join(sorted(grant.scope_set)), "grant_id": grant.id,
            "principal": {"id": grant.principal_id, "name_masked": grant.principal_name_masked}}


def verify_grant(principal: Principal) -> None:
    """Refuse (401 `proxy_grant_inactive`) a delegated token whose grant is gone, revoked, expired
    or no longer what the token says. Run on every request made with such a token."""
    grant = models.find_grant(principal.grant_id)
    if (grant is None or grant.status != ACTIVE or grant.expires_at <= clock()
            or grant.principal_id != principal.id or grant.proxy_id != principal.actor_id
            or not principal.delegated_scopes <= grant.scope_set):
        raise ProxyGrantInactive()


# --- The record of actions (代办记录) ----------------------------------------------------------

def start_action(*, principal: Principal, method: str, route: str, request_id: str | None) -> str:
    """Record a request under a grant before it runs (no record, no action); its status comes later."""
    with unit_of_work():
        action = models.insert_action(id=new_id("pa"), grant_id=principal.grant_id, principal_id=principal.id,
                                      proxy_id=principal.actor_id, method=method, route=route[:255], at=clock(),
                                      request_id=request_id)
    return action.id


def finish_action(*, action_id: str, status: int, scope: str | None) -> None:
    """Record a request's answer; a success tells the principal what was done (once a grant a day)."""
    with unit_of_work():
        models.set_action_outcome(action_id, status=status, scope=scope)
        if 200 <= status < 300:
            action = models.find_action(action_id)
            grant = models.find_grant(action.grant_id) if action is not None else None
            if grant is not None:
                notices.used(grant, action)


def record_refused(*, principal: Principal, method: str, route: str, status: int, request_id: str | None) -> None:
    """Record a request refused before it started (e.g. made after the grant was revoked)."""
    with unit_of_work():
        models.insert_action(id=new_id("pa"), grant_id=principal.grant_id or "", principal_id=principal.id,
                             proxy_id=principal.actor_id, method=method, route=route[:255], status=status,
                             at=clock(), request_id=request_id)


def list_activity(*, user_id: str, grant_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """What was done under a grant, newest first, with both identities (principal and proxy may look)."""
    grant = _party_grant(grant_id, user_id)
    page, next_cursor = models.actions_page(grant_id=grant.id, limit=max(1, min(limit, MAX_LIMIT)), cursor=cursor)
    principal = {"id": grant.principal_id, "name_masked": grant.principal_name_masked}
    proxy = {"id": grant.proxy_id, "name_masked": grant.proxy_name_masked}
    return {"items": [{"id": a.id, "at": a.at, "method": a.method, "route": a.route, "scope": a.scope,
                       "status": a.status, "request_id": a.request_id, "principal": principal, "proxy": proxy}
                      for a in page], "next_cursor": next_cursor}
