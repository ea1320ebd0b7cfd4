"""Evaluation tags (好差评标签): a fixed catalogue per rating level, after GB/T 39735's indicators.

A tag is a stable code; its words follow the answer's language. A rating of 4–5 takes the praise
tags, 3 the mild reservations, 1–2 the complaints (a 差评 names what went wrong, and the
department's follow-up answers it). The catalogue is listed by `GET /cases/evaluation-tags`.
"""
from __future__ import annotations

from typing import Any

from app import i18n
from app.i18n import N_

PRAISE = {
    "one_visit": N_("一次办成"),
    "quick": N_("办理快捷"),
    "friendly_staff": N_("态度热情"),
    "clear_guidance": N_("指引清晰"),
    "easy_online": N_("网上办理方便"),
}
RESERVATIONS = {
    "wait_a_while": N_("等待稍久"),
    "many_steps": N_("流程较繁琐"),
    "guidance_vague": N_("指引不够清晰"),
}
COMPLAINTS = {
    "long_wait": N_("等待时间长"),
    "unfriendly_staff": N_("态度不好"),
    "repeated_visits": N_("多次跑动"),
    "unclear_requirements": N_("材料要求不明确"),
    "overdue": N_("超时未办结"),
    "system_fault": N_("系统故障"),
    "improper_fees": N_("违规收费"),
}
BY_RATING: dict[int, dict[str, str]] = {5: PRAISE, 4: PRAISE, 3: RESERVATIONS, 2: COMPLAINTS, 1: COMPLAINTS}
CODES = tuple(dict.fromkeys([*PRAISE, *RESERVATIONS, *COMPLAINTS]))
_ALL = {**PRAISE, **RESERVATIONS, **COMPLAINTS}
i18n.register_labels("evaluation_tag", _ALL)


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
