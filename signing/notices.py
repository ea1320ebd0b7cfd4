"""Security notices about cloud signing (电子签名安全提醒), written to the notification outbox in
the same transaction as the change they report.

Every enrolment, revocation, wrong PIN, PIN lockout, PIN change and PIN reset (issue 18) is
told to the citizen at once on every channel they have (urgent: quiet hours do not hold it, SMS
devices get it too), with what to do when it was not them: someone holding their login could
otherwise replace their signing key unnoticed. Bodies carry no personal data: the certificate's
serial is shortened to its tail. Each notice carries its English in its data (`title_en`,
`body_en`, from the catalogue: shown on `Accept-Language: en`).

Issue 16 adds the citizen's signing events: a request waiting (one notice per request or batch),
signed, refused by the citizen, and the certificate about to expire (30 and 7 days before its
not_after, China dates: `flask signing remind-expiring`). Every notice's data carries the deep link
the app opens (`link`, `screen: signing` and the object's id): `yiwang://signing/requests/<id>`,
`yiwang://signing/batches/<id>`, `yiwang://signing/certificate/<serial>`. Texts name the document
only by the title the citizen's app gave it, never its contents.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.clock import rfc3339, to_china
from app.db import new_id
from app.i18n import N_, T_, in_english
from notify.service import enqueue

KIND = "signing_security"
REQUEST_LINK = "yiwang://signing/requests/{}"
BATCH_LINK = "yiwang://signing/batches/{}"
CERTIFICATE_LINK = "yiwang://signing/certificate/{}"
THRESHOLDS = (30, 7)  # days before the certificate's not_after (China dates), the larger first
_NOT_YOU = T_("如非本人操作，您的账号可能已被他人登录：请立即在“我的-登录设备”中退出其他设备，吊销签名证书，并拨打 12345 联系客服。")


def _tail(serial: str) -> str:
    return serial[-8:].upper()


def _links(*, request_id: str | None = None, batch_id: str | None = None, serial: str | None = None) -> dict:
    if batch_id:
        return {"screen": "signing", "batch_id": batch_id, "link": BATCH_LINK.format(batch_id)}
    if request_id:
        return {"screen": "signing", "request_id": request_id, "link": REQUEST_LINK.format(request_id)}
    return {"screen": "signing", "serial": serial, "link": CERTIFICATE_LINK.format(serial)}


def _send(*, user_id: str, kind: str, title: str, body: str, key: str, links: dict, collapse: str,
          **extra: Any) -> bool:
    data = {**links, **extra, **in_english(title=title, body=body)}
    return enqueue(user_id=user_id, kind=kind, title=title, body=body, dedupe_key=f"signing-{key}", data=data,
                   collapse_key=collapse)


def enrolled(*, user_id: str, credential_id: str, serial: str) -> None:
    title = T_("电子签名已开通")
    body = N_("您已开通电子签名，签名证书（序列号尾号 {serial}）已签发。{not_you}", serial=_tail(serial), not_you=_NOT_YOU)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body, dedupe_key=f"signing-enrolled:{credential_id}",
            data={"event": "enrolled", **_links(serial=serial), **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing")


def revoked(*, user_id: str, credential_id: str, serial: str, via: str) -> None:
    how = T_("签名密码") if via == "pin" else T_("短信验证码与人脸核验")
    title = T_("电子签名证书已吊销")
    body = N_("您的签名证书（序列号尾号 {serial}）已通过{how}吊销，此后不能再用它签名。"
              "如非本人操作，请立即拨打 12345 联系客服，并在“我的-登录设备”中退出其他设备。", serial=_tail(serial), how=how)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body, dedupe_key=f"signing-revoked:{credential_id}",
            data={"event": "revoked", **_links(serial=serial), **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing")


def pin_failed(*, user_id: str, credential_id: str, failed: int, tries_left: int) -> None:
    title = T_("签名密码输入错误")
    body = N_("您的签名密码已连续输错 {failed} 次，再错 {tries_left} 次电子签名将被锁定。{not_you}",
              failed=failed, tries_left=tries_left, not_you=_NOT_YOU)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body,
            dedupe_key=f"signing-pin-failed:{credential_id}:{new_id('n')}",
            data={"event": "pin_failed", "failed": failed, **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing-pin")


def pin_locked(*, user_id: str, credential_id: str, until: datetime) -> None:
    title = T_("电子签名已锁定")
    body = N_("签名密码错误次数过多，电子签名已锁定至北京时间 {until:%H:%M}。{not_you}", until=to_china(until),
              not_you=_NOT_YOU)
    enqueue(user_id=user_id, kind="signing_locked", title=title, body=body,
            dedupe_key=f"signing-locked:{credential_id}:{until.isoformat()}",
            data={"event": "pin_locked", "locked_until": rfc3339(until), **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing-pin")


def pin_changed(*, user_id: str, credential_id: str, serial: str, via: str) -> None:
    """The signing PIN was changed (`via` change: with the old PIN) or reset (`via` reset: SMS step-up
    and a fresh face check, the lockout lifted). The key and certificate stay."""
    if via == "reset":
        title = T_("签名密码已重设")
        body = N_("您的签名密码已通过短信验证码与人脸核验重设，电子签名的锁定已解除；签名证书（序列号尾号 {serial}）不变，"
                  "此后只能用新的签名密码签名。{not_you}", serial=_tail(serial), not_you=_NOT_YOU)
    else:
        title = T_("签名密码已修改")
        body = N_("您的签名密码已修改；签名证书（序列号尾号 {serial}）不变，此后只能用新的签名密码签名。{not_you}",
                  serial=_tail(serial), not_you=_NOT_YOU)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body,
            dedupe_key=f"signing-pin-{via}:{credential_id}:{new_id('n')}",
            data={"event": f"pin_{via}", **_links(serial=serial), **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing-pin")


def request_waiting(*, user_id: str, title: str, count: int, request_id: str | None = None,
                    batch_id: str | None = None) -> bool:
    """A signing request (or a batch of `count`) waiting for the citizen's authorisation."""
    links = _links(request_id=request_id, batch_id=batch_id)
    if batch_id:
        body = N_("有 {count} 份文件（含“{title}”）等待您签署，请核对文件内容后用签名密码授权。", count=count, title=title)
    else:
        body = N_("文件“{title}”等待您签署，请核对文件内容后用签名密码授权。", title=title)
    return _send(user_id=user_id, kind="signing_request", title=T_("有文件待签署"), body=body,
                 key=f"waiting:{batch_id or request_id}", links=links, collapse=f"signing:{batch_id or request_id}",
                 event="waiting", count=count)


def signed(*, user_id: str, title: str, count: int, request_id: str | None = None,
           batch_id: str | None = None) -> bool:
    """The citizen's authorisation signed the request (or every request of the batch)."""
    links = _links(request_id=request_id, batch_id=batch_id)
    if batch_id:
        body = N_("{count} 份文件（含“{title}”）已用您的签名证书签署。如非本人操作，请立即吊销签名证书并拨打 12345。",
                  count=count, title=title)
    else:
        body = N_("文件“{title}”已用您的签名证书签署。如非本人操作，请立即吊销签名证书并拨打 12345。", title=title)
    return _send(user_id=user_id, kind="signing_signed", title=T_("文件已签署"), body=body,
                 key=f"signed:{batch_id or request_id}", links=links, collapse=f"signing:{batch_id or request_id}",
                 event="signed", count=count)


def refused(*, user_id: str, title: str, request_id: str) -> bool:
    """The citizen refused to sign the request."""
    body = N_("您已拒绝签署文件“{title}”，该请求已作废，不能再授权签名。", title=title)
    return _send(user_id=user_id, kind="signing_refused", title=T_("已拒绝签署"), body=body,
                 key=f"refused:{request_id}", links=_links(request_id=request_id), collapse=f"signing:{request_id}",
                 event="refused")


def certificate_expiring(*, user_id: str, serial: str, until: date, threshold: int, days_left: int) -> bool:
    """The signing certificate ends soon: one notice per certificate and threshold (30 or 7 days)."""
    body = N_("您的签名证书（序列号尾号 {serial}）将于{until.year}年{until.month}月{until.day}日到期（还有 {days} 天），"
              "到期后不能再签名。请在到期前吊销并重新开通电子签名。", serial=_tail(serial), until=until, days=days_left)
    return _send(user_id=user_id, kind="signing_cert_expiring", title=T_("签名证书即将到期"), body=body,
                 key=f"expiring:{serial}:{threshold}", links=_links(serial=serial), collapse="signing-certificate",
                 event="expiring", threshold=threshold, not_after=until.isoformat())
