"""Agents (经办人, issue 19 WP6): the legal representative lets citizens act for the enterprise.

The LR invites a real-name verified citizen — found by phone and the name they verified under — in a
few listed scopes until a chosen time (≤ 365 days); the grant is pending until the agent accepts it
with their own token, and the LR may revoke it at any time. Adding an agent needs the LR at L3
proved within 300 s (policy "agent_add"), revoking L2 within 300 s ("agent_revoke").

Acting for the enterprise: the LR or an active agent opens an enterprise session and gets a short
access token (≤ 15 min, never past the grant) with subject = the enterprise, `act.sub` = the person
and the grant id (or "legal_representative") — the shape of a proxy's token (proxies/service.py),
with kind "enterprise". Every request with it re-reads the grant (`verify_grant`: revocation and
expiry take effect at once, 401 `agent_grant_inactive`), is refused outside the grant's scopes
(403 `agent_scope_insufficient`), is recorded with both identities (`agent_action`, the audit's
`details.agent`) and its answer says whom it was for (`acting_for`).
"""
from __future__ import annotations

import base64
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app import audit
from app.db import new_id, unit_of_work, utcnow
from app.idnumber import normalize_phone
from app.security.pii import field_cipher, mask_name
from app.security.tokens import Principal
from identity import service as identity
from orgs import agent_models, notices
from orgs.agent_errors import (
    AgentEnterpriseNotFound, AgentExists, AgentExpiryInvalid, AgentGrantExpired, AgentGrantInactive,
    AgentGrantNotFound, AgentGrantNotPending, AgentGrantPending, AgentGrantRevoked, AgentNotFound, AgentScopeInvalid,
    AgentSelf,
)
from orgs.models import ACTIVE_STATUS, AgentGrant, Enterprise, find_enterprise, new_grant_id

# The scopes an enterprise may delegate (with what the agent is shown). Anything else: 422.
SCOPES = {
    "licences:view": "查看企业电子证照",
    "licences:present": "出示企业电子证照（亮证）",
    "cases:follow": "查看企业办件进度",
    "cases:rate": "评价企业办件",
    # Signing for the enterprise: with the agent's own certificate, PIN and face check (signing/signer.py).
    "signing:sign": "代表企业签名",
}
# Showing a licence needs finding it first: `licences:present` grants `licences:view` too.
IMPLIED = {"licences:present": frozenset({"licences:view"})}
LR_GRANT = "legal_representative"  # the grant id of the LR's own enterprise token
MAX_DAYS = 365
NAME_COLUMN = "agent_grant.agent_name"
PENDING, ACTIVE, DECLINED, REVOKED, EXPIRED = "pending", "active", "declined", "revoked", "expired"


def clock() -> datetime:
    """Now (UTC, aware); tests replace it to move time."""
    return utcnow()


# --- Who may do what -------------------------------------------------------------------------

def _enterprise_of_lr(enterprise_id: str, user_id: str) -> Enterprise:
    """The enterprise if `user_id` is its LR; anyone else learns nothing (404)."""
    enterprise = find_enterprise(enterprise_id)
    if enterprise is None or enterprise.legal_rep_user_id != user_id:
        raise AgentEnterpriseNotFound()
    return enterprise


def status_of(grant: AgentGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return REVOKED
    if grant.declined_at is not None:
        return DECLINED
    if grant.expires_at <= now:
        return EXPIRED
    return ACTIVE if grant.accepted_at is not None else PENDING


def _scopes(requested: list[str]) -> frozenset[str]:
    unknown = sorted(set(requested) - set(SCOPES))
    if unknown or not requested:
        raise AgentScopeInvalid(errors={"scopes": [AgentScopeInvalid.detail]})
    granted = set(requested)
    for scope in requested:
        granted |= IMPLIED.get(scope, frozenset())
    return frozenset(granted)


def _labels(scopes: frozenset[str]) -> str:
    return "、".join(SCOPES[s] for s in sorted(scopes) if s in SCOPES)


def _normalised(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _verified_agent(*, lr_id: str, phone: str, name: str) -> identity.User:
    """The account holding `phone`, real-name verified (L2+) under `name`; one answer (422
    `agent_not_found`) whatever is wrong, reached through the same steps (a lookup by blind index,
    one read of a verified identity — the LR's own stands in when nobody holds the phone)."""
    holder = identity.user_by_phone(phone)
    if holder is not None and holder.id == lr_id:
        raise AgentSelf()
    person = identity.verified_identity(holder.id if holder is not None else lr_id)
    matches = person is not None and _normalised(person.name) == _normalised(name)
    if holder is None or not matches or identity.verified_level(holder.id) < 2:
        raise AgentNotFound()
    return holder


def _agent_name(grant: AgentGrant) -> str:
    return field_cipher().decrypt(base64.b64decode(grant.agent_name_enc), NAME_COLUMN)


def grant_view(grant: AgentGrant, now: datetime, enterprise: Enterprise | None = None) -> dict[str, Any]:
    """A grant as the LR and the agent see it: ids, the agent's masked name, the enterprise's name."""
    enterprise = enterprise or find_enterprise(grant.enterprise_id)
    return {
        "id": grant.id, "status": status_of(grant, now), "scopes": sorted(grant.scope_set),
        "scope_labels": [SCOPES[s] for s in sorted(grant.scope_set) if s in SCOPES],
        "created_at": grant.created_at, "expires_at": grant.expires_at, "accepted_at": grant.accepted_at,
        "declined_at": grant.declined_at, "revoked_at": grant.revoked_at,
        "enterprise": {"id": grant.enterprise_id, "name": enterprise.name if enterprise else None},
        "agent": {"id": grant.agent_user_id, "name_masked": mask_name(_agent_name(grant))},
    }


# --- The legal representative: grant, list, revoke -----------------------------------------------

def grant_agent(*, enterprise_id: str, lr_id: str, phone: str, name: str, scopes: list[str],
                expires_at: datetime) -> dict[str, Any]:
    """Invite the verified citizen holding `phone` (verified under `name`) to act for the enterprise
    in `scopes` until `expires_at`. The LR's fresh L3 was checked before (route policy "agent_add").
    Order: 404 (not the LR) → 422 (scopes, expiry, who the agent is) → 409 (a pending or active grant
    to the same person). The grant is pending; the agent is invited."""
    enterprise = _enterprise_of_lr(enterprise_id, lr_id)
    granted = _scopes(scopes)
    now = clock()
    if not now < expires_at <= now + timedelta(days=MAX_DAYS):
        raise AgentExpiryInvalid(errors={"expires_at": [AgentExpiryInvalid.detail]})
    agent = _verified_agent(lr_id=lr_id, phone=normalize_phone(phone) or "", name=name)
    with unit_of_work():
        held = (AgentGrant.select().where((AgentGrant.enterprise_id == enterprise.id)
                                          & (AgentGrant.agent_user_id == agent.id)))
        if any(status_of(g, now) in (PENDING, ACTIVE) for g in held):
            raise AgentExists()
        grant = AgentGrant.create(
            id=new_grant_id(), enterprise_id=enterprise.id, agent_user_id=agent.id, granted_by=lr_id,
            agent_name_enc=base64.b64encode(field_cipher().encrypt(name.strip(), NAME_COLUMN)).decode(),
            scopes=" ".join(sorted(granted)), created_at=now, expires_at=expires_at)
        audit.record("orgs.agent_grant", actor_kind="citizen", actor_id=lr_id, target=grant.id,
                     details={"enterprise_id": enterprise.id, "agent_id": agent.id, "scopes": sorted(granted),
                              "expires_at": expires_at.isoformat()})
        notices.invited(grant, enterprise=enterprise.name, scopes=_labels(granted))
    return grant_view(grant, now, enterprise)


def list_agents(*, enterprise_id: str, lr_id: str) -> dict[str, Any]:
    """Every grant the enterprise gave, newest first (the LR only)."""
    enterprise = _enterprise_of_lr(enterprise_id, lr_id)
    now = clock()
    grants = (AgentGrant.select().where(AgentGrant.enterprise_id == enterprise.id)
              .order_by(AgentGrant.created_at.desc(), AgentGrant.id.desc()))
    return {"items": [grant_view(g, now, enterprise) for g in grants]}


def revoke_agent(*, enterprise_id: str, grant_id: str, lr_id: str) -> dict[str, Any]:
    """End a grant now (the LR; fresh L2 checked by the route, policy "agent_revoke"): its tokens
    stop working with their next request. Revoking an ended grant changes nothing."""
    enterprise = _enterprise_of_lr(enterprise_id, lr_id)
    with unit_of_work():
        grant = AgentGrant.get_or_none(AgentGrant.id == grant_id)
        if grant is None or grant.enterprise_id != enterprise.id:
            raise AgentGrantNotFound()
        now = clock()
        if status_of(grant, now) in (PENDING, ACTIVE):
            changed = (AgentGrant.update(revoked_at=now, revoked_by=lr_id)
                       .where((AgentGrant.id == grant.id) & AgentGrant.revoked_at.is_null()).execute())
            if changed:
                grant.revoked_at, grant.revoked_by = now, lr_id
                audit.record("orgs.agent_revoke", actor_kind="citizen", actor_id=lr_id, target=grant.id,
                             details={"enterprise_id": enterprise.id, "agent_id": grant.agent_user_id})
                notices.revoked(grant, enterprise=enterprise.name)
    return grant_view(grant, now, enterprise)


# --- The agent: invitations, accept, decline -------------------------------------------------------

def my_grants(*, user_id: str) -> dict[str, Any]:
    """The grants made to me (invitations and their outcome), newest first."""
    now = clock()
    grants = (AgentGrant.select().where(AgentGrant.agent_user_id == user_id)
              .order_by(AgentGrant.created_at.desc(), AgentGrant.id.desc()))
    return {"items": [grant_view(g, now) for g in grants]}


def answer_grant(*, user_id: str, grant_id: str, accept: bool) -> dict[str, Any]:
    """The invited agent accepts (the grant takes effect) or declines a pending, unexpired grant.
    Anyone else: 404; anything but pending: 409 `agent_grant_not_pending`."""
    grant = AgentGrant.get_or_none(AgentGrant.id == grant_id)
    if grant is None or grant.agent_user_id != user_id:
        raise AgentGrantNotFound()
    now = clock()
    if status_of(grant, now) != PENDING:
        raise AgentGrantNotPending()
    column = AgentGrant.accepted_at if accept else AgentGrant.declined_at
    with unit_of_work():
        changed = (AgentGrant.update({column: now})
                   .where((AgentGrant.id == grant.id) & AgentGrant.accepted_at.is_null()
                          & AgentGrant.declined_at.is_null() & AgentGrant.revoked_at.is_null()).execute())
        if not changed:  # answered or revoked meanwhile
            raise AgentGrantNotPending()
        grant = AgentGrant.get_by_id(grant.id)
        audit.record("orgs.agent_accept" if accept else "orgs.agent_decline", actor_kind="citizen",
                     actor_id=user_id, target=grant.id, details={"enterprise_id": grant.enterprise_id})
    return grant_view(grant, now)


def memberships(user_id: str) -> list[dict[str, Any]]:
    """The enterprises the user may open a session for: {enterprise_id, grant_id, scopes, expires_at}."""
    now = clock()
    found = [{"enterprise_id": e.id, "grant_id": LR_GRANT, "scopes": sorted(SCOPES), "expires_at": None}
             for e in Enterprise.select().where(Enterprise.legal_rep_user_id == user_id)]
    for grant in AgentGrant.select().where(AgentGrant.agent_user_id == user_id):
        if status_of(grant, now) == ACTIVE:
            found.append({"enterprise_id": grant.enterprise_id, "grant_id": grant.id,
                          "scopes": sorted(grant.scope_set), "expires_at": grant.expires_at})
    return found


# --- Acting for the enterprise ---------------------------------------------------------------------

def _standing(enterprise: Enterprise, user_id: str, now: datetime) -> tuple[str, frozenset[str], datetime | None]:
    """(grant id, scopes, expiry) under which `user_id` may act for the enterprise now; 403 naming
    why for an agent whose grant is pending, revoked or expired; 404 for anyone else."""
    if enterprise.legal_rep_user_id == user_id:
        return LR_GRANT, frozenset(SCOPES), None
    grants = list(AgentGrant.select().where((AgentGrant.enterprise_id == enterprise.id)
                                            & (AgentGrant.agent_user_id == user_id))
                  .order_by(AgentGrant.created_at.desc()))
    statuses = [(status_of(g, now), g) for g in grants]
    for status, grant in statuses:
        if status == ACTIVE:
            return grant.id, grant.scope_set, grant.expires_at
    refusals = {PENDING: AgentGrantPending, REVOKED: AgentGrantRevoked, EXPIRED: AgentGrantExpired}
    for status, _grant in statuses:
        if status in refusals:
            raise refusals[status]()
    raise AgentEnterpriseNotFound()


def open_session(*, person: Principal, enterprise_id: str) -> dict[str, Any]:
    """An access token acting for the enterprise: ≤ 15 min and never past the grant's expiry;
    subject = the enterprise, `act.sub` = the person, the grant id and its scopes (the LR: all)."""
    enterprise = find_enterprise(enterprise_id)
    if enterprise is None:
        raise AgentEnterpriseNotFound()
    now = clock()
    grant_id, scopes, expires_at = _standing(enterprise, person.id, now)
    if enterprise.status != ACTIVE_STATUS:
        raise AgentEnterpriseNotFound()  # 吊销/注销/迁出 since registration: no one acts for it
    ttl = current_app.config["ACCESS_TOKEN_TTL"]
    if expires_at is not None:
        ttl = min(ttl, int((expires_at - now).total_seconds()))
    delegated = Principal(kind="enterprise", id=enterprise.id, session_id=person.session_id, actor_id=person.id,
                          grant_id=grant_id, delegated_scopes=scopes)
    token, expires_in = current_app.extensions["tokens"].issue(delegated, ttl=max(1, ttl))
    with unit_of_work():
        audit.record("orgs.agent_session", actor_kind="citizen", actor_id=person.id, target=enterprise.id,
                     details={"grant_id": grant_id, "expires_in": expires_in})
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
            "scope": " ".join(sorted(scopes)), "acting_for": acting_for(delegated, enterprise)}


def verify_grant(principal: Principal) -> None:
    """401 `agent_grant_inactive` unless the enterprise token's grant still holds: the LR is still
    the enterprise's LR, or the agent's grant is active, for this enterprise and person, and covers
    the token's scopes. Run on every request made with an enterprise token."""
    enterprise = find_enterprise(principal.id)
    if enterprise is None or enterprise.status != ACTIVE_STATUS or not principal.actor_id:
        raise AgentGrantInactive()
    if principal.grant_id == LR_GRANT:
        if enterprise.legal_rep_user_id != principal.actor_id or not principal.delegated_scopes <= set(SCOPES):
            raise AgentGrantInactive()
        return
    grant = AgentGrant.get_or_none(AgentGrant.id == principal.grant_id)
    if (grant is None or status_of(grant, clock()) != ACTIVE or grant.enterprise_id != principal.id
            or grant.agent_user_id != principal.actor_id or not principal.delegated_scopes <= grant.scope_set):
        raise AgentGrantInactive()


def acting_for(principal: Principal, enterprise: Enterprise | None = None) -> dict[str, Any]:
    """`acting_for` of an enterprise token: the enterprise's name, the person's masked name."""
    name, agent_name = describe(principal, enterprise)
    return {"kind": "enterprise", "id": principal.id, "name": name,
            "agent": {"id": principal.actor_id, "name_masked": agent_name}}


def describe(principal: Principal, enterprise: Enterprise | None = None) -> tuple[str | None, str | None]:
    """(enterprise name, acting person's masked name): the describer app/security/acting_for.py asks."""
    enterprise = enterprise or find_enterprise(principal.id)
    person = identity.user_view(identity.get_user(principal.actor_id)) if principal.actor_id else {}
    return (enterprise.name if enterprise else None), person.get("name_masked")


# --- The record of actions (经办记录) ----------------------------------------------------------------

def _insert_action(principal: Principal, *, method: str, route: str, request_id: str | None,
                   status: int | None = None) -> str:
    with unit_of_work():
        action = agent_models.insert_action(
            id=new_id("aa"), grant_id=principal.grant_id or "", enterprise_id=principal.id,
            actor_id=principal.actor_id or "", method=method, route=route[:255], status=status, at=clock(),
            request_id=request_id)
    return action.id


def start_action(*, principal: Principal, method: str, route: str, request_id: str | None) -> str:
    """Record a request under an enterprise token before it runs (no record, no action)."""
    return _insert_action(principal, method=method, route=route, request_id=request_id)


def finish_action(*, action_id: str, status: int, scope: str | None) -> None:
    """Record a request's answer."""
    with unit_of_work():
        agent_models.set_action_outcome(action_id, status=status, scope=scope)


def record_refused(*, principal: Principal, method: str, route: str, status: int, request_id: str | None) -> None:
    """Record a request refused before it started (its grant had ended, or outside its scopes)."""
    _insert_action(principal, method=method, route=route, request_id=request_id, status=status)
