/* 一网 H5 演示客户端: SMS login, real-name, home, wallet QR, cases, halls, notifications (live).
 * An ES module: the HTTP client (token refresh, problem+json, Accept-Language, elderly mode) is the
 * pages' shared /static/web/api.js. Talks only to this origin's API; data goes into the page through
 * textContent (never as markup); no inline script (CSP). Tokens live in sessionStorage and never go
 * into a URL. */
import { Store, applyElderly, createClient, preferences, problemMessage } from "/static/web/api.js";
import { $, clear, el, formatTime } from "/static/web/dom.js";
import { distance, hallState, locate, where } from "./place.js";
import { qrPanel } from "./qr.js";
import { liveStream } from "./stream.js";

const KIND_LABELS = { status: "状态变更", evaluation: "服务评价", follow_up: "部门答复" };
const session = new Store(sessionStorage, "yiwang.h5");  // {access, refresh, user}
const api = createClient({
  session,
  headers: { "X-Client": "h5", "X-Client-Version": "1.0.0" },
  // 401 token_invalid and no refresh: expired; any other 401: signed out elsewhere
  onExpired: (why) => signedOut(why === "expired" ? "登录已过期，请重新登录。" : "请重新登录。"),
});
const qr = qrPanel({ api, signedIn: () => !!session.data, problem });
const stream = liveStream({
  api,
  signedIn: () => !!session.data,
  onNotice: function (notice) {
    addNotice(notice, true);
    refreshUnread();
    say("新消息：" + notice.title, "info");
  },
  onExpired: () => signedOut("登录已过期，请重新登录。"),
});
const resend = { timer: null };

function say(text, kind) {
  const box = $("message");
  box.textContent = text || "";
  box.className = "message" + (kind ? " " + kind : "");
  box.hidden = !text;
}

function problem(r, fallback) { say(problemMessage(r.data, fallback)); }

/* --- Views ------------------------------------------------------------------------------------ */

const VIEWS = ["login", "realname", "home", "wallet", "cases", "halls", "notices"];
const LOADERS = { home: loadHome, wallet: loadWallet, cases: loadCases, halls: loadHalls, notices: loadNotices };

function show(name) {
  VIEWS.forEach(function (v) { $(v + "-view").hidden = v !== name; });
  const inside = ["login", "realname"].indexOf(name) < 0;
  $("tabs").hidden = !inside;
  $("logout").hidden = !session.data;
  document.querySelectorAll("#tabs button").forEach(function (b) {
    b.classList.toggle("active", b.getAttribute("data-view") === name);
  });
  if (name !== "wallet") { qr.stop(); }
  document.body.setAttribute("data-view", name);
  if (LOADERS[name]) { LOADERS[name](); }
}

function signedOut(text) {
  stream.stop();
  qr.stop();
  session.clear();
  $("code-form").hidden = true;
  $("phone-form").hidden = false;
  show("login");
  if (text) { say(text); }
}

/* --- Login and real name ---------------------------------------------------------------------- */

/* The send button stays disabled for `seconds` and says how long is left (resend_after, or a
 * 429's retry_after), then offers to send again. */
function countdown(seconds) {
  const button = $("send-code");
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  clearInterval(resend.timer);
  function tick() {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      button.textContent = "重新获取（" + left + " 秒）";
      button.setAttribute("data-wait", String(left));
      return;
    }
    clearInterval(resend.timer);
    button.disabled = false;
    button.removeAttribute("data-wait");
    button.textContent = $("code-form").hidden ? "获取验证码" : "重新获取验证码";
  }
  tick();
  resend.timer = setInterval(tick, 1000);
}

function requestCode(event) {
  event.preventDefault();
  say("");
  const phone = $("phone").value.trim();
  $("send-code").disabled = true;
  api.send("POST", "/auth/sms-codes", { phone }).then(function (r) {
    $("send-code").disabled = false;
    if (!r.ok) {
      problem(r, "验证码发送失败。");
      if (r.data.retry_after) { countdown(r.data.retry_after); }
      return;
    }
    $("code-form").hidden = false;
    countdown(r.data.resend_after);
    $("code").focus();
    say("验证码已发送，请查收短信。", "info");
    return devCode(phone);
  }, function () { $("send-code").disabled = false; say("网络异常，请稍后再试。"); });
}

/* Development only: the dev SMS outbox (absent in production, where this quietly does nothing). */
function devCode(phone) {
  return api.send("GET", "/dev/sms-outbox?phone=" + encodeURIComponent(phone)).then(function (r) {
    const items = r.ok && r.data.items;
    if (!items || !items.length) { return; }
    $("dev-code").textContent = "开发环境：验证码 " + items[0].code + "（已自动填入，生产环境不显示）";
    $("dev-code").hidden = false;
    $("code").value = items[0].code;
  }, function () { /* no outbox: production */ });
}

/* A form sent: its button disabled until the answer; a problem (else `fallback`) or a network failure
 * is said, a success goes to `done`. */
function submit(event, buttonId, send, fallback, done) {
  event.preventDefault();
  say("");
  const button = $(buttonId);
  button.disabled = true;
  send().then(function (r) {
    button.disabled = false;
    if (!r.ok) { problem(r, fallback); return; }
    done(r);
  }, function () { button.disabled = false; say("网络异常，请稍后再试。"); });
}

function login(event) {
  submit(event, "login-button", function () {
    return api.send("POST", "/auth/login", { phone: $("phone").value.trim(), code: $("code").value.trim() });
  }, "登录失败。", function (r) {
    session.save({ access: r.data.access_token, refresh: r.data.refresh_token, user: r.data.user });
    countdown(0);
    $("code").value = "";
    $("dev-code").hidden = true;
    enter();
  });
}

function realName(event) {
  submit(event, "realname-button", function () {
    return api.call("POST", "/me/real-name", { name: $("rn-name").value.trim(), id_number: $("rn-id").value.trim() });
  }, "实名认证失败。", function (r) {
    $("rn-id").value = "";
    $("rn-name").value = "";
    session.data.user.real_name_verified = true;
    session.data.user.assurance_level = r.data.assurance_level;
    session.save();
    say("实名认证成功。", "info");
    enter();
  });
}

function enter() {
  if (!session.data) { show("login"); return; }
  api.call("GET", "/me").then(function (r) {
    if (!session.data) { return; }
    if (r.ok) { session.data.user = r.data; session.save(); }
    if (!session.data.user || !session.data.user.real_name_verified) { show("realname"); return; }
    stream.start();
    show("home");
  });
}

/* --- Home ------------------------------------------------------------------------------------- */

function item(list, title, sub, onTap, extraClass) {
  const li = el("li", (onTap ? "tap " : "") + (extraClass || ""));
  li.appendChild(el("span", "title", title));
  if (sub) { li.appendChild(el("span", "sub", sub)); }
  if (onTap) {
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.addEventListener("click", onTap);
    li.addEventListener("keydown", function (e) { if (e.key === "Enter") { onTap(); } });
  }
  list.appendChild(li);
  return li;
}

function empty(list, text) { clear(list); item(list, text, null, null, "empty"); }

function loadHome() {
  locate().then(function (p) {
    $("home-where").textContent = p.label;
    return api.call("GET", "/bff/home?" + where(p));
  }).then(function (r) {
    if (!r.ok) { problem(r); return; }
    renderHome(r.data);
  });
}

function renderHome(home) {
  const elderly = home.layout === "elderly" || !!(home.profile && home.profile.elderly_mode);
  preferences.setElderly(elderly);
  const profile = $("profile");
  clear(profile);
  if (home.profile) {
    profile.appendChild(el("div", "title", (home.profile.name_masked || "用户") + "，您好"));
    profile.appendChild(el("div", "sub", "手机 " + (home.profile.phone_masked || "") + " · 认证等级 " +
      home.profile.assurance_level + (elderly ? " · 大字版" : "")));
  }
  setUnread(home.unread_notifications);
  const lic = $("home-licences");
  clear(lic);
  (home.licences || []).forEach(function (c) {
    item(lic, c.type_name, c.status_label + (c.valid_until ? " · 有效期至 " + c.valid_until : ""), function () { show("wallet"); });
  });
  if (!lic.firstChild) { empty(lic, home.licences === null ? "证照暂时无法加载" : "暂无证照"); }
  const cases = $("home-cases");
  clear(cases);
  (home.cases || []).forEach(function (c) {
    item(cases, c.item_name, c.status_label + " · " + c.case_no + (c.overdue ? " · 已超期" : ""),
         function () { show("cases"); openCase(c.id); });
  });
  if (!cases.firstChild) { empty(cases, home.cases === null ? "办件暂时无法加载" : "暂无办理中的事项"); }
  const halls = $("home-halls");
  clear(halls);
  (home.nearby_halls || []).forEach(function (h) {
    item(halls, h.name, hallState(h) + " · " + distance(h.distance_m) + " · " + h.address, function () { show("halls"); },
         h.open_now ? "" : "closed");
  });
  if (!halls.firstChild) { empty(halls, "附近暂无开放的网点"); }
}

function setUnread(count) {
  const badge = $("unread");
  if (typeof count !== "number") { return; }
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count <= 0;
  badge.setAttribute("data-count", String(count));
}

/* --- Wallet: a one-time QR that replaces itself before it expires ----------------------------- */

function loadWallet() {
  api.call("GET", "/wallet/licences").then(function (r) {
    const list = $("licences");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach(function (c) {
      const li = item(list, c.type_name, c.status_label + " · " + c.issuer_name + (c.valid_until ? " · 有效期至 " + c.valid_until : ""),
        function () { qr.open(c); });
      li.setAttribute("data-licence", c.id);
    });
    if (!list.firstChild) { empty(list, "暂无证照"); }
  });
}

/* --- Cases ------------------------------------------------------------------------------------ */

function loadCases() {
  $("case-detail").hidden = true;
  api.call("GET", "/cases").then(function (r) {
    const list = $("cases");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach(function (c) {
      const li = item(list, c.item_name, c.status_label + " · " + c.case_no + " · " + formatTime(c.status_at) +
        (dueText(c) ? " · " + dueText(c) : ""), function () { openCase(c.id); });
      li.setAttribute("data-case", c.id);
    });
    if (!list.firstChild) { empty(list, "暂无办件"); }
  });
}

/* The promised date (承诺办结), paused or overdue, and a 补正 deadline: what the citizen waits for. */
function dueText(c) {
  const parts = [];
  const clock = c.clock || {};
  if (c.supplement_due) { parts.push("请于 " + c.supplement_due + " 前补正材料"); }
  if (clock.due_date) {
    parts.push("承诺 " + clock.due_date + " 前办结" + (clock.paused ? "（计时暂停中）" : "") + (clock.overdue ? "（已超期）" : ""));
  }
  return parts.join(" · ");
}

function openCase(id) {
  api.call("GET", "/cases/" + encodeURIComponent(id)).then(function (r) {
    if (!r.ok) { problem(r); return; }
    const c = r.data;
    $("case-title").textContent = c.item_name;
    $("case-meta").textContent = c.case_no + " · " + (c.department_name || "") + " · 当前：" + c.status_label;
    $("case-due").textContent = dueText(c);
    $("case-due").hidden = !dueText(c);
    const list = $("timeline");
    clear(list);
    (c.timeline || []).forEach(function (t) {
      const li = el("li");
      li.appendChild(el("span", "title", t.label || t.status_label || KIND_LABELS[t.kind] || "办理进度"));
      li.appendChild(el("span", "sub", formatTime(t.occurred_at) + (t.message ? " · " + t.message : "") +
        (t.supplement_due ? " · 补正截止 " + t.supplement_due : "")));
      list.appendChild(li);
    });
    $("case-detail").hidden = false;
    $("case-detail").scrollIntoView();
  });
}

/* --- Halls ------------------------------------------------------------------------------------ */

function loadHalls() {
  locate().then(function (p) {
    $("halls-where").textContent = p.label;
    return api.call("GET", "/map/halls/nearby?" + where(p) + "&limit=10");
  }).then(function (r) {
    const list = $("halls");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach(function (h) {
      const li = item(list, h.name, hallState(h) + " · " + distance(h.distance_m) + " · " + h.address, null,
                    h.open_now ? "" : "closed");
      li.setAttribute("data-hall", h.id);
      li.setAttribute("data-open", h.open_now ? "yes" : "no");
    });
    if (!list.firstChild) { empty(list, "附近没有找到网点"); }
  });
}

/* --- Notifications and the live stream -------------------------------------------------------- */

function loadNotices() {
  api.call("GET", "/notifications?limit=30").then(function (r) {
    const list = $("notices");
    clear(list);
    if (!r.ok) { problem(r); return; }
    // The stream may have delivered a notice this (older) page of the inbox does not hold yet.
    const ids = {};
    r.data.items.forEach(function (n) { ids[n.id] = true; });
    const live = stream.live().filter(function (n) { return !ids[n.id]; });
    live.concat(r.data.items).sort(function (a, b) { return Number(b.id) - Number(a.id); })
      .forEach(function (n) { addNotice(n, false); });
    if (!list.firstChild) { empty(list, "暂无消息"); }
  });
  refreshUnread();
}

let unreadAsked = 0;
function refreshUnread() {
  const asked = ++unreadAsked;  // answers can overtake each other: only the latest question counts
  api.call("GET", "/notifications/unread-count").then(function (r) {
    if (r.ok && asked === unreadAsked) { setUnread(r.data.count); }
  });
}

function addNotice(n, atTop) {
  const list = $("notices");
  if (list.querySelector('[data-notice="' + String(n.id).replace(/[^0-9A-Za-z_-]/g, "") + '"]')) { return; }
  const placeholder = list.querySelector(".empty");
  if (placeholder) { list.removeChild(placeholder); }
  const li = el("li", "tap" + (n.read ? "" : " unread"));
  li.setAttribute("data-notice", n.id);
  li.appendChild(el("span", "title", n.title));
  li.appendChild(el("span", "sub", n.body + " · " + formatTime(n.created_at)));
  li.addEventListener("click", function () {
    if (!li.classList.contains("unread")) { return; }
    api.call("POST", "/notifications/" + encodeURIComponent(n.id) + "/read").then(function () {
      li.classList.remove("unread");
      refreshUnread();
    });
  });
  if (atTop && list.firstChild) { list.insertBefore(li, list.firstChild); } else { list.appendChild(li); }
}

function logout() {
  if (session.data && session.data.refresh) { api.request("POST", "/auth/logout").catch(function () {}); }
  signedOut("");
  say("已退出登录。", "info");
}

/* --- Start ------------------------------------------------------------------------------------ */

applyElderly();  // this tab's last known setting, until the home screen answers
$("phone-form").addEventListener("submit", requestCode);
$("code-form").addEventListener("submit", login);
$("realname-form").addEventListener("submit", realName);
$("logout").addEventListener("click", logout);
$("qr-close").addEventListener("click", qr.stop);
$("case-close").addEventListener("click", function () { $("case-detail").hidden = true; });
document.querySelectorAll("#tabs button").forEach(function (b) {
  b.addEventListener("click", function () { say(""); show(b.getAttribute("data-view")); });
});
enter();  // a module runs once the document is parsed
