"""The case status chain (办件状态) and its transition table.

After the Guangdong spec and the Fuzhou system: 已提交 → 预受理 → 受理 | 不予受理 → 补正 (clock
paused) → 审查/办理中 ⇄ 特别程序/挂起 (paused) → 准予 | 不予许可 → 办结 → 送达/领取; 撤件 until a
decision is made. A department event moving a case along an edge not listed here is refused
(`illegal_transition`) and recorded as a rejected event.
"""
from __future__ import annotations

from app import i18n
from app.i18n import N_

LABELS: dict[str, str] = {
    "submitted": N_("已提交"),
    "pre_accepted": N_("预受理"),
    "accepted": N_("受理"),
    "not_accepted": N_("不予受理"),
    "supplement_required": N_("补正"),
    "in_review": N_("审查/办理中"),
    "suspended": N_("特别程序/挂起"),
    "approved": N_("准予"),
    "denied": N_("不予许可"),
    "concluded": N_("办结"),
    "delivered": N_("送达/领取"),
    "withdrawn": N_("撤件"),
}
STATUSES = tuple(LABELS)
i18n.register_labels("case_status", LABELS)

_WITHDRAWABLE = ("submitted", "pre_accepted", "accepted", "supplement_required", "in_review", "suspended")

# None: the case has no applied event yet (its first event opens it).
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"submitted", "pre_accepted", "accepted", "not_accepted"}),
    "submitted": frozenset({"pre_accepted", "accepted", "not_accepted", "supplement_required"}),
    "pre_accepted": frozenset({"accepted", "not_accepted", "supplement_required"}),
    "accepted": frozenset({"in_review", "supplement_required", "suspended", "approved", "denied"}),
    # 补正 happens before acceptance (一次性告知) or during review; the case returns to either.
    "supplement_required": frozenset({"pre_accepted", "accepted", "not_accepted", "in_review"}),
    "in_review": frozenset({"in_review", "supplement_required", "suspended", "approved", "denied"}),
    "suspended": frozenset({"in_review"}),
    "approved": frozenset({"concluded"}),
    "denied": frozenset({"concluded"}),
    "concluded": frozenset({"delivered"}),
    "delivered": frozenset(),
    "not_accepted": frozenset(),
    "withdrawn": frozenset(),
}
for _status in _WITHDRAWABLE:
    TRANSITIONS[_status] = TRANSITIONS[_status] | {"withdrawn"}

PAUSED = frozenset({"supplement_required", "suspended"})  # the SLA clock stops (补正, 特别程序)
CLOCK_STARTS = "accepted"  # the promised time runs from acceptance (受理)
SLA_RUNNING = frozenset({"accepted", "in_review"})  # the clock runs and no decision yet: it can be missed
CONCLUDED = frozenset({"concluded", "delivered"})  # may be rated (好差评)
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if s is not None and not nxt)


def allowed(current: str | None, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def label(status: str | None) -> str | None:
    """The Chinese label, for what is stored (notices, timeline); answers use i18n.label("case_status", …)."""
    return LABELS.get(status) if status else None
