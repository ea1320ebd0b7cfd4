"""The demo citizen's cases for `flask demo seed` (development only), sent the way a department
sends them (its case events, through a demo department client): one case in each main status, one
waiting for 补正 with a due date, one concluded and waiting for a rating (好差评). Idempotent: a
citizen who has cases is left alone."""
from __future__ import annotations

from datetime import timedelta

from app import calendar
from app.db import utcnow
from cases import service
from identity import service as identity

CLIENT_NAME = "演示业务部门"
# The department's own words (data it sends, like the item names; the platform does not translate them).
SUPPLEMENT_NOTE = "请补充提交不动产权属来源证明（演示）"
# case no, item code and name, the statuses it went through (the last one is where it is now)
CASES = [
    ("DEMO-2026-0001", "GA003", "居住证办理", ["submitted"]),
    ("DEMO-2026-0002", "RS001", "社保卡申领", ["submitted", "accepted"]),
    ("DEMO-2026-0003", "ZJ001", "不动产登记", ["submitted", "accepted", "supplement_required"]),
    ("DEMO-2026-0004", "SC002", "个体工商户登记", ["submitted", "accepted", "in_review"]),
    ("DEMO-2026-0005", "GJJ001", "公积金提取", ["submitted", "accepted", "in_review", "approved", "concluded"]),
]


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    if service.list_cases(user_id=citizen)["items"]:
        return ["cases: the demo citizen's cases are there already"]
    client, _ = identity.create_client(name=CLIENT_NAME, scopes=["cases:write"])
    person = identity.verified_identity(citizen)
    now = utcnow()
    due = calendar.working_days_after(calendar.china_now(now).date(), 5)[-1]
    for case_no, item_code, item_name, statuses in CASES:
        start = now - timedelta(days=len(statuses) + 1)
        for seq, status in enumerate(statuses, start=1):
            event = service.EventIn(
                event_id=f"{case_no}-{seq}", case_no=case_no, applicant_name=person.name,
                applicant_id_number=person.id_number, item_code=item_code, item_name=item_name, status=status,
                seq=seq, occurred_at=start + timedelta(days=seq), promised_days=10,
                message=SUPPLEMENT_NOTE if status == "supplement_required" else None,
                supplement_due=due if status == "supplement_required" else None)
            service.receive_event(client_id=client.client_id, event=event)
    return [f"cases: {len(CASES)} cases for the demo citizen (已提交, 受理, 补正 due {due}, 审查/办理中, "
            "办结 waiting for a rating)"]
