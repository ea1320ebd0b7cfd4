/* Family proxies (亲属代办, 授权代理): the grants I gave (我授权的) and was given (授权我的) with their
 * status; inviting a verified relative (proxies/invite.js); the relative's accept or decline; acting
 * for the principal (proxies/acting.js); the record of what was done; revoking (or giving up) with a
 * confirmation.
 *
 * Routes (the notices' deep links yiwang://proxies/<id>[/activity]): proxies, proxies/<grant id>,
 * proxies/<grant id>/activity. The section #proxies-view is built here.
 *
 * Managing proxies always uses the person's own client (ctx.api): never delegable. */
import { english, t } from "../i18n.js";
import { $, button, clear, day, el, empty, formatTime, item, problem, say, send } from "../ui.js";
import { actFor, endActing, forget, principalData, restoreActing } from "./proxies/acting.js";
import { closeInvitation, invitation, showInvitation } from "./proxies/invite.js";
import { doneLabel, revokedBy, scopesText, statusTag } from "./proxies/words.js";

const PAGES = 5;       // grant list pages looked through to find one grant (50 a page)

const state = { built: null, grant: null, cursor: null };
const nodes = {};

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
  invitation(ctx, main, loadLists);
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
    if (!id) { showInvitation(); loadLists(ctx); return; }
    if (sub === "activity") { loadActivity(ctx, id, false); } else { showGrant(ctx, id); }
  },
  signedIn(ctx) { if (!ctx.acting) { restoreActing(ctx); } },
  /* The banner's "stop": forget the delegated token (the shell clears the banner and shows the route). */
  stopActing() { forget(); },
  signedOut() {
    forget();
    [nodes.given, nodes.received, nodes.detail, nodes.activityList].forEach((n) => { if (n) { clear(n); } });
    closeInvitation();
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
