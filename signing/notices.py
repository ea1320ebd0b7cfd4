"""Security notices about cloud signing (电子签名安全提醒), written to the notification outbox in
the same transaction as the change they report.

Every enrolment, revocation, wrong PIN and PIN lockout is told to the citizen at once on every
channel they have (urgent: quiet hours do not hold it, SMS devices get it too), with what to do
when it was not them: someone holding their login could otherwise replace their signing key
unnoticed. Bodies carry no personal data: the certificate's serial is shortened to its tail.
Each notice carries its English in its data (`title_en`, `body_en`, from the catalogue: shown on
`Accept-Language: en`).
"""
from __future__ import annotations

from datetime import datetime

from app.clock import rfc3339, to_china
from app.db import new_id
from app.i18n import N_, T_, in_english
from notify.service import enqueue

KIND = "signing_security"
_NOT_YOU = T_("如非本人操作，您的账号可能已被他人登录：请立即在“我的-登录设备”中退出其他设备，吊销签名证书，并拨打 12345 联系客服。")


def _tail(serial: str) -> str:
    return serial[-8:].upper()


def enrolled(*, user_id: str, credential_id: str, serial: str) -> None:
    title = T_("电子签名已开通")
    body = N_("您已开通电子签名，签名证书（序列号尾号 {serial}）已签发。{not_you}", serial=_tail(serial), not_you=_NOT_YOU)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body, dedupe_key=f"signing-enrolled:{credential_id}",
            data={"event": "enrolled", "serial": serial, **in_english(title=title, body=body)},
            urgent=True, collapse_key="signing")


def revoked(*, user_id: str, credential_id: str, serial: str, via: str) -> None:
    how = T_("签名密码") if via == "pin" else T_("短信验证码与人脸核验")
    title = T_("电子签名证书已吊销")
    body = N_("您的签名证书（序列号尾号 {serial}）已通过{how}吊销，此后不能再用它签名。"
              "如非本人操作，请立即拨打 12345 联系客服，并在“我的-登录设备”中退出其他设备。", serial=_tail(serial), how=how)
    enqueue(user_id=user_id, kind=KIND, title=title, body=body, dedupe_key=f"signing-revoked:{credential_id}",
            data={"event": "revoked", "serial": serial, **in_english(title=title, body=body)},
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
