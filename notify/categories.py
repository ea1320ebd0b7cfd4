"""Notice categories (消息类别): the notice kinds (notify/outbox.py KINDS) grouped as a citizen thinks of
them, for the per-category push switches of GET/PUT /notifications/preferences.

One table: every kind belongs to exactly one category (tests/notify/test_preferences_detail.py checks
it). A muted category gets no push; its notices still reach the inbox and the live stream, so the
citizen can read them. The `security` category is locked: it holds the security and critical kinds
(`CRITICAL_KINDS`: a new device, a signing PIN locked or key changed, account security, a licence
suspended or revoked), which cannot be muted — GET lists it with `locked: true` and its reason, and a
PUT switching it off is refused (422 `category_locked`, naming it).
"""
from __future__ import annotations

from app.i18n import N_, T_
from notify.outbox import CRITICAL_KINDS, KINDS

# category → (name, kinds), in the order the settings screen lists them
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "licences": (T_("证照"), ("licence_issued", "licence_restored", "licence_expiring", "licence_used",
                               "consent_request", "consent_disclosed")),
    "signing": (T_("签名"), ("signing_request", "signing_signed", "signing_refused", "signing_cert_expiring")),
    "cases": (T_("办件"), ("case_status", "case_sla_due", "follow_up_answered", "evaluation_invite",
                          "evaluation_reminder")),
    "appointments": (T_("预约"), ("appointment_reminder", "appointment_booked", "appointment_cancelled",
                                 "appointment_missed", "appointment_banned")),
    "proxies": (T_("亲属代办"), ("proxy_invited", "proxy_declined", "proxy_used", "proxy_revoked")),
    "enterprises": (T_("企业经办"), ("enterprise_agent_invited", "enterprise_agent_revoked")),
    "service": (T_("服务通知"), ("system",)),
    "security": (T_("账号与安全"), tuple(k for k in KINDS if k in CRITICAL_KINDS)),
}
# Categories that cannot be muted, and why (shown beside the locked switch).
LOCKED: dict[str, str] = {
    "security": N_("新设备登录、签名 PIN 锁定与签名安全、账号安全、证照暂扣或吊销的通知不能关闭：它们会推送到所有渠道，"
                   "必要时以短信发到您绑定的手机。"),
}
CATEGORY_OF: dict[str, str] = {kind: category for category, (_name, kinds) in CATEGORIES.items() for kind in kinds}


def category_of(kind: str) -> str:
    """The category of a notice kind (`service` for a kind the table does not list)."""
    return CATEGORY_OF.get(kind, "service")


def muted(kind: str, muted_categories) -> bool:
    """Whether a notice of `kind` gets no push for a citizen who muted `muted_categories` (a locked
    category's kinds never are; neither are the critical kinds, wherever they are listed)."""
    category = category_of(kind)
    return kind not in CRITICAL_KINDS and category not in LOCKED and category in muted_categories
