/* Family proxies in words: the scopes, a grant's status, who revoked it and what a proxy did (as the
 * notices word them). Shared by the proxies view and its invitation form. */
import { t } from "../../i18n.js";
import { el } from "../../ui.js";

export function scopeLabel(scope) {
  return {
    "licences:view": t("查看电子证照", "View e-licences"),
    "licences:present": t("出示电子证照（亮证）", "Show e-licences (QR)"),
    "cases:follow": t("查看办件进度", "Follow cases"),
    "appointments:book": t("预约办事", "Book appointments"),
  }[scope] || scope;
}

export function scopesText(scopes) { return (scopes || []).map(scopeLabel).join(t("、", ", ")); }

export function statusLabel(status) {
  return {
    pending: t("待接受", "Awaiting acceptance"),
    active: t("已生效", "Active"),
    declined: t("已拒绝", "Declined"),
    revoked: t("已撤销", "Revoked"),
    expired: t("已过期", "Expired"),
  }[status] || status;
}

export function revokedBy(by) {
  return {
    principal: t("授权人撤销", "revoked by the person who authorised it"),
    proxy: t("代办人放弃", "given up by the proxy"),
    session: t("随登录会话一并撤销", "revoked with the sign-in session that made it"),
  }[by] || "";
}

/* What a proxy did, by the route's delegation scope and the method (as the notices word it). */
export function doneLabel(action) {
  const m = action.method;
  switch (action.scope) {
    case "licences:view": return t("查看了电子证照", "Viewed the e-licences");
    case "licences:present": return m === "DELETE" ? t("撤回了一次亮证", "Withdrew a licence QR") : t("出示了电子证照（亮证）", "Showed an e-licence (QR)");
    case "cases:follow": return t("查看了办件进度", "Followed the cases");
    case "appointments:book":
      if (m === "POST") { return t("预约了办事", "Booked an appointment"); }
      return m === "DELETE" ? t("取消了一个预约", "Cancelled an appointment") : t("查看了预约", "Viewed the appointments");
    default: return t("代办操作", "An action") + " (" + m + ")";
  }
}

export function statusTag(status) { return el("span", "tag proxy-status proxy-" + status, statusLabel(status)); }
