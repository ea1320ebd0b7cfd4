"""Notices about cases, written to the notification outbox inside the caller's transaction.

Titles and bodies carry no personal data: the case number and the item name only (the
department's free-text message stays in the app's timeline, behind the citizen's login). Each
notice carries its English too (`title_en`, `body_en` in its data; the inbox shows it on
`Accept-Language: en`); the English names the case by its number, the item's name being Chinese.
"""
from __future__ import annotations

from datetime import date, datetime

from cases.models import Case
from app import i18n
from cases.statuses import LABELS, label
from notify.service import enqueue


def _item(case: Case) -> str:
    return f"「{case.item_name}」（办件编号 {case.case_no}）"


def _data(case: Case, title_en: str, body_en: str, **extra: str) -> dict[str, str]:
    return {"case_id": case.id, "case_no": case.case_no, **extra, "title_en": title_en, "body_en": body_en}


def status_changed(case: Case, *, event_id: str, status: str, supplement_due: date | None = None) -> bool:
    """The notice of one applied event (exactly once per event: its dedupe key). A 补正 notice
    names the deadline for the documents when the department gave one."""
    body = f"您办理的{_item(case)}状态更新为：{label(status)}。"
    status_en = i18n.render(LABELS[status], i18n.EN)
    body_en = f"Your case {case.case_no} is now: {status_en}."
    extra = {"status": status}
    if supplement_due is not None:
        body += f"请于{supplement_due.year}年{supplement_due.month}月{supplement_due.day}日前补正材料。"
        body_en += f" Please provide the missing documents by {supplement_due:%Y-%m-%d}."
        extra["supplement_due"] = supplement_due.isoformat()
    return enqueue(user_id=case.user_id, kind="case_status", title=f"办件进度：{label(status)}", body=body,
                   dedupe_key=f"case-event:{case.client_id}:{event_id}",
                   data=_data(case, f"Case update: {status_en}", body_en, **extra),
                   collapse_key=case.case_no)


def evaluation_invite(case: Case) -> bool:
    return enqueue(user_id=case.user_id, kind="evaluation_invite", title="邀请您评价办事服务",
                   body=f"您办理的{_item(case)}已办结，欢迎对本次服务作出评价（好差评）。",
                   dedupe_key=f"evaluation-invite:{case.id}",
                   data=_data(case, "Please rate our service",
                              f"Your case {case.case_no} is concluded; please tell us how we did."),
                   collapse_key=case.case_no)


def evaluation_reminder(case: Case, *, available_at: datetime | None = None) -> bool:
    return enqueue(user_id=case.user_id, kind="evaluation_reminder", title="您还未评价办事服务",
                   body=f"您办理的{_item(case)}已办结，您的评价将帮助我们改进服务（好差评）。",
                   dedupe_key=f"evaluation-reminder:{case.id}",
                   data=_data(case, "You have not rated our service yet",
                              f"Your case {case.case_no} is concluded; your rating helps us improve."),
                   collapse_key=case.case_no, available_at=available_at)
