"""Evaluation tags (好差评标签): a fixed catalogue per rating level, after GB/T 39735's indicators.

A tag is a stable code; its words follow the answer's language. A rating of 4–5 takes the praise
tags, 3 the mild reservations, 1–2 the complaints (a 差评 names what went wrong, and the
department's follow-up answers it). The catalogue is listed by `GET /cases/evaluation-tags`.
"""
from __future__ import annotations

from typing import Any

from app import i18n

PRAISE = {
    "one_visit": ("一次办成", "Done in one visit"),
    "quick": ("办理快捷", "Quick to handle"),
    "friendly_staff": ("态度热情", "Friendly staff"),
    "clear_guidance": ("指引清晰", "Clear guidance"),
    "easy_online": ("网上办理方便", "Easy online"),
}
RESERVATIONS = {
    "wait_a_while": ("等待稍久", "Waited a while"),
    "many_steps": ("流程较繁琐", "Quite a few steps"),
    "guidance_vague": ("指引不够清晰", "Guidance could be clearer"),
}
COMPLAINTS = {
    "long_wait": ("等待时间长", "Long wait"),
    "unfriendly_staff": ("态度不好", "Unfriendly staff"),
    "repeated_visits": ("多次跑动", "Had to come back several times"),
    "unclear_requirements": ("材料要求不明确", "Unclear document requirements"),
    "overdue": ("超时未办结", "Not finished on time"),
    "system_fault": ("系统故障", "System fault"),
    "improper_fees": ("违规收费", "Improper fees"),
}
BY_RATING: dict[int, dict[str, tuple[str, str]]] = {5: PRAISE, 4: PRAISE, 3: RESERVATIONS, 2: COMPLAINTS,
                                                    1: COMPLAINTS}
CODES = tuple(dict.fromkeys([*PRAISE, *RESERVATIONS, *COMPLAINTS]))
_ALL = {**PRAISE, **RESERVATIONS, **COMPLAINTS}
i18n.register_labels("evaluation_tag", {c: zh for c, (zh, _) in _ALL.items()},
                     {c: en for c, (_, en) in _ALL.items()})


def allowed(rating: int) -> list[str]:
    """The tag codes a rating may carry, in catalogue order."""
    return list(BY_RATING[rating])


def labels(codes: list[str]) -> list[str]:
    """The tags' words in the answer's language (a code no longer in the catalogue stays as is)."""
    return [i18n.label("evaluation_tag", code) for code in codes]


def catalogue() -> dict[str, Any]:
    """Every rating level with its label and its tags (code and words)."""
    return {"items": [{"rating": rating, "rating_label": i18n.label("rating", rating),
                       "tags": [{"code": code, "label": i18n.label("evaluation_tag", code)} for code in tags]}
                      for rating, tags in sorted(BY_RATING.items(), reverse=True)]}
