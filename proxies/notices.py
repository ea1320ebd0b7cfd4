"""Notices about proxy grants (授权代理), written to the notify outbox in the caller's transaction.

A grant made from an account is a security event (a stolen token could plant one, issue 14 item 2):
the principal is told at once on every channel (urgent: quiet hours do not hold it back). The
relative is asked to accept or decline. Texts carry masked names and the scope labels only.
"""
from __future__ import annotations

from datetime import datetime

from app.clock import to_china
from app.i18n import N_, T_, in_english
from notify.service import enqueue
from proxies.models import ProxyGrant

KIND = "system"  # the notify feature's kind for account notices
SECURITY_KIND = "account_security"  # every channel, never muted (notify.service.SECURITY_KINDS)


def _labels(grant: ProxyGrant, labels: dict[str, str]) -> str:
    return "、".join(labels[s] for s in sorted(grant.scope_set) if s in labels)


def _date(moment: datetime) -> str:
    return to_china(moment).strftime("%Y-%m-%d %H:%M")


def grant_made(grant: ProxyGrant, labels: dict[str, str]) -> None:
    """Tell the principal (urgent, every channel) and invite the relative. The principal's notice
    names the session the grant was made in, so the app can offer to revoke both."""
    data = {"screen": "proxies", "grant_id": grant.id}
    made, until = _date(grant.created_at), _date(grant.expires_at)
    title = T_("您的账号新建了代办授权")
    body = N_("您的账号于 {made} 授权 {proxy} 代办：{scopes}，有效期至 {until}，对方接受后生效。"
              "如非本人操作，请立即在“授权代理”中撤销该授权，并在“登录设备”中退出可疑登录。",
              made=made, proxy=grant.proxy_name_masked, scopes=_labels(grant, labels), until=until)
    enqueue(user_id=grant.principal_id, kind=SECURITY_KIND, urgent=True, dedupe_key=f"proxy-grant:{grant.id}:made",
            title=title, body=body,
            data={**data, "session_id": grant.session_id, **in_english(title=title, body=body)})
    title = T_("亲友邀请您代办")
    body = N_("{principal} 邀请您代办：{scopes}，有效期至 {until}。请在“授权代理”中接受或拒绝。",
              principal=grant.principal_name_masked, scopes=_labels(grant, labels), until=until)
    enqueue(user_id=grant.proxy_id, kind=KIND, dedupe_key=f"proxy-grant:{grant.id}:invite", title=title, body=body,
            data={**data, **in_english(title=title, body=body)})


def grant_answered(grant: ProxyGrant, *, accepted: bool) -> None:
    """Tell the principal that the relative accepted (the grant is now in effect) or declined."""
    who = grant.proxy_name_masked
    if accepted:
        title = T_("代办授权已生效")
        body = N_("{who} 已接受您的代办授权，现在起可按授权范围为您代办。如需停止，可随时撤销。", who=who)
    else:
        title = T_("亲友拒绝了代办授权")
        body = N_("{who} 拒绝了您的代办授权。", who=who)
    enqueue(user_id=grant.principal_id, kind=SECURITY_KIND if accepted else KIND, urgent=accepted,
            dedupe_key=f"proxy-grant:{grant.id}:{'accepted' if accepted else 'declined'}", title=title, body=body,
            data={"screen": "proxies", "grant_id": grant.id, **in_english(title=title, body=body)})
