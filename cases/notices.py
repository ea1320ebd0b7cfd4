"""Notices about cases, written to the notification outbox inside the caller's transaction.

Titles and bodies carry no personal data: the case number and the item name only (the
department's free-text message stays in the app's timeline, behind the citizen's login). Each
notice carries its English too (`title_en`, `body_en` in its data; the inbox shows it on
`Accept-Language: en`); the English names the case by its number, the item's name being Chinese.
Each carries the deep link the app opens, `link: yiwang://cases/<id>` (plus `screen: cases`).

Events (issue 16): a status change (补正 with its due date, when given), the SLA about to be missed
(`flask cases remind-sla`: once per case and due date, within 1 working day of it), the 好差评
invitation and reminder, and a 差评 answered by the department (the answer itself stays behind the
citizen's login, in the case timeline).
"""
from __future__ import annotations

from datetime import date, datetime

from app import i18n
from app.i18n import N_, T_
from cases.models import Case
from cases.statuses import label
from notify.service import enqueue

LINK = "yiwang://cases/{}"


def _data(case: Case, title: str, body: str, **extra: str) -> dict[str, str]:
    return {"case_id": case.id, "case_no": case.case_no, "screen": "cases", "link": LINK.format(case.id), **extra,
            **i18n.in_english(title=title, body=body)}


def status_changed(case: Case, *, event_id: str, status: str, supplement_due: date | None = None) -> bool:
    """The notice of one applied event (exactly once per event: its dedupe key). A 补正 notice
    names the deadline for the documents when the department gave one."""
    words = T_(label(status))  # the status's label (marked in cases/statuses.py)
    values = {"item_name": case.item_name, "case_no": case.case_no, "status": words}
    body = N_("您办理的「{item_name}」（办件编号 {case_no}）状态更新为：{status}。", **values)
    extra = {"status": status}
    if supplement_due is not None:
        body = N_("您办理的「{item_name}」（办件编号 {case_no}）状态更新为：{status}。"
                  "请于{due.year}年{due.month}月{due.day}日前补正材料。", due=supplement_due, **values)
        extra["supplement_due"] = supplement_due.isoformat()
    if status == "supplement_required":
        extra["event"] = "supplement"
    title = N_("办件进度：{status}", status=words)
    return enqueue(user_id=case.user_id, kind="case_status", title=title, body=body,
                   dedupe_key=f"case-event:{case.client_id}:{event_id}", data=_data(case, title, body, **extra),
                   collapse_key=case.case_no)


def evaluation_invite(case: Case) -> bool:
    title = T_("邀请您评价办事服务")
    body = N_("您办理的「{item_name}」（办件编号 {case_no}）已办结，欢迎对本次服务作出评价（好差评）。",
              item_name=case.item_name, case_no=case.case_no)
    return enqueue(user_id=case.user_id, kind="evaluation_invite", title=title, body=body,
                   dedupe_key=f"evaluation-invite:{case.id}", data=_data(case, title, body),
                   collapse_key=case.case_no)


def evaluation_reminder(case: Case, *, available_at: datetime | None = None) -> bool:
    title = T_("您还未评价办事服务")
    body = N_("您办理的「{item_name}」（办件编号 {case_no}）已办结，您的评价将帮助我们改进服务（好差评）。",
              item_name=case.item_name, case_no=case.case_no)
    return enqueue(user_id=case.user_id, kind="evaluation_reminder", title=title, body=body,
                   dedupe_key=f"evaluation-reminder:{case.id}", data=_data(case, title, body),
                   collapse_key=case.case_no, available_at=available_at)


def sla_due(case: Case, *, due: date) -> bool:
    """The promised time (承诺时限) about to run out: once per case and due date."""
    title = T_("办件即将超过承诺时限")
    body = N_("您办理的「{item_name}」（办件编号 {case_no}）承诺办结时限为{due.year}年{due.month}月{due.day}日，"
              "即将到期。如有疑问可联系办理部门或拨打 12345。", item_name=case.item_name, case_no=case.case_no, due=due)
    return enqueue(user_id=case.user_id, kind="case_sla_due", title=title, body=body,
                   dedupe_key=f"case-sla:{case.id}:{due.isoformat()}",
                   data=_data(case, title, body, due_date=due.isoformat()), collapse_key=case.case_no)


def follow_up_answered(case: Case, *, follow_up_id: str) -> bool:
    """The department answered the citizen's 差评 (the answer shows in the case timeline)."""
    title = T_("您的评价已收到答复")
    body = N_("您对「{item_name}」（办件编号 {case_no}）的评价已收到办理部门的答复，请在办件详情中查看。",
              item_name=case.item_name, case_no=case.case_no)
    return enqueue(user_id=case.user_id, kind="follow_up_answered", title=title, body=body,
                   dedupe_key=f"follow-up-answered:{follow_up_id}",
                   data=_data(case, title, body, follow_up_id=follow_up_id), collapse_key=case.case_no)
