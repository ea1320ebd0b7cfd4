"""Notices about proxy grants (授权代理), written to the notify outbox in the caller's transaction
(the grant's change and its notice commit or roll back together); the notify worker delivers each
to the inbox, the live stream (SSE) and the person's devices.

Events, each to the right person: made (the principal, on every channel: a stolen token could plant
a grant, issue 14 item 2) and invited (the relative, `proxy_invited`); accepted (the principal, on
every channel: the grant is now in effect) or declined (the principal, `proxy_declined`); used (the
principal, `proxy_used`: what the proxy did, in words, once per grant per China day so a busy
proxy does not flood them — the rest is in the grant's record of actions); revoked (both,
`proxy_revoked`, whoever revoked it: the principal, the proxy giving it up, or a distrusted session).

Each notice's data carries the deep link the app opens, `link: yiwang://proxies/<grant id>` (the
record of actions for "used": `yiwang://proxies/<grant id>/activity`), plus `screen: proxies` and
`grant_id`, and its English (`title_en`, `body_en`, from the catalogue). Texts carry masked names,
scope labels and times only. Dedupe keys make a retried event a no-op.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.clock import to_china
from app.i18n import N_, T_, in_english
from notify.service import enqueue
from proxies.models import ProxyAction, ProxyGrant

SECURITY_KIND = "account_security"  # every channel, never muted (notify.service.SECURITY_KINDS)
LINK = "yiwang://proxies/{}"
ACTIVITY_LINK = "yiwang://proxies/{}/activity"
# What a proxy did, in words, by the route's delegation scope and the request's method (the routes
# with `auth_required(delegable=...)`); None: any method.
DONE = {
    ("licences:view", None): T_("查看了您的电子证照"),
    ("licences:present", "DELETE"): T_("撤回了您的一次亮证"),
    ("licences:present", None): T_("出示了您的电子证照（亮证）"),
    ("cases:follow", None): T_("查看了您的办件进度"),
    ("appointments:book", "POST"): T_("为您预约了办事"),
    ("appointments:book", "DELETE"): T_("取消了您的一个预约"),
    ("appointments:book", None): T_("查看了您的预约"),
}


def _labels(grant: ProxyGrant, labels: dict[str, str]) -> str:
    return "、".join(labels[s] for s in sorted(grant.scope_set) if s in labels)


def _date(moment: datetime) -> str:
    return to_china(moment).strftime("%Y-%m-%d %H:%M")


def _data(grant: ProxyGrant, title: str, body: str, link: str = LINK, **extra: Any) -> dict[str, Any]:
    return {"screen": "proxies", "grant_id": grant.id, "link": link.format(grant.id), **extra,
            **in_english(title=title, body=body)}


def grant_made(grant: ProxyGrant, labels: dict[str, str]) -> None:
    """Tell the principal (urgent, every channel) and invite the relative. The principal's notice
    names the session the grant was made in, so the app can offer to revoke both."""
    made, until = _date(grant.created_at), _date(grant.expires_at)
    title = T_("您的账号新建了代办授权")
    body = N_("您的账号于 {made} 授权 {proxy} 代办：{scopes}，有效期至 {until}，对方接受后生效。"
              "如非本人操作，请立即在“授权代理”中撤销该授权，并在“登录设备”中退出可疑登录。",
              made=made, proxy=grant.proxy_name_masked, scopes=_labels(grant, labels), until=until)
    enqueue(user_id=grant.principal_id, kind=SECURITY_KIND, urgent=True, dedupe_key=f"proxy-grant:{grant.id}:made",
            title=title, body=body,
            data=_data(grant, title, body, session_id=grant.session_id), collapse_key=f"proxy:{grant.id}")
    title = T_("亲友邀请您代办")
    body = N_("{principal} 邀请您代办：{scopes}，有效期至 {until}。请在“授权代理”中接受或拒绝。",
              principal=grant.principal_name_masked, scopes=_labels(grant, labels), until=until)
    enqueue(user_id=grant.proxy_id, kind="proxy_invited", dedupe_key=f"proxy-grant:{grant.id}:invite", title=title,
            body=body, data=_data(grant, title, body, event="invited"), collapse_key=f"proxy:{grant.id}")


def grant_answered(grant: ProxyGrant, *, accepted: bool) -> None:
    """Tell the principal that the relative accepted (the grant is now in effect) or declined."""
    who = grant.proxy_name_masked
    if accepted:
        title = T_("代办授权已生效")
        body = N_("{who} 已接受您的代办授权，现在起可按授权范围为您代办。如需停止，可随时撤销。", who=who)
    else:
        title = T_("亲友拒绝了代办授权")
        body = N_("{who} 拒绝了您的代办授权。", who=who)
    event = "accepted" if accepted else "declined"
    enqueue(user_id=grant.principal_id, kind=SECURITY_KIND if accepted else "proxy_declined", urgent=accepted,
            dedupe_key=f"proxy-grant:{grant.id}:{event}", title=title, body=body,
            data=_data(grant, title, body, event=event), collapse_key=f"proxy:{grant.id}")


def used(grant: ProxyGrant, action: ProxyAction) -> bool:
    """A request the proxy made under the grant succeeded: the principal is told what was done, at
    most once per grant per China day (the first action; the rest are in the record of actions)."""
    done = DONE.get((action.scope, action.method)) or DONE.get((action.scope, None))
    if done is None:  # a scope this table does not know yet: say it plainly rather than not at all
        done = T_("使用了代办授权")
    day = to_china(action.at).date().isoformat()
    title = T_("亲友刚为您代办")
    body = N_("{proxy} 于 {at} {done}。当天其他代办不再逐条提醒，可在“授权代理”的代办记录中查看；"
              "如有疑问，可随时撤销授权。", proxy=grant.proxy_name_masked, at=_date(action.at), done=done)
    return enqueue(user_id=grant.principal_id, kind="proxy_used", dedupe_key=f"proxy-used:{grant.id}:{day}",
                   title=title, body=body, collapse_key=f"proxy:{grant.id}",
                   data=_data(grant, title, body, link=ACTIVITY_LINK, event="used", action_id=action.id,
                              scope=action.scope, day=day))


def revoked(grant: ProxyGrant, *, by: str) -> None:
    """Tell both parties the grant has ended: `by` is principal, proxy (giving it up) or session (the
    principal revoked the login session that made it)."""
    principal, proxy = grant.principal_name_masked, grant.proxy_name_masked
    title = T_("代办授权已撤销")
    if by == "proxy":
        to_principal = N_("{proxy} 已放弃您的代办授权，今后不能再为您代办。", proxy=proxy)
        to_proxy = N_("您已放弃 {principal} 的代办授权，今后不能再为其代办。", principal=principal)
    else:
        if by == "session":
            to_principal = N_("您退出了一个登录，在该登录中建立的对 {proxy} 的代办授权已一并撤销。", proxy=proxy)
        else:
            to_principal = N_("您已撤销对 {proxy} 的代办授权，对方不能再为您代办。", proxy=proxy)
        to_proxy = N_("{principal} 已撤销对您的代办授权，您不能再为其代办。", principal=principal)
    for user_id, body in ((grant.principal_id, to_principal), (grant.proxy_id, to_proxy)):
        enqueue(user_id=user_id, kind="proxy_revoked", dedupe_key=f"proxy-grant:{grant.id}:revoked:{user_id}",
                title=title, body=body, data=_data(grant, title, body, event="revoked", revoked_by=by),
                collapse_key=f"proxy:{grant.id}")
