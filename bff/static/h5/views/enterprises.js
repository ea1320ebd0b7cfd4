/* My enterprises (我的企业, issue 19): the enterprises I represent (法定代表人) or act for (经办人), registering
 * one by its USCC (统一社会信用代码), the invitations to act for one (accept / decline), the LR's agents
 * (GET/POST /enterprises/{id}/agents, DELETE …/agents/{grant id}; GET /me/enterprise-grants, POST
 * /enterprise-grants/{id}/accept|decline), and the switch: acting as the enterprise, then back to me.
 *
 * Routes: enterprises, enterprises/<enterprise id>. The section #enterprises-view is built here.
 *
 * The switch: POST /enterprises/{id}/sessions gives a short-lived enterprise token (Principal kind
 * "enterprise", actor = me; no refresh). As for a family proxy (views/proxies/acting.js) it lives in its
 * own sessionStorage Store behind a second API client handed to the shell with ctx.actAs({kind:
 * "enterprise", …}): the banner says whose business this is on every screen, delegable calls (the
 * licences, the cases) go through ctx.client() and so show the enterprise's; the banner's 切回个人 ends
 * it. A 401 (agent_grant_inactive: the grant expired or was revoked) ends it with a sentence. A step-up
 * asked by a delegated call is done by me (the actor's level counts) with my own client, then the
 * delegated request is asked again.
 *
 * Registering and adding an agent need a recent L3: their 403 step_up_required opens the step-up prompt
 * (views/stepup.js) from the shared client, and the same request is sent again after it. */
import { Store, createClient } from "/static/web/api.js";
import { english, t } from "../i18n.js";
import { $, button, clear, day, el, empty, field, item, problem, say, send } from "../ui.js";
import { forget as forgetProxy } from "./proxies/acting.js";
import { stepUpPrompt } from "./stepup.js";

const HEADERS = { "X-Client": "h5", "X-Client-Version": "1.1.0" };
const SCOPES = [
  ["licences:view", "查看企业证照", "View the licences"],
  ["licences:present", "出示企业证照", "Show the licences"],
  ["cases:follow", "查询企业办件", "Follow the cases"],
  ["cases:rate", "评价企业办件", "Rate the cases"],
];
const STATUS = { "1": ["存续", "Active"], "2": ["吊销", "Revoked"], "3": ["注销", "Deregistered"], "4": ["迁出", "Moved out"], "9": ["其他", "Other"] };
const GRANT = { pending: ["待接受", "Pending"], active: ["生效中", "Active"], declined: ["已拒绝", "Declined"],
                revoked: ["已撤销", "Revoked"], expired: ["已过期", "Expired"] };

const acting = new Store(sessionStorage, "yiwang.h5.enterprise");  // {access, enterpriseId, name, scopes, userId, expiresAt}
const state = { built: null, id: null, ctx: null };
const nodes = {};
let lapse = null;

function words(table, key) { const w = table[key]; return w ? t(w[0], w[1]) : String(key || ""); }
function role(r) { return r === "legal_representative" ? t("法定代表人", "Legal representative") : t("经办人", "Agent"); }
function scopesText(list) {
  const names = (list || []).map((s) => { const x = SCOPES.find((p) => p[0] === s); return x ? t(x[1], x[2]) : s; });
  return names.join(t("、", ", "));
}

/* --- Acting as an enterprise --------------------------------------------------------------------- */

function handOver(ctx, data) {
  const client = createClient({
    session: acting, headers: HEADERS,
    onExpired: () => { if (acting.data && acting.data.access === data.access) { endActing(ctx, true); } },
    onStepUp: (p) => stepUpPrompt(ctx, p),
  });
  ctx.actAs({ kind: "enterprise", client, name: data.name, enterpriseId: data.enterpriseId, scopes: data.scopes });
  clearTimeout(lapse);
  lapse = setTimeout(() => endActing(ctx, true), Math.max(0, data.expiresAt - Date.now()));
}

function forget() { clearTimeout(lapse); acting.clear(); }

function endActing(ctx, lapsed) {
  if (!acting.data && !(ctx.acting && ctx.acting.kind === "enterprise")) { return; }
  forget();
  if (ctx.acting && ctx.acting.kind === "enterprise") { ctx.actAs(null); }
  if (lapsed) { say(t("企业授权已失效或已到时，已切回个人。", "The enterprise authorisation has ended or timed out: you are acting as yourself again.")); }
  ctx.refresh();
}

function restoreActing(ctx) {
  const data = acting.data;
  const user = ctx.user();
  if (!data) { return; }
  if (!user || data.userId !== user.id || !(data.expiresAt > Date.now() + 5000)) { acting.clear(); return; }
  handOver(ctx, data);
}

function switchTo(ctx, e, b) {
  send(b, () => ctx.api.call("POST", "/enterprises/" + encodeURIComponent(e.id) + "/sessions"),
    t("无法切换到该企业。", "Could not switch to this enterprise."), (r) => {
      const user = ctx.user();
      const name = (r.data.acting_for && r.data.acting_for.name) || e.name;
      forgetProxy();
      const data = { access: r.data.access_token, enterpriseId: e.id, name, userId: user && user.id,
                     scopes: String(r.data.scope || "").split(" ").filter(Boolean),
                     expiresAt: Date.now() + (Number(r.data.expires_in) || 0) * 1000 };
      acting.save(data);
      handOver(ctx, data);
      say(t("现在正在以 " + name + " 身份办理：证照、办件页面显示的是企业的信息；办完请点上方的“切回个人”。",
            "You are now acting as " + name + ": the licence and case screens show the enterprise's. Tap Back to me above when you are done."), "info");
      ctx.refresh();
    });
}

/* --- Building the screen ------------------------------------------------------------------------- */

function build(ctx, section) {
  clear(section);
  Object.keys(nodes).forEach((k) => { delete nodes[k]; });
  section.appendChild(el("h2", null, t("我的企业", "My enterprises")));
  const main = nodes.main = el("div", "enterprises-main");
  main.id = "enterprises-main";
  main.appendChild(el("p", "hint", t("法定代表人可登记企业并授权经办人；切换到企业后，可办理企业的证照和办件。",
    "A legal representative registers the enterprise and authorises agents; switched to the enterprise, you handle its licences and cases.")));
  nodes.list = el("ul", "list enterprise-list");
  nodes.list.id = "enterprises-list";
  main.appendChild(nodes.list);
  nodes.invHeading = el("h3", null, t("待我确认的经办人邀请", "Invitations to act as an agent"));
  nodes.invitations = el("ul", "list");
  nodes.invitations.id = "enterprise-invitations";
  main.appendChild(nodes.invHeading);
  main.appendChild(nodes.invitations);

  const form = el("form", "card enterprise-register");
  form.id = "enterprise-register";
  form.setAttribute("autocomplete", "off");
  form.appendChild(el("h3", null, t("登记我的企业", "Register my enterprise")));
  form.appendChild(el("p", "hint", t("仅限法定代表人本人；需 10 分钟内完成 L3 级身份核验（人脸或网证）。",
    "For the legal representative only; needs an L3 identity check (face or network ID) within 10 minutes.")));
  const uscc = field("enterprise-uscc", t("统一社会信用代码", "Unified social credit code"),
    { maxlength: "18", pattern: "[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}", required: true, autocomplete: "off" });
  form.appendChild(uscc.wrap);
  const go = button(t("登记", "Register"), null, null, "submit");
  go.id = "enterprise-register-submit";
  form.appendChild(go);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(go, () => ctx.api.call("POST", "/enterprises", { uscc: uscc.input.value.trim().toUpperCase() }),
      t("企业登记失败。", "The enterprise could not be registered."), (r) => {
        uscc.input.value = "";
        const text = t("企业已登记：" + r.data.name, "Enterprise registered: " + r.data.name);
        window.addEventListener("hashchange", () => say(text, "info"), { once: true });  // after the shell clears the line
        ctx.go("enterprises/" + r.data.id);
      });
  });
  main.appendChild(form);
  section.appendChild(main);

  const detail = nodes.detail = el("div", "card enterprise-detail");
  detail.id = "enterprise-detail";
  section.appendChild(detail);
  state.built = english() ? "en" : "zh";
}

/* --- The lists ------------------------------------------------------------------------------------ */

function loadList(ctx) {
  const list = nodes.list;
  ctx.api.call("GET", "/enterprises").then((r) => {
    if (!list.isConnected) { return; }
    clear(list);
    if (!r.ok) { problem(r); return; }
    (r.data.items || []).forEach((e) => {
      const sub = role(e.role) + " · " + e.uscc + (e.role === "agent" && e.expires_at ? t(" · 至 ", " · until ") + day(e.expires_at) : "");
      const li = item(list, e.name, sub, () => ctx.go("enterprises/" + e.id), "enterprise-item");
      li.setAttribute("data-enterprise", e.id);
      li.setAttribute("data-role", e.role || "");
    });
    if (!list.firstChild) { empty(list, t("您还没有企业", "No enterprises yet")); }
  });
  loadInvitations(ctx);
}

function loadInvitations(ctx) {
  const list = nodes.invitations;
  ctx.api.call("GET", "/me/enterprise-grants").then((r) => {
    if (!list.isConnected) { return; }
    clear(list);
    const items = r.ok ? (r.data.items || []).filter((g) => g.status === "pending") : [];
    nodes.invHeading.hidden = !items.length;
    list.hidden = !items.length;
    items.forEach((g) => {
      const name = (g.enterprise && g.enterprise.name) || g.enterprise_name || "";
      const li = item(list, name, scopesText(g.scopes) + (g.expires_at ? t(" · 至 ", " · until ") + day(g.expires_at) : ""));
      li.setAttribute("data-grant", g.id);
      const accept = button(t("接受", "Accept"), () => answer(ctx, g, "accept", accept), "secondary");
      accept.id = "grant-accept-" + g.id;
      const decline = button(t("拒绝", "Decline"), () => answer(ctx, g, "decline", decline), "secondary");
      decline.id = "grant-decline-" + g.id;
      li.appendChild(accept);
      li.appendChild(decline);
    });
  });
}

function answer(ctx, g, what, b) {
  send(b, () => ctx.api.call("POST", "/enterprise-grants/" + encodeURIComponent(g.id) + "/" + what),
    t("操作失败。", "That did not work."), () => {
      say(what === "accept" ? t("已接受，您现在是该企业的经办人。", "Accepted: you are now an agent of the enterprise.")
                            : t("已拒绝该邀请。", "Invitation declined."), "info");
      loadList(ctx);
    });
}

/* --- One enterprise ------------------------------------------------------------------------------- */

function line(box, label, value) {
  if (!value) { return; }
  const p = el("p", "enterprise-line");
  p.appendChild(el("span", "enterprise-label", label));
  p.appendChild(el("span", null, value));
  box.appendChild(p);
}

function showEnterprise(ctx, id) {
  const box = nodes.detail;
  clear(box);
  box.removeAttribute("data-enterprise");
  box.appendChild(el("p", "hint", t("正在加载…", "Loading…")));
  ctx.api.call("GET", "/enterprises/" + encodeURIComponent(id)).then((r) => {
    if (!box.isConnected || state.id !== id) { return; }
    clear(box);
    if (!r.ok) {
      box.appendChild(el("p", "hint", r.status === 404 ? t("未找到该企业（可能不属于您）。", "This enterprise was not found (it may not be yours).")
                                                         : t("企业信息暂时无法加载。", "The enterprise cannot be loaded now.")));
      box.appendChild(button(t("返回企业列表", "Back to the list"), () => ctx.go("enterprises"), "secondary"));
      return;
    }
    render(ctx, r.data);
  });
}

function render(ctx, e) {
  const box = nodes.detail;
  box.setAttribute("data-enterprise", e.id);
  box.setAttribute("data-role", e.role || "");
  const h = el("h3", null, e.name);
  h.id = "enterprise-name";
  box.appendChild(h);
  line(box, t("统一社会信用代码", "USCC"), e.uscc);
  line(box, t("登记状态", "Status"), words(STATUS, e.status));
  line(box, t("我的身份", "My role"), role(e.role));
  if (e.role === "agent") {
    line(box, t("可办理", "May do"), scopesText(e.scopes));
    line(box, t("授权至", "Until"), day(e.expires_at));
  }
  const here = ctx.acting && ctx.acting.kind === "enterprise" && ctx.acting.enterpriseId === e.id;
  if (here) {
    box.appendChild(el("p", "hint enterprise-acting", t("正在以本企业身份办理。", "You are acting as this enterprise.")));
    box.appendChild(enterpriseData(ctx));
    const back = button(t("切回个人", "Back to me"), () => endActing(ctx, false), "secondary");
    back.id = "enterprise-back";
    box.appendChild(back);
  } else if (e.status === "1" || !e.status) {
    const sw = button(t("切换到该企业办理", "Act as this enterprise"), null);
    sw.id = "enterprise-switch";
    sw.addEventListener("click", () => switchTo(ctx, e, sw));
    box.appendChild(sw);
  }
  if (e.role === "legal_representative") { box.appendChild(agents(ctx, e)); }
  box.appendChild(button(t("返回企业列表", "Back to the list"), () => ctx.go("enterprises"), "secondary"));
}

/* While acting as it: the enterprise's licences, through the enterprise client. */
function enterpriseData(ctx) {
  const wrap = el("div", "enterprise-data");
  const scopes = ctx.acting.scopes || [];
  if (scopes.indexOf("licences:view") < 0 && scopes.indexOf("licences:present") < 0) { return wrap; }
  wrap.appendChild(el("h4", null, t("企业证照", "The enterprise's licences")));
  const list = el("ul", "list");
  list.id = "enterprise-licences";
  wrap.appendChild(list);
  ctx.client().call("GET", "/wallet/licences").then((r) => {
    if (!list.isConnected) { return; }
    clear(list);
    if (!r.ok) { problem(r); return; }
    (r.data.items || []).forEach((c) => item(list, c.type_name, c.status_label || ""));
    if (!list.firstChild) { empty(list, t("暂无证照", "No licences yet")); }
  });
  return wrap;
}

/* --- Agents (the LR's) ---------------------------------------------------------------------------- */

function agents(ctx, e) {
  const wrap = el("div", "enterprise-agents");
  wrap.appendChild(el("h4", null, t("经办人", "Agents")));
  const list = el("ul", "list");
  list.id = "enterprise-agents";
  wrap.appendChild(list);
  const base = "/enterprises/" + encodeURIComponent(e.id) + "/agents";
  function load() {
    ctx.api.call("GET", base).then((r) => {
      if (!list.isConnected) { return; }
      clear(list);
      if (!r.ok) { problem(r); return; }
      (r.data.items || []).forEach((g) => {
        const who = (g.agent && (g.agent.name_masked + (g.agent.phone_masked ? " · " + g.agent.phone_masked : ""))) || g.agent_name_masked || "";
        const li = item(list, who, words(GRANT, g.status) + " · " + scopesText(g.scopes) + (g.expires_at ? t(" · 至 ", " · until ") + day(g.expires_at) : ""));
        li.setAttribute("data-grant", g.id);
        li.setAttribute("data-status", g.status || "");
        if (g.status === "pending" || g.status === "active") {
          const revoke = button(t("撤销", "Revoke"), () => send(revoke, () => ctx.api.call("DELETE", base + "/" + encodeURIComponent(g.id)),
            t("撤销失败。", "Could not revoke."), () => { say(t("已撤销该经办人。", "The agent was revoked."), "info"); load(); }), "secondary");
          revoke.id = "agent-revoke-" + g.id;
          li.appendChild(revoke);
        }
      });
      if (!list.firstChild) { empty(list, t("还没有经办人", "No agents yet")); }
    });
  }
  load();

  const form = el("form", "enterprise-agent-add");
  form.id = "enterprise-agent-add";
  form.setAttribute("autocomplete", "off");
  form.appendChild(el("p", "hint", t("添加经办人需 5 分钟内完成 L3 级身份核验；对方接受后生效，最长 365 天。",
    "Adding an agent needs an L3 identity check within 5 minutes; it takes effect once they accept, for at most 365 days.")));
  const name = field("agent-name", t("经办人姓名", "Agent's name"), { maxlength: "32", required: true });
  const phone = field("agent-phone", t("经办人手机号", "Agent's mobile number"), { type: "tel", inputmode: "numeric", maxlength: "11",
                                                                                pattern: "1[3-9][0-9]{9}", required: true });
  const days = field("agent-days", t("授权期限", "For"), {}, "select");
  [[30, "30 天", "30 days"], [90, "90 天", "90 days"], [365, "365 天", "365 days"]].forEach(([n, zh, en]) => {
    const o = el("option", null, t(zh, en)); o.value = String(n); days.input.appendChild(o);
  });
  [name.wrap, phone.wrap, days.wrap].forEach((x) => form.appendChild(x));
  const set = el("fieldset", "proxy-scopes");
  set.appendChild(el("legend", null, t("可办理", "May do")));
  SCOPES.forEach(([value, zh, en]) => {
    const lab = el("label", "proxy-scope");
    const box = el("input");
    box.type = "checkbox";
    box.value = value;
    box.id = "agent-scope-" + value.replace(":", "-");
    box.checked = value === "licences:view";
    lab.appendChild(box);
    lab.appendChild(el("span", null, t(zh, en)));
    set.appendChild(lab);
  });
  form.appendChild(set);
  const add = button(t("添加经办人", "Add agent"), null, null, "submit");
  add.id = "agent-add-submit";
  form.appendChild(add);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const scopes = [...set.querySelectorAll("input:checked")].map((x) => x.value);
    const until = new Date(Date.now() + Number(days.input.value) * 86400000).toISOString();
    send(add, () => ctx.api.call("POST", base, { name: name.input.value.trim(), phone: phone.input.value.trim(), scopes, expires_at: until }),
      t("添加经办人失败。", "The agent could not be added."), () => {
        name.input.value = "";
        phone.input.value = "";
        say(t("已邀请经办人，对方接受后生效。", "The agent is invited: it takes effect once they accept."), "info");
        load();
      });
  });
  wrap.appendChild(form);
  return wrap;
}

/* --- The view ------------------------------------------------------------------------------------- */

export default {
  name: "enterprises",
  mount(ctx, section) {
    state.ctx = ctx;
    build(ctx, section);
    restoreActing(ctx);
    const entry = $("home-enterprises");
    if (entry) { entry.addEventListener("click", () => ctx.go("enterprises")); }
  },
  show(ctx, params) {
    const section = $("enterprises-view");
    if (state.built !== (english() ? "en" : "zh")) { build(ctx, section); }
    const id = params[0] || null;
    state.id = id;
    nodes.main.hidden = !!id;
    nodes.detail.hidden = !id;
    section.setAttribute("data-screen", id ? "detail" : "list");
    if (id) { showEnterprise(ctx, id); } else { loadList(ctx); }
  },
  signedIn(ctx) { if (!ctx.acting) { restoreActing(ctx); } },
  /* The banner's stop (切回个人): forget the enterprise token (the shell clears the banner). */
  stopActing() { forget(); },
  signedOut() {
    forget();
    [nodes.list, nodes.invitations, nodes.detail].forEach((n) => { if (n) { clear(n); } });
    state.id = null;
  },
};
