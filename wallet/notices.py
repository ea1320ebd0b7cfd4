"""Notices about the holder's licences (电子证照提醒), written to the notify outbox inside the
caller's transaction (the licence change and its notice commit or roll back together); the notify
worker delivers each to the inbox, the live stream (SSE) and the holder's devices.

Events: issued (or attached, when it was parked for a holder not yet verified), used at a counter
(who, where, for what matter and which fields — the field LABELS, never their values), suspended
(暂扣), restored (暂扣 → 有效, the suspension lifted), revoked or ended otherwise (撤销, 注销, 失效,
办理转出, 吊销, 其他), re-issued, renewed or changed (补领, 换领, 变更: a new version with a new
identifier), about to expire (30 and 7 days before `valid_until`, China dates: `flask wallet
remind-expiring`).

Each notice's data carries the deep link the app opens, `link: yiwang://wallet/licences/<id>`
(plus `screen: wallet` and `licence_id`), and its English (`title_en`, `body_en`, from the
catalogue). Texts carry no personal data: the licence type, dates, the clerk's username, the hall
code, the holder's stated purpose, the status. The department's free-text reason stays behind the
holder's login (the licence detail). Dedupe keys make a retried event a no-op.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from app.i18n import N_, T_, Series, in_english
from notify.service import enqueue
from wallet.catalogue import get_type
from wallet.matters import get_matter
from wallet.models import STATUS_LABELS, Licence

LINK = "yiwang://wallet/licences/{}"
VALID, SUSPENDED = "01", "02"
THRESHOLDS = (30, 7)  # days before valid_until (China dates), the larger first


def _type_name(licence: Licence) -> Any:
    return T_(get_type(licence.type_code).name)  # marked in wallet/catalogue.py


def _send(licence: Licence, *, kind: str, title: str, body: str, key: str, **extra: Any) -> bool:
    data = {"screen": "wallet", "licence_id": licence.id, "link": LINK.format(licence.id), **extra,
            **in_english(title=title, body=body)}
    return enqueue(user_id=licence.user_id, kind=kind, title=title, body=body, dedupe_key=f"licence-{key}",
                   data=data, collapse_key=f"licence:{licence.id}")


def issued(licence: Licence) -> bool:
    """A licence now in the holder's wallet (issued to a verified holder, or attached at verification)."""
    title = T_("新证照已入夹")
    body = N_("您的{type_name}已签发并放入电子证照夹，可在柜台出示使用。", type_name=_type_name(licence))
    return _send(licence, kind="licence_issued", title=title, body=body, key=f"issued:{licence.id}",
                 event="issued")


def attached(licence: Licence) -> bool:
    """A parked licence now in the holder's wallet: told as issued, or by its status when the issuer
    suspended or ended it while it was parked (nobody could be told then)."""
    return issued(licence) if licence.status == "01" else status_changed(licence)


def used(licence: Licence, *, presentation_id: str, clerk: str | None, hall: str | None, purpose: str | None,
         fields: list[str], matter: str | None = None, hall_name: str | None = None,
         matter_name: Any = None) -> bool:
    """A successful counter verification: who, where, for what matter (the 用证事项 the clerk chose,
    else the holder's stated purpose), which fields (labels only). `matter_name`: the matter's name
    when the caller has read the matter already (else it is read here)."""
    licence_type = get_type(licence.type_code)
    known = {f.key: f.label for f in licence_type.fields}
    labels = Series(T_(known[key]) for key in fields if key in known)
    values = {"type_name": _type_name(licence), "clerk": clerk or T_("工作人员"), "hall": hall_name or hall or T_("柜台"),
              "fields": labels or Series([T_("无")])}
    if matter_name is None and matter:
        found = get_matter(matter)
        matter_name = found.name if found else None  # words in both languages, from the catalogue of matters
    if matter_name or purpose:
        body = N_("您的{type_name}刚在{hall}由{clerk}核验，事项：{purpose}；查看了：{fields:、}。"
                  "如非本人出示，请立即联系 12345。", purpose=matter_name or purpose, **values)
    else:
        body = N_("您的{type_name}刚在{hall}由{clerk}核验；查看了：{fields:、}。如非本人出示，请立即联系 12345。",
                  **values)
    title = T_("证照已被核验")
    return _send(licence, kind="licence_used", title=title, body=body, key=f"used:{presentation_id}", event="used",
                 presentation_id=presentation_id, hall=hall, hall_name=hall_name, clerk=clerk, purpose=purpose,
                 fields=list(fields),
                 **({"matter": matter} if matter else {}))


def status_changed(licence: Licence) -> bool:
    """Suspended (暂扣), restored (有效 again) or ended (撤销, 注销, 吊销 …): one notice per new
    version of the licence."""
    status = T_(STATUS_LABELS[licence.status])  # marked in wallet/models.py
    values = {"type_name": _type_name(licence), "status": status}
    if licence.status == VALID:
        kind, title = "licence_restored", T_("证照已恢复有效")
        body = N_("您的{type_name}已被发证机关解除暂扣，恢复有效，可以再次出示使用。详情请查看证照详情。", **values)
    elif licence.status == SUSPENDED:
        kind, title = "licence_suspended", T_("证照已暂扣")
        body = N_("您的{type_name}已被发证机关暂扣，暂扣期间不能出示使用。详情请查看证照详情。", **values)
    else:
        kind, title = "licence_revoked", N_("证照状态变更：{status}", status=status)
        body = N_("您的{type_name}状态已由发证机关变更为“{status}”，此后不能再出示使用。详情请查看证照详情。", **values)
    return _send(licence, kind=kind, title=title, body=body, key=f"status:{licence.id}:{licence.version}",
                 event="status", status=licence.status)


_REISSUE_TITLES = {"reissue": N_("证照已补领"), "renewal": N_("证照已换领"), "change": N_("证照信息已变更")}


def reissued(licence: Licence, *, kind: str) -> bool:
    """Re-issued (补领), renewed (换领) or changed (变更): a new version, the earlier ones superseded."""
    title = T_(_REISSUE_TITLES[kind])
    body = N_("发证机关已为您的{type_name}签发第 {version} 版，此前的版本已作废（旧的截图或离线码将被标记为过期版本）。"
              "请以证照夹中的最新版本出示。", type_name=_type_name(licence), version=licence.version)
    return _send(licence, kind="licence_issued", title=title, body=body,
                 key=f"reissue:{licence.id}:{licence.version}", event=kind, version=licence.version,
                 identifier=licence.identifier)


def expiring(licence: Licence, *, threshold: int, days_left: int) -> bool:
    """About to expire: one notice per licence, validity end and threshold (30 or 7 days)."""
    until: date = licence.valid_until
    title = T_("证照即将到期")
    body = N_("您的{type_name}将于{until.year}年{until.month}月{until.day}日到期（还有 {days} 天），请及时办理换证。",
              type_name=_type_name(licence), until=until, days=days_left)
    return _send(licence, kind="licence_expiring", title=title, body=body,
                 key=f"expiring:{licence.id}:{until.isoformat()}:{threshold}", event="expiring", threshold=threshold,
                 valid_until=until.isoformat())

