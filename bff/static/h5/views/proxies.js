/* Family proxies (亲属代办, 授权代理): the grants I gave (我授权的) and was given (授权我的) with their
 * status; inviting a verified relative (phone + real name, scopes, an end date, and a step-up SMS code
 * to my own phone: a bearer token alone cannot add a lasting proxy); the relative's accept or decline;
 * acting for the principal; the record of what was done; revoking (or giving up) with a confirmation.
 *
 * Routes (the notices' deep links yiwang://proxies/<id>[/activity]): proxies, proxies/<grant id>,
 * proxies/<grant id>/activity. The section #proxies-view is built here.
 *
 * Acting for someone: POST /proxies/{id}/session gives a short-lived delegated token (no refresh). It
 * lives in its own sessionStorage Store ("yiwang.h5.acting") behind a second API client, handed to the
 * shell with ctx.actAs(...): the banner shows on every screen and delegable calls go through
 * ctx.client(). A reload restores it while the token is still valid; a 401 (expired, or the grant
 * revoked) ends it. Managing proxies always uses the person's own client (ctx.api): never delegable. */
import { Store, createClient } from "/static/web/api.js";
import { english, t } from "../i18n.js";
import { $, button, clear, day, el, empty, field, formatTime, item, problem, say, send } from "../ui.js";

const ACTING_KEY = "yiwang.h5.acting";
const HEADERS = { "X-Client": "h5", "X-Client-Version": "1.1.0" };
const SCOPES = ["licences:view", "licences:present", "cases:follow", "appointments:book"];
const MAX_DAYS = 364;  // the API allows 365 days; the end of the chosen day (China time) stays inside
const PAGES = 5;       // grant list pages looked through to find one grant (50 a page)

const acting = new Store(sessionStorage, ACTING_KEY);  // {access, grantId, name, scopes, userId, expiresAt}
const state = { built: null, grant: null, cursor: null, codeTimer: null, lapse: null, inviteOpen: false };
const nodes = {};

/* --- Words ------------------------------------------------------------------------------------- */

function scopeLabel(scope) {
  return {
    "licences:view": t("查看电子证照", "View e-licences"),
    "licences:present": t("出示电子证照（亮证）", "Show e-licences (QR)"),
    "cases:follow": t("查看办件进度", "Follow cases"),
    "appointments:book": t("预约办事", "Book appointments"),
  }[scope] || scope;
}

function scopesText(scopes) { return (scopes || []).map(scopeLabel).join(t("、", ", ")); }

function statusLabel(status) {
  return {
    pending: t("待接受", "Awaiting acceptance"),
    active: t("已生效", "Active"),
    declined: t("已拒绝", "Declined"),
    revoked: t("已撤销", "Revoked"),
    expired: t("已过期", "Expired"),
  }[status] || status;
}

function revokedBy(by) {
  return {
    principal: t("授权人撤销", "revoked by the person who authorised it"),
    proxy: t("代办人放弃", "given up by the proxy"),
    session: t("随登录会话一并撤销", "revoked with the sign-in session that made it"),
  }[by] || "";
}

/* What a proxy did, by the route's delegation scope and the method (as the notices word it). */
function doneLabel(action) {
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

function statusTag(status) { return el("span", "tag proxy-status proxy-" + status, statusLabel(status)); }

/* --- Dates ------------------------------------------------------------------------------------- */

function two(n) { return (n < 10 ? "0" : "") + n; }
function isoDay(d) { return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()); }
function daysAhead(n) { const d = new Date(); d.setDate(d.getDate() + n); return isoDay(d); }

/* --- Acting for someone ------------------------------------------------------------------------ */

/* The delegated client. A refusal ends acting only while its token is still the one held (an answer
 * arriving late for an earlier token leaves a newer one alone). */
function actingClient(ctx, token) {
  return createClient({ session: acting, headers: HEADERS, onExpired: () => {
    if (acting.data && acting.data.access === token) { endActing(ctx, true); }
  } });
}

/* The delegated client to the shell: the banner shows, delegable calls go through ctx.client(). The
 * banner goes when the token runs out, even if nothing is asked by then. */
function handOver(ctx, data) {
  ctx.actAs({ client: actingClient(ctx, data.access), name: data.name, grantId: data.grantId, scopes: data.scopes });
  clearTimeout(state.lapse);
  state.lapse = setTimeout(() => endActing(ctx, true), Math.max(0, data.expiresAt - Date.now()));
}

function startActing(ctx, data) {
  acting.save(data);
  handOver(ctx, data);
}

/* Forget the delegated token (the shell clears the banner, or endActing does). */
function forget() {
  clearTimeout(state.lapse);
  acting.clear();
}

/* End acting here (the token expired or the grant no longer holds: `lapsed`). */
function endActing(ctx, lapsed) {
  if (!ctx.acting && !acting.data) { return; }
  forget();
  ctx.actAs(null);
  if (lapsed) {
    say(t("代办授权已失效或已到时，已结束代办。", "The proxy authorisation has ended or timed out: you are no longer acting for them."));
  }
  ctx.refresh();
}

/* After a reload: the delegated token of this tab, when it is still valid and this person's. */
function restoreActing(ctx) {
  const data = acting.data;
  const user = ctx.user();
  if (!data) { return; }
  if (!user || data.userId !== user.id || !(data.expiresAt > Date.now() + 5000)) { acting.clear(); return; }
  handOver(ctx, data);
}

function actFor(ctx, grant, b) {
  send(b, () => ctx.api.call("POST", "/proxies/" + encodeURIComponent(grant.id) + "/session"),
    t("无法开始代办。", "Could not start acting for them."), (r) => {
      const user = ctx.user();
      startActing(ctx, {
        access: r.data.access_token, grantId: r.data.grant_id, name: (r.data.principal && r.data.principal.name_masked) || "",
        scopes: String(r.data.scope || "").split(" ").filter(Boolean), userId: user && user.id,
        expiresAt: Date.now() + (Number(r.data.expires_in) || 0) * 1000,
      });
      say(t("现在正在代 " + ctx.acting.name + " 办理：下面和证照、办件、预约页面显示的都是对方的信息；办完请点上方的“结束代办”。",
            "You are now acting for " + ctx.acting.name + ": below, and on the licence, case and appointment screens, you see their information. Tap Stop above when you are done."), "info");
      ctx.refresh();
    });
}

/* --- Building the screen ----------------------------------------------------------------------- */

function build(ctx, section) {
  clear(section);
  Object.keys(nodes).forEach((k) => { delete nodes[k]; });
  section.appendChild(el("h2", null, t("亲属代办", "Family proxies")));

  // The lists and the invitation
  const main = nodes.main = el("div", "proxies-main");
  main.id = "proxies-main";
  main.appendChild(el("p", "hint", t("授权家人代您查看证照、办件或预约办事；对方接受后生效，您可随时撤销。电子签名不能授权他人。",
    "Let a family member view your licences, follow your cases or book appointments for you. It takes effect once they accept; you can revoke it at any time. Signing can never be delegated.")));
  const open = nodes.inviteOpen = button(t("邀请亲友代办", "Invite a family member"), () => toggleInvite(true));
  open.id = "proxy-invite-open";
  main.appendChild(open);
  main.appendChild(inviteForm(ctx));
  main.appendChild(el("h3", "proxy-heading", t("我授权的", "People I have authorised")));
  nodes.given = el("ul", "list proxy-list");
  nodes.given.id = "proxies-given";
  main.appendChild(nodes.given);
  main.appendChild(el("h3", "proxy-heading", t("授权我的", "People who authorised me")));
  nodes.received = el("ul", "list proxy-list");
  nodes.received.id = "proxies-received";
  main.appendChild(nodes.received);
  section.appendChild(main);

  // One grant
  const detail = nodes.detail = el("div", "card proxy-detail");
  detail.id = "proxy-detail";
  section.appendChild(detail);

  // The record of actions
  const activity = nodes.activity = el("div", "card proxy-activity");
  activity.id = "proxy-activity";
  nodes.activityTitle = el("h3");
  nodes.activityTitle.id = "proxy-activity-title";
  activity.appendChild(nodes.activityTitle);
  activity.appendChild(el("p", "hint", t("在此授权下代为办理的每一次操作（最新的在前），授权人和代办人都可查看。",
    "Everything done under this authorisation, newest first; both people can read it.")));
  nodes.activityList = el("ul", "list");
  nodes.activityList.id = "proxy-activity-list";
  activity.appendChild(nodes.activityList);
  nodes.activityMore = button(t("加载更多", "Load more"), () => loadActivity(ctx, state.grant, true), "secondary");
  nodes.activityMore.id = "proxy-activity-more";
  activity.appendChild(nodes.activityMore);
  section.appendChild(activity);
  state.built = english() ? "en" : "zh";
}

function inviteForm(ctx) {
  const form = nodes.form = el("form", "card proxy-invite");
  form.id = "proxy-invite-form";
  form.autocomplete = "off";
  form.hidden = !state.inviteOpen;
  form.appendChild(el("h3", null, t("邀请亲友代办", "Invite a family member")));
  form.appendChild(el("p", "hint", t("对方须已注册并完成实名认证；姓名须与其实名信息一致。", "They must have an account with a verified real name; the name must match it.")));
  const phone = field("proxy-phone", t("亲友的手机号", "Their mobile number"),
    { type: "tel", inputmode: "numeric", maxlength: 11, pattern: "1[3-9][0-9]{9}", required: true, placeholder: t("11 位手机号", "11-digit number") });
  form.appendChild(phone.wrap);
  const name = field("proxy-name", t("亲友的真实姓名", "Their real name"), { maxlength: 64, required: true });
  form.appendChild(name.wrap);

  const scopes = el("fieldset", "proxy-scopes");
  scopes.appendChild(el("legend", null, t("可代办的事项", "What they may do for you")));
  SCOPES.forEach((scope) => {
    const row = el("label", "proxy-scope");
    const box = el("input");
    box.type = "checkbox";
    box.value = scope;
    box.id = "proxy-scope-" + scope.replace(":", "-");
    box.checked = scope !== "licences:present";
    row.appendChild(box);
    row.appendChild(el("span", null, scopeLabel(scope)));
    scopes.appendChild(row);
  });
  scopes.appendChild(el("p", "hint", t("电子签名等事项只能本人办理，不能授权。", "Signing and your account itself can only be handled by you.")));
  form.appendChild(scopes);

  const until = field("proxy-until", t("授权截止日期", "Valid until"), { type: "date", required: true, min: daysAhead(1), max: daysAhead(MAX_DAYS) });
  until.input.value = daysAhead(180);
  form.appendChild(until.wrap);

  const step = el("div", "proxy-step-up");
  step.appendChild(el("p", "hint", t("为保护您的账号，新增代办人需要发送到您本人手机的短信验证码。",
    "To protect your account, adding a proxy needs a code sent by SMS to your own phone.")));
  const code = field("proxy-code", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: 6, pattern: "[0-9]{6}", required: true, autocomplete: "one-time-code" });
  step.appendChild(code.wrap);
  const getCode = nodes.codeButton = button(t("获取验证码", "Get code"), () => sendCode(ctx), "secondary");
  getCode.id = "proxy-code-send";
  step.appendChild(getCode);
  const dev = nodes.devCode = el("p", "dev");
  dev.id = "proxy-dev-code";
  dev.hidden = true;
  step.appendChild(dev);
  form.appendChild(step);

  const submit = button(t("发送邀请", "Send the invitation"), null, "", "submit");
  submit.id = "proxy-invite-submit";
  form.appendChild(submit);
  const cancel = button(t("取消", "Cancel"), () => toggleInvite(false), "secondary");
  cancel.id = "proxy-invite-cancel";
  form.appendChild(cancel);
  form.addEventListener("submit", (e) => { e.preventDefault(); invite(ctx, submit); });
  return form;
}

function toggleInvite(open) {
  state.inviteOpen = open;
  nodes.form.hidden = !open;
  nodes.inviteOpen.hidden = open;
  if (open) { $("proxy-phone").focus(); }
}

/* --- Inviting ---------------------------------------------------------------------------------- */

function codeCountdown(seconds) {
  const b = nodes.codeButton;
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  clearInterval(state.codeTimer);
  function tick() {
    if (!b.isConnected) { clearInterval(state.codeTimer); return; }
    const left = Math.ceil((until - Date.now()) / 1000);
    b.disabled = left > 0;
    b.textContent = left > 0 ? t("重新获取（" + left + " 秒）", "Resend (" + left + " s)") : t("获取验证码", "Get code");
    if (left <= 0) { clearInterval(state.codeTimer); }
  }
  tick();
  state.codeTimer = setInterval(tick, 1000);
}

function sendCode(ctx) {
  send(nodes.codeButton, () => ctx.api.call("POST", "/me/step-up/sms-codes", { purpose: "proxy_grant" }),
    t("验证码发送失败。", "The code could not be sent."), (r) => {
      codeCountdown(r.data.resend_after);
      say(t("验证码已发送至 " + (r.data.phone_masked || "您的手机"), "A code has been sent to " + (r.data.phone_masked || "your phone")), "info");
      return devCode(ctx, r.data.phone_masked);
    });
}

/* Development only: the code from the dev SMS outbox, the newest sent to a phone with this mask (the
 * page never learns the full number). In production there is no outbox and nothing happens. */
function devCode(ctx, masked) {
  const m = /^(\d{3})\*+(\d{4})$/.exec(masked || "");
  if (!m) { return null; }
  return ctx.api.send("GET", "/dev/sms-outbox").then((r) => {
    const items = (r.ok && r.data.items) || [];
    const hit = items.find((i) => String(i.phone).startsWith(m[1]) && String(i.phone).endsWith(m[2]));
    if (!hit) { return; }
    nodes.devCode.textContent = t("开发环境：验证码 " + hit.code + "（已自动填入，生产环境不显示）",
                                  "Development: code " + hit.code + " (filled in; not shown in production)");
    nodes.devCode.hidden = false;
    $("proxy-code").value = hit.code;
  }, () => { /* no outbox: production */ });
}

function invite(ctx, b) {
  const scopes = Array.prototype.slice.call(nodes.form.querySelectorAll(".proxy-scopes input:checked")).map((i) => i.value);
  if (!scopes.length) { say(t("请至少选择一项可代办的事项。", "Choose at least one thing they may do for you.")); return; }
  const until = $("proxy-until").value;
  const body = {
    phone: $("proxy-phone").value.trim(), name: $("proxy-name").value.trim(), scopes,
    expires_at: until ? until + "T23:59:59+08:00" : "", sms_code: $("proxy-code").value.trim(),
  };
  send(b, () => ctx.api.call("POST", "/proxies", body), t("邀请未能发出。", "The invitation could not be sent."), (r) => {
    const who = (r.data.proxy && r.data.proxy.name_masked) || body.name;
    nodes.form.reset();
    $("proxy-until").value = daysAhead(180);
    nodes.devCode.hidden = true;
    toggleInvite(false);
    say(t("已邀请 " + who + "，对方接受后授权生效。", "Invitation sent to " + who + ". It takes effect once they accept."), "info");
    loadLists(ctx);
  });
}

/* --- The lists --------------------------------------------------------------------------------- */

function loadLists(ctx) {
  [["principal", nodes.given], ["proxy", nodes.received]].forEach(([role, list]) => {
    ctx.api.call("GET", "/proxies?role=" + role + "&limit=50").then((r) => {
      if (!list.isConnected) { return; }
      clear(list);
      if (!r.ok) { problem(r); return; }
      r.data.items.forEach((g) => {
        const other = role === "principal" ? g.proxy : g.principal;
        const title = (other.name_masked || "") + (role === "principal" && other.phone_masked ? " · " + other.phone_masked : "");
        const sub = scopesText(g.scopes) + " · " + (g.status === "active" || g.status === "pending"
          ? t("至 ", "until ") + day(g.expires_at) : formatTime(g.revoked_at || g.declined_at || g.expires_at));
        const li = item(list, title, sub, () => ctx.go("proxies/" + g.id), "proxy-" + g.status);
        li.insertBefore(statusTag(g.status), li.firstChild);
        li.setAttribute("data-grant", g.id);
        li.setAttribute("data-status", g.status);
      });
      if (!list.firstChild) {
        empty(list, role === "principal" ? t("您还没有授权任何人代办", "You have not authorised anyone")
                                         : t("暂时没有人授权您代办", "Nobody has authorised you yet"));
      }
    });
  });
}

/* One grant, from the lists (there is no single-grant read): {grant, role} or null. */
function findGrant(ctx, id) {
  function look(role, cursor, pages) {
    return ctx.api.call("GET", "/proxies?role=" + role + "&limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then((r) => {
      if (!r.ok) { return { error: r }; }
      const grant = r.data.items.find((g) => g.id === id);
      if (grant) { return { grant, role }; }
      return r.data.next_cursor && pages > 1 ? look(role, r.data.next_cursor, pages - 1) : null;
    });
  }
  return look("principal", null, PAGES).then((found) => found || look("proxy", null, PAGES));
}

/* --- One grant --------------------------------------------------------------------------------- */

function line(box, label, value) {
  if (!value) { return; }
  const p = el("p", "proxy-line");
  p.appendChild(el("span", "proxy-label", label));
  p.appendChild(el("span", null, value));
  box.appendChild(p);
}

function showGrant(ctx, id) {
  const box = nodes.detail;
  clear(box);
  box.removeAttribute("data-grant");
  box.removeAttribute("data-status");
  box.appendChild(el("p", "hint", t("正在加载…", "Loading…")));
  findGrant(ctx, id).then((found) => {
    if (!box.isConnected || state.grant !== id) { return; }
    clear(box);
    if (found && found.error) { problem(found.error); return; }
    if (!found) {
      box.appendChild(el("p", "hint", t("未找到该代办授权（可能已被删除，或不属于您）。", "This authorisation was not found (it may not be yours).")));
      box.appendChild(button(t("返回代办列表", "Back to the list"), () => ctx.go("proxies"), "secondary"));
      return;
    }
    renderGrant(ctx, found.grant, found.role);
  });
}

function renderGrant(ctx, g, role) {
  const box = nodes.detail;
  const mine = role === "principal";
  box.setAttribute("data-grant", g.id);
  box.setAttribute("data-status", g.status);
  const h = el("h3", null, mine ? t("授权 " + g.proxy.name_masked + " 代我办理", "You authorised " + g.proxy.name_masked)
                                : t(g.principal.name_masked + " 授权我代办", g.principal.name_masked + " authorised you"));
  h.id = "proxy-detail-title";
  box.appendChild(h);
  box.appendChild(statusTag(g.status));
  if (mine) {
    line(box, t("代办人", "Proxy"), g.proxy.name_masked + (g.proxy.phone_masked ? " · " + g.proxy.phone_masked : ""));
  } else {
    line(box, t("授权人", "Authorised by"), g.principal.name_masked);
  }
  line(box, t("可代办", "May do"), scopesText(g.scopes));
  line(box, t("邀请时间", "Invited"), formatTime(g.created_at));
  line(box, t("接受时间", "Accepted"), formatTime(g.accepted_at));
  line(box, t("拒绝时间", "Declined"), formatTime(g.declined_at));
  line(box, t("截止时间", "Valid until"), formatTime(g.expires_at));
  line(box, t("撤销时间", "Revoked"), g.revoked_at ? formatTime(g.revoked_at) + (revokedBy(g.revoked_by) ? t("（", " (") + revokedBy(g.revoked_by) + t("）", ")") : "") : "");
  if (g.status === "pending") {
    box.appendChild(el("p", "hint", mine ? t("等待对方接受，接受后才能代办。", "Waiting for them to accept; they cannot act for you until then.")
                                         : t(g.principal.name_masked + " 邀请您代为办理以上事项。接受后，您可以以对方名义办理。",
                                             g.principal.name_masked + " invites you to handle these for them. Once you accept, you can act on their behalf.")));
  }

  const actions = el("div", "proxy-actions");
  actions.id = "proxy-actions";
  if (!mine && g.status === "pending") {
    const yes = button(t("接受授权", "Accept"), () => answer(ctx, g, true, yes));
    yes.id = "proxy-accept";
    const no = button(t("拒绝", "Decline"), () => answer(ctx, g, false, no), "secondary");
    no.id = "proxy-decline";
    actions.appendChild(yes);
    actions.appendChild(no);
  }
  const actingHere = ctx.acting && ctx.acting.grantId === g.id;
  if (!mine && g.status === "active" && !actingHere) {
    const act = button(t("代 " + g.principal.name_masked + " 办理", "Act for " + g.principal.name_masked), () => actFor(ctx, g, act));
    act.id = "proxy-act";
    actions.appendChild(act);
  }
  const activity = button(t("代办记录", "Activity"), () => ctx.go("proxies/" + g.id + "/activity"), "secondary");
  activity.id = "proxy-activity-open";
  actions.appendChild(activity);
  if (g.status === "pending" || g.status === "active") {
    const end = button(mine ? t("撤销授权", "Revoke") : t("放弃代办", "Give it up"), () => confirmRevoke(ctx, g, mine), "danger");
    end.id = "proxy-revoke";
    actions.appendChild(end);
  }
  box.appendChild(actions);
  const confirm = el("div", "proxy-confirm");
  confirm.id = "proxy-confirm";
  confirm.hidden = true;
  box.appendChild(confirm);
  if (actingHere) { box.appendChild(principalData(ctx)); }
}

function answer(ctx, g, accept, b) {
  send(b, () => ctx.api.call("POST", "/proxies/" + encodeURIComponent(g.id) + (accept ? "/accept" : "/decline")),
    accept ? t("未能接受。", "Could not accept.") : t("未能拒绝。", "Could not decline."), () => {
      say(accept ? t("已接受 " + g.principal.name_masked + " 的授权，现在可以代其办理。", "You accepted. You can now act for " + g.principal.name_masked + ".")
                 : t("已拒绝该代办邀请。", "You declined the invitation."), "info");
      showGrant(ctx, g.id);
    });
}

function confirmRevoke(ctx, g, mine) {
  const box = $("proxy-confirm");
  clear(box);
  box.appendChild(el("p", "proxy-warn", mine
    ? t("撤销后，" + g.proxy.name_masked + " 将立即不能再代您办理。确定撤销吗？", "Once revoked, " + g.proxy.name_masked + " can no longer act for you, starting now. Revoke?")
    : t("放弃后，您将不能再代 " + g.principal.name_masked + " 办理。确定放弃吗？", "Once given up, you can no longer act for " + g.principal.name_masked + ". Give it up?")));
  const yes = button(mine ? t("确定撤销", "Yes, revoke") : t("确定放弃", "Yes, give it up"), () => {
    send(yes, () => ctx.api.call("DELETE", "/proxies/" + encodeURIComponent(g.id)), t("未能撤销。", "Could not revoke."), () => {
      if (ctx.acting && ctx.acting.grantId === g.id) { forget(); ctx.actAs(null); }
      say(mine ? t("已撤销对 " + g.proxy.name_masked + " 的授权。", "Revoked: " + g.proxy.name_masked + " can no longer act for you.")
               : t("已放弃代办。", "You gave it up."), "info");
      showGrant(ctx, g.id);
    });
  }, "danger");
  yes.id = "proxy-confirm-yes";
  const no = button(t("取消", "Cancel"), () => { box.hidden = true; }, "secondary");
  no.id = "proxy-confirm-no";
  box.appendChild(yes);
  box.appendChild(no);
  box.hidden = false;
  box.scrollIntoView();
}

/* While acting for this grant: the principal's own licences and cases, through the delegated client. */
function principalData(ctx) {
  const wrap = el("div", "proxy-acting-data");
  wrap.id = "proxy-acting-data";
  const who = ctx.acting.name;
  const scopes = ctx.acting.scopes || [];
  wrap.appendChild(el("p", "hint", t("以下是 " + who + " 的信息（代办中，每次查看都会记入代办记录）。",
    "This is " + who + "'s information (you are acting for them; every look is recorded).")));
  function block(title, id, path, render, more) {
    wrap.appendChild(el("h3", null, title));
    const list = el("ul", "list");
    list.id = id;
    wrap.appendChild(list);
    ctx.client().call("GET", path).then((r) => {
      if (!list.isConnected) { return; }
      clear(list);
      if (!r.ok) { problem(r); return; }
      r.data.items.forEach((x) => render(list, x));
      if (!list.firstChild) { empty(list, t("暂无", "Nothing yet")); }
    });
    wrap.appendChild(button(more, () => ctx.go(path.split("/")[1] === "wallet" ? "wallet" : "cases"), "secondary"));
  }
  if (scopes.indexOf("licences:view") >= 0) {
    block(t(who + " 的证照", who + "'s licences"), "proxy-principal-licences", "/wallet/licences",
      (list, c) => item(list, c.type_name, c.status_label + (c.valid_until ? t(" · 有效期至 ", " · valid until ") + c.valid_until : "")),
      t("打开证照", "Open the licences"));
  }
  if (scopes.indexOf("cases:follow") >= 0) {
    block(t(who + " 的办件", who + "'s cases"), "proxy-principal-cases", "/cases",
      (list, c) => item(list, c.item_name, c.status_label + " · " + c.case_no), t("打开办件", "Open the cases"));
  }
  return wrap;
}

/* --- The record of actions --------------------------------------------------------------------- */

function loadActivity(ctx, id, more) {
  const list = nodes.activityList;
  if (!more) {
    state.cursor = null;
    clear(list);
    nodes.activityTitle.textContent = t("代办记录", "Activity");
  }
  nodes.activityMore.hidden = true;
  const q = "?limit=20" + (more && state.cursor ? "&cursor=" + encodeURIComponent(state.cursor) : "");
  ctx.api.call("GET", "/proxies/" + encodeURIComponent(id) + "/activity" + q).then((r) => {
    if (!list.isConnected || state.grant !== id) { return; }
    if (!r.ok) { problem(r); return; }
    let named = more;
    r.data.items.forEach((a) => {
      const ok = a.status >= 200 && a.status < 300;
      const li = item(list, doneLabel(a), formatTime(a.at) + " · " + t("代办人 ", "by ") + ((a.proxy && a.proxy.name_masked) || "") +
        t("，为 ", " for ") + ((a.principal && a.principal.name_masked) || "") + " · " +
        (ok ? t("成功", "done") : t("未成功", "refused") + (a.status ? " (" + a.status + ")" : "")), null, ok ? "" : "proxy-refused");
      li.setAttribute("data-action", a.id);
      if (!named && a.principal && a.proxy) {
        named = true;
        nodes.activityTitle.textContent = t("代办记录：" + a.proxy.name_masked + " 代 " + a.principal.name_masked,
                                            "Activity: " + a.proxy.name_masked + " for " + a.principal.name_masked);
      }
    });
    state.cursor = r.data.next_cursor;
    nodes.activityMore.hidden = !state.cursor;
    if (!list.firstChild) { empty(list, t("暂无代办记录", "Nothing has been done under it yet")); }
  });
}

/* --- The view ---------------------------------------------------------------------------------- */

export default {
  name: "proxies",
  mount(ctx, section) {
    build(ctx, section);
    restoreActing(ctx);
  },
  show(ctx, params) {
    const section = $("proxies-view");
    if (state.built !== (english() ? "en" : "zh")) { build(ctx, section); }
    const id = params[0] || null;
    const sub = params[1] || null;
    state.grant = id;
    nodes.main.hidden = !!id;
    nodes.detail.hidden = !id || sub === "activity";
    nodes.activity.hidden = sub !== "activity";
    section.setAttribute("data-screen", !id ? "list" : sub === "activity" ? "activity" : "detail");
    if (!id) { nodes.form.hidden = !state.inviteOpen; nodes.inviteOpen.hidden = state.inviteOpen; loadLists(ctx); return; }
    if (sub === "activity") { loadActivity(ctx, id, false); } else { showGrant(ctx, id); }
  },
  signedIn(ctx) { if (!ctx.acting) { restoreActing(ctx); } },
  /* The banner's "stop": forget the delegated token (the shell clears the banner and shows the route). */
  stopActing() { forget(); },
  signedOut() {
    forget();
    [nodes.given, nodes.received, nodes.detail, nodes.activityList].forEach((n) => { if (n) { clear(n); } });
    state.inviteOpen = false;
    state.grant = null;
  },
  onNotice(ctx, notice) {
    const data = notice.data || {};
    if (data.screen !== "proxies") { return; }
    if (notice.kind === "proxy_revoked" && ctx.acting && ctx.acting.grantId === data.grant_id) { endActing(ctx, true); return; }
    if ($("proxies-view").hidden) { return; }
    if (!state.grant) { loadLists(ctx); } else if (state.grant === data.grant_id) { ctx.refresh(); }
  },
};
