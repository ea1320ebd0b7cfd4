"""Consent notices (用证授权), written to the notify outbox in the caller's transaction.

- requested (`consent_request`, urgent: the verifier waits a few minutes): who asks, for which
  matter; deep link `yiwang://consent/<id>` opens the request in the app.
- disclosed (`consent_disclosed`): after an approval, the record of what went to whom (field names,
  never values) — the same words a stolen session could not hide.
"""
from __future__ import annotations

from app import i18n
from app.i18n import N_, T_, Series, in_english
from app.clock import to_china
from consent.models import ConsentRequest
from notify.service import enqueue
from wallet import service as wallet

LINK = "yiwang://consent/{}"


def _data(request: ConsentRequest, title: str, body: str, **extra) -> dict:
    return {"screen": "consent", "request_id": request.id, "link": LINK.format(request.id), **extra,
            **in_english(title=title, body=body)}


def _zh(kind: str, code):
    """A label as a Text (Chinese, translated where the notice is read)."""
    with i18n.use("zh-CN"):
        return T_(str(i18n.label(kind, code)))


def _matter(request: ConsentRequest):
    """The matter's name in both languages (the catalogue's row: Words), or its code."""
    matter = wallet.consent_matter(request.matter)
    return matter["name"] if matter else request.matter


def requested(request: ConsentRequest) -> None:
    until = to_china(request.expires_at).strftime("%H:%M")
    title = T_("有机构请求核验您的证照")
    body = N_("{verifier} 请求为“{matter}”核验您的电子证照，请在 {until} 前在“用证授权”中同意或拒绝。"
              "如您未在该机构办理业务，请拒绝。", verifier=request.verifier_name, matter=_matter(request), until=until)
    enqueue(user_id=request.user_id, kind="consent_request", urgent=True, dedupe_key=f"consent:{request.id}:asked",
            title=title, body=body, data=_data(request, title, body, event="requested"),
            collapse_key=f"consent:{request.id}")


def disclosed(request: ConsentRequest, type_code: str, keys: list[str]) -> None:
    labels = Series(_zh("licence_field", (type_code, key)) for key in keys)
    title = T_("您已向机构出示证照信息")
    body = N_("您已同意向 {verifier} 出示“{matter}”所需的信息：{fields:、}。如非本人操作，请立即在“登录设备”中退出可疑登录。",
              verifier=request.verifier_name, matter=_matter(request), fields=labels)
    enqueue(user_id=request.user_id, kind="consent_disclosed", dedupe_key=f"consent:{request.id}:disclosed",
            title=title, body=body, data=_data(request, title, body, event="disclosed"),
            collapse_key=f"consent:{request.id}")
