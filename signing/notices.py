"""Security notices about cloud signing (电子签名安全提醒), written to the notification outbox in
the same transaction as the change they report.

Every enrolment, revocation, wrong PIN and PIN lockout is told to the citizen at once on every
channel they have (urgent: quiet hours do not hold it, SMS devices get it too), with what to do
when it was not them: someone holding their login could otherwise replace their signing key
unnoticed. Bodies carry no personal data: the certificate's serial is shortened to its tail.
Each notice carries its English in its data (`title_en`, `body_en`: shown on `Accept-Language: en`).
"""
from __future__ import annotations

from datetime import datetime

from app.clock import rfc3339, to_china
from app.db import new_id
from notify.service import enqueue

KIND = "signing_security"
_NOT_YOU = "如非本人操作，您的账号可能已被他人登录：请立即在“我的-登录设备”中退出其他设备，吊销签名证书，并拨打 12345 联系客服。"
_NOT_YOU_EN = ("If this was not you, someone may be signed in to your account: sign out other devices under "
               "Me > Devices now, revoke the signing certificate and call 12345.")


def _en(title: str, body: str) -> dict[str, str]:
    return {"title_en": title, "body_en": body}


def _tail(serial: str) -> str:
    return serial[-8:].upper()


def enrolled(*, user_id: str, credential_id: str, serial: str) -> None:
    enqueue(user_id=user_id, kind=KIND, title="电子签名已开通",
            body=f"您已开通电子签名，签名证书（序列号尾号 {_tail(serial)}）已签发。{_NOT_YOU}",
            dedupe_key=f"signing-enrolled:{credential_id}",
            data={"event": "enrolled", "serial": serial, **_en(
                "Electronic signing enabled", f"Electronic signing is enabled; a signing certificate (serial ending "
                                              f"{_tail(serial)}) has been issued. {_NOT_YOU_EN}")},
            urgent=True, collapse_key="signing")


def revoked(*, user_id: str, credential_id: str, serial: str, via: str) -> None:
    how = "签名密码" if via == "pin" else "短信验证码与人脸核验"
    how_en = "your signing PIN" if via == "pin" else "a text-message code and face verification"
    enqueue(user_id=user_id, kind=KIND, title="电子签名证书已吊销",
            body=f"您的签名证书（序列号尾号 {_tail(serial)}）已通过{how}吊销，此后不能再用它签名。"
                 f"如非本人操作，请立即拨打 12345 联系客服，并在“我的-登录设备”中退出其他设备。",
            dedupe_key=f"signing-revoked:{credential_id}",
            data={"event": "revoked", "serial": serial, **_en(
                "Signing certificate revoked", f"Your signing certificate (serial ending {_tail(serial)}) was revoked "
                                               f"with {how_en} and can no longer sign. If this was not you, call 12345 "
                                               f"now and sign out other devices under Me > Devices.")},
            urgent=True, collapse_key="signing")


def pin_failed(*, user_id: str, credential_id: str, failed: int, tries_left: int) -> None:
    enqueue(user_id=user_id, kind=KIND, title="签名密码输入错误",
            body=f"您的签名密码已连续输错 {failed} 次，再错 {tries_left} 次电子签名将被锁定。{_NOT_YOU}",
            dedupe_key=f"signing-pin-failed:{credential_id}:{new_id('n')}",
            data={"event": "pin_failed", "failed": failed, **_en(
                "Wrong signing PIN", f"Your signing PIN was entered wrongly {failed} times in a row; {tries_left} more "
                                     f"and electronic signing will be locked. {_NOT_YOU_EN}")},
            urgent=True, collapse_key="signing-pin")


def pin_locked(*, user_id: str, credential_id: str, until: datetime) -> None:
    enqueue(user_id=user_id, kind="signing_locked", title="电子签名已锁定",
            body=f"签名密码错误次数过多，电子签名已锁定至北京时间 {to_china(until):%H:%M}。{_NOT_YOU}",
            dedupe_key=f"signing-locked:{credential_id}:{until.isoformat()}",
            data={"event": "pin_locked", "locked_until": rfc3339(until), **_en(
                "Electronic signing locked", f"Too many wrong signing PINs: electronic signing is locked until "
                                             f"{to_china(until):%H:%M} China time. {_NOT_YOU_EN}")},
            urgent=True, collapse_key="signing-pin")
