"""Notices about agent grants (经办人), written to the notify outbox in the caller's transaction (the
grant's change and its notice commit or roll back together); the notify worker delivers each to the
inbox, the live stream and the person's devices.

Two events, both to the agent: invited (`enterprise_agent_invited`: the enterprise, the scopes and
the expiry; accept or decline under "企业") and revoked (`enterprise_agent_revoked`: by the legal
representative; outstanding enterprise tokens stop at their next request). Each notice's data carries
the deep link the app opens (`link: yiwang://enterprise-grants/<grant id>`), `screen: enterprises`,
`grant_id`, `enterprise_id` and its English. Texts carry the enterprise's registered name (public
register data), scope labels and times only. Dedupe keys make a retried event a no-op.
"""
from __future__ import annotations

from typing import Any

from app.clock import to_china
from app.i18n import N_, T_, in_english
from notify.service import enqueue
from orgs.models import AgentGrant

LINK = "yiwang://enterprise-grants/{}"


def _data(grant: AgentGrant, title: str, body: str, **extra: Any) -> dict[str, Any]:
    return {"screen": "enterprises", "grant_id": grant.id, "enterprise_id": grant.enterprise_id,
            "link": LINK.format(grant.id), **extra, **in_english(title=title, body=body)}


def invited(grant: AgentGrant, *, enterprise: str, scopes: str) -> None:
    """Invite the agent: the grant is pending until they accept it."""
    title = T_("企业邀请您担任经办人")
    body = N_("{enterprise} 邀请您担任经办人：{scopes}，有效期至 {until}。请在“企业”中接受或拒绝。",
              enterprise=enterprise, scopes=scopes, until=to_china(grant.expires_at).strftime("%Y-%m-%d %H:%M"))
    enqueue(user_id=grant.agent_user_id, kind="enterprise_agent_invited", dedupe_key=f"agent-grant:{grant.id}:invite",
            title=title, body=body, data=_data(grant, title, body, event="invited"),
            collapse_key=f"agent:{grant.id}")


def revoked(grant: AgentGrant, *, enterprise: str) -> None:
    """Tell the agent their grant has ended (the legal representative revoked it)."""
    title = T_("企业经办授权已撤销")
    body = N_("{enterprise} 已撤销您的经办授权，您不能再代该企业办理。", enterprise=enterprise)
    enqueue(user_id=grant.agent_user_id, kind="enterprise_agent_revoked",
            dedupe_key=f"agent-grant:{grant.id}:revoked", title=title, body=body,
            data=_data(grant, title, body, event="revoked"), collapse_key=f"agent:{grant.id}")
