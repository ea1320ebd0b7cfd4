/* 一网 H5 客户端: the shell. It owns the session, the API client, the router, the tab bar, the message
 * line, the "acting for" banner and the language; each journey is a view module under views/ that
 * builds and fills its own <section id="<name>-view">.
 *
 * Routes are the app's deep links: yiwang://cases/12 opens #/cases/12 (see `fromDeepLink`). A view
 * module exports default {name, routes?, tab?, mount(ctx, section)?, show(ctx, params, query)?,
 * hide(ctx)?, signedOut(ctx)?}; `routes` are the first path segments it answers (default [name]).
 *
 * An ES module: the HTTP client (token refresh, problem+json, Accept-Language, elderly mode) is the
 * pages' shared /static/web/api.js. Talks only to this origin's API; data goes into the page through
 * textContent (never as markup); no inline script (CSP). Tokens live in sessionStorage and never go
 * into a URL. */
import { Store, applyElderly, createClient, preferences } from "/static/web/api.js";
import { english, t, translateStatic } from "./i18n.js";
import { $, say, problem } from "./ui.js";
import { liveStream } from "./stream.js";
import appointments from "./views/appointments.js";
import cases from "./views/cases.js";
import consent from "./views/consent.js";
import enterprises from "./views/enterprises.js";
import halls from "./views/halls.js";
import home from "./views/home.js";
import login from "./views/login.js";
import { closeNationalApp } from "./views/ncid.js";
import notices from "./views/notices.js";
import proxies from "./views/proxies.js";
import settings from "./views/settings.js";
import signing from "./views/signing.js";
import { closeStepUp, stepUpPrompt } from "./views/stepup.js";
import wallet from "./views/wallet.js";

const VIEWS = [login, home, wallet, signing, halls, appointments, cases, notices, proxies, enterprises, consent, settings];
const OUTSIDE = ["login", "realname"];  // views shown signed out (no tab bar)
const session = new Store(sessionStorage, "yiwang.h5");  // {access, refresh, user}
const api = createClient({
  session,
  headers: { "X-Client": "h5", "X-Client-Version": "1.1.0" },
  // 401 token_invalid and no refresh: expired; any other 401: signed out elsewhere
  onExpired: (why) => signedOut(why === "expired" ? t("登录已过期，请重新登录。", "Your session has expired. Please sign in again.")
                                                  : t("请重新登录。", "Please sign in again.")),
  // 403 with a step_up_url (issue 19): the step-up prompt (views/stepup.js), then the same request again
  onStepUp: (problem) => stepUpPrompt(ctx, problem),
});

let current = { view: null, params: [], query: {} };
let unreadAsked = 0;
const ctx = {
  api,
  session,
  say,
  problem,
  t,
  english,
  /* Open a route: "cases/12", "wallet", or a deep link "yiwang://cases/12". */
  go(path) {
    const hash = "#/" + fromDeepLink(path).replace(/^#?\/?/, "");
    if (location.hash === hash) { route(); } else { location.hash = hash; }
  },
  /* Show the current route again (after a language change, say). */
  refresh() { route(); },
  user() { return session.data && session.data.user; },
  signedIn() { return !!session.data; },
  signedOut,
  /* After a login: the account (/me), then real-name verification or the home screen. */
  enter,
  /* Acting for someone (授权代理): {client, name, grantId, …} or null. Delegable calls go through
   * ctx.client(); the banner says whose business this is. Set by the proxies view, and by the
   * enterprises view (issue 19: kind "enterprise", the banner then reads 正在以 <enterprise> 身份办理). */
  acting: null,
  actAs(state) {
    ctx.acting = state || null;
    const banner = $("acting");
    banner.hidden = !ctx.acting;
    const enterprise = ctx.acting && ctx.acting.kind === "enterprise";
    $("acting-text").textContent = !ctx.acting ? ""
      : enterprise ? t("正在以 " + ctx.acting.name + " 身份办理", "Acting as " + ctx.acting.name)
      : t("正在代 " + ctx.acting.name + " 办理", "Acting for " + ctx.acting.name);
    $("acting-stop").textContent = enterprise ? t("切回个人", "Back to me") : t("结束代办", "Stop");
    document.body.toggleAttribute("data-acting", !!ctx.acting);
    document.body.setAttribute("data-acting-kind", ctx.acting ? (ctx.acting.kind || "citizen") : "");
  },
  client() { return ctx.acting ? ctx.acting.client : api; },
  setUnread(count) {
    const badge = $("unread");
    if (typeof count !== "number") { return; }
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count <= 0;
    badge.setAttribute("data-count", String(count));
  },
  refreshUnread() {
    const asked = ++unreadAsked;  // answers can overtake each other: only the latest question counts
    api.call("GET", "/notifications/unread-count").then((r) => { if (r.ok && asked === unreadAsked) { ctx.setUnread(r.data.count); } });
  },
  /* Language and elderly mode: applied to the whole page at once. */
  setLanguage(lang) {
    preferences.setLanguage(lang);
    translateStatic();
    if (ctx.acting) { ctx.actAs(ctx.acting); }
    route();
  },
  setElderly(on) { preferences.setElderly(on); },
};
ctx.stream = liveStream({
  api,
  signedIn: () => !!session.data,
  onNotice: (notice) => {
    VIEWS.forEach((v) => { if (v.onNotice) { v.onNotice(ctx, notice); } });
    ctx.refreshUnread();
    say(t("新消息：", "New message: ") + notice.title, "info");
  },
  onExpired: () => signedOut(t("登录已过期，请重新登录。", "Your session has expired. Please sign in again.")),
});

/* The person behind the account is established: real-named against the registry, or by 网号 (issue 19:
 * `real_name_source` "ncid", an account that holds no name or ID number, D3 of the plan). */
function established(user) { return !!(user.real_name_verified || user.real_name_source); }

/* yiwang://<screen>/<id…>[?query] → "<screen>/<id…>[?query]"; anything else as it is. */
export function fromDeepLink(link) { return String(link || "").replace(/^yiwang:\/\//, ""); }

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const query = {};
  new URLSearchParams(search || "").forEach((v, k) => { query[k] = v; });
  return { parts, query };
}

function viewFor(segment) {
  return VIEWS.find((v) => (v.routes || [v.name]).indexOf(segment) >= 0);
}

function route() {
  const { parts, query } = parseHash();
  const signedIn = !!session.data;
  const user = ctx.user();
  let name = parts[0] || (signedIn ? "home" : "login");
  if (!signedIn && OUTSIDE.indexOf(name) < 0) { name = "login"; }
  if (signedIn && user && !established(user) && name !== "realname" && name !== "settings") { name = "realname"; }
  if (signedIn && name === "login") { name = "home"; }
  const view = viewFor(name) || home;
  const params = parts[0] === name ? parts.slice(1) : [];
  show(view, name, params, query);
}

function show(view, name, params, query) {
  if (current.view && current.view !== view && current.view.hide) { current.view.hide(ctx); }
  current = { view, params, query };
  document.querySelectorAll("main > section.view").forEach((s) => { s.hidden = true; });
  const section = $((name === "realname" ? "realname" : view.name) + "-view");
  section.hidden = false;
  const inside = OUTSIDE.indexOf(name) < 0;
  $("tabs").hidden = !inside;
  $("logout").hidden = !session.data;
  $("back").hidden = !inside || !!view.tab || !history.length;
  const tab = view.tab ? view.name : null;
  document.querySelectorAll("#tabs button").forEach((b) => { b.classList.toggle("active", b.getAttribute("data-view") === tab); });
  document.body.setAttribute("data-view", name);
  if (view.show) { view.show(ctx, params, query, name); }
}

function signedOut(text) {
  ctx.stream.stop();
  closeStepUp();
  closeNationalApp();
  ctx.actAs(null);
  VIEWS.forEach((v) => { if (v.signedOut) { v.signedOut(ctx); } });
  session.clear();
  if (location.hash && location.hash !== "#/login") { history.replaceState(null, "", "#/login"); }
  route();
  if (text) { say(text); }
}

function enter() {
  if (!session.data) { ctx.go("login"); return Promise.resolve(); }
  return api.call("GET", "/me").then((r) => {
    if (!session.data) { return; }
    if (r.ok) { session.data.user = r.data; session.save(); }
    VIEWS.forEach((v) => { if (v.signedIn) { v.signedIn(ctx); } });
    if (session.data.user && established(session.data.user)) { ctx.stream.start(); }
    const { parts } = parseHash();
    if (!parts.length || OUTSIDE.indexOf(parts[0]) >= 0) { ctx.go("home"); } else { route(); }
  });
}

function logout() {
  if (session.data && session.data.refresh) { api.request("POST", "/auth/logout").catch(() => {}); }
  signedOut("");
  say(t("已退出登录。", "You have signed out."), "info");
}

/* --- Start ------------------------------------------------------------------------------------ */

applyElderly();  // this tab's last known setting, until the account's own answers
translateStatic();
VIEWS.forEach((v) => { if (v.mount) { v.mount(ctx, $(v.name + "-view")); } });
$("logout").addEventListener("click", logout);
$("back").addEventListener("click", () => history.back());
$("acting-stop").addEventListener("click", () => {
  VIEWS.forEach((v) => { if (v.stopActing) { v.stopActing(ctx); } });
  ctx.actAs(null);
  route();
});
document.querySelectorAll("#tabs button").forEach((b) => {
  b.addEventListener("click", () => { say(""); ctx.go(b.getAttribute("data-view")); });
});
window.addEventListener("hashchange", () => { say(""); route(); });
if (session.data) { enter(); } else { route(); }  // a module runs once the document is parsed
