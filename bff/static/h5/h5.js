/* 一网 H5 演示客户端: SMS login, real-name, home, wallet QR, cases, halls, notifications (live).
 * An ES module: the HTTP client (token refresh, problem+json, Accept-Language, elderly mode) is the
 * pages' shared /static/web/api.js. Talks only to this origin's API; data goes into the page through
 * textContent (never as markup); no inline script (CSP). Tokens live in sessionStorage and never go
 * into a URL. */
import { Store, applyElderly, createClient, preferences, problemMessage } from "/static/web/api.js";
import { $, clear, el, formatTime } from "/static/web/dom.js";

const HEFEI = { lat: 31.8206, lng: 117.2272, coord: "gcj02", label: "未获取到定位，按合肥市中心展示" };
const KIND_LABELS = { status: "状态变更", evaluation: "服务评价", follow_up: "部门答复" };
const session = new Store(sessionStorage, "yiwang.h5");  // {access, refresh, user}
const api = createClient({
  session,
  headers: { "X-Client": "h5", "X-Client-Version": "1.0.0" },
  // 401 token_invalid and no refresh: expired; any other 401: signed out elsewhere
  onExpired: (why) => signedOut(why === "expired" ? "登录已过期，请重新登录。" : "请重新登录。"),
});
let place = null;            // {lat, lng, coord, label}
let qr = { timer: null, tick: null, url: null, id: null, licence: null };
const stream = { controller: null, lastId: null, retry: null, ended: null, seen: {}, live: [] };
const resend = { timer: null };

function distance(m) { return m >= 1000 ? (m / 1000).toFixed(1) + " 公里" : Math.round(m) + " 米"; }

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
  if (name !== "wallet") { stopQr(); }
  document.body.setAttribute("data-view", name);
  if (LOADERS[name]) { LOADERS[name](); }
}

function signedOut(text) {
  stopStream();
  stopQr();
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

function login(event) {
  event.preventDefault();
  say("");
  $("login-button").disabled = true;
  api.send("POST", "/auth/login", { phone: $("phone").value.trim(), code: $("code").value.trim() }).then(function (r) {
    $("login-button").disabled = false;
    if (!r.ok) { problem(r, "登录失败。"); return; }
    session.save({ access: r.data.access_token, refresh: r.data.refresh_token, user: r.data.user });
    countdown(0);
    $("code").value = "";
    $("dev-code").hidden = true;
    enter();
  }, function () { $("login-button").disabled = false; say("网络异常，请稍后再试。"); });
}

function realName(event) {
  event.preventDefault();
  say("");
  $("realname-button").disabled = true;
  api.call("POST", "/me/real-name", { name: $("rn-name").value.trim(), id_number: $("rn-id").value.trim() }).then(function (r) {
    $("realname-button").disabled = false;
    if (!r.ok) { problem(r, "实名认证失败。"); return; }
    $("rn-id").value = "";
    $("rn-name").value = "";
    session.data.user.real_name_verified = true;
    session.data.user.assurance_level = r.data.assurance_level;
    session.save();
    say("实名认证成功。", "info");
    enter();
  }, function () { $("realname-button").disabled = false; say("网络异常，请稍后再试。"); });
}

function enter() {
  if (!session.data) { show("login"); return; }
  api.call("GET", "/me").then(function (r) {
    if (!session.data) { return; }
    if (r.ok) { session.data.user = r.data; session.save(); }
    if (!session.data.user || !session.data.user.real_name_verified) { show("realname"); return; }
    startStream();
    show("home");
  });
}

/* --- Where am I: the browser's position (wgs84), else central Hefei (gcj02) -------------------- */

function locate() {
  if (place) { return Promise.resolve(place); }
  return new Promise(function (resolve) {
    let done = false;
    function finish(p) { if (!done) { done = true; place = p; resolve(p); } }
    if (!navigator.geolocation) { finish(HEFEI); return; }
    setTimeout(function () { finish(HEFEI); }, 5000);
    navigator.geolocation.getCurrentPosition(function (pos) {
      finish({ lat: pos.coords.latitude, lng: pos.coords.longitude, coord: "wgs84", label: "按当前位置" });
    }, function () { finish(HEFEI); }, { timeout: 4000, maximumAge: 600000 });
  });
}

function where(p) { return "lat=" + p.lat.toFixed(6) + "&lng=" + p.lng.toFixed(6) + "&coord=" + p.coord; }

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
        function () { openQr(c); });
      li.setAttribute("data-licence", c.id);
    });
    if (!list.firstChild) { empty(list, "暂无证照"); }
  });
}

function openQr(licence) {
  stopQr();
  qr.licence = licence;
  $("qr-title").textContent = licence.type_name + " · 亮证";
  $("qr-panel").hidden = false;
  present();
}

function present() {
  const licence = qr.licence;
  if (!licence) { return; }
  api.call("POST", "/wallet/licences/" + encodeURIComponent(licence.id) + "/presentations", { purpose: "H5 亮证" }).then(function (r) {
    if (qr.licence !== licence) { return; }
    if (!r.ok) { problem(r, "二维码生成失败。"); return; }
    const p = r.data;
    qr.id = p.id;
    $("qr-text").textContent = p.qr_text;
    $("qr-manual").textContent = p.manual_code || "";
    $("qr-panel").setAttribute("data-presentation", p.id);
    return api.authed("GET", "/wallet/presentations/" + encodeURIComponent(p.id) + "/qr.png").then(function (response) {
      return response.ok ? response.blob() : null;
    }).then(function (blob) {
      if (!blob || qr.id !== p.id) { return; }
      if (qr.url) { URL.revokeObjectURL(qr.url); }
      qr.url = URL.createObjectURL(blob);
      $("qr-img").src = qr.url;
      schedule(p);
    });
  });
}

function schedule(p) {
  const now = Date.now();
  const expires = new Date(p.expires_at).getTime();
  const refreshAt = Math.min(new Date(p.refresh_after).getTime(), expires - 2000);
  clearTimeout(qr.timer);
  clearInterval(qr.tick);
  qr.timer = setTimeout(present, Math.max(1000, refreshAt - now));
  function tick() {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    $("qr-countdown").textContent = "二维码 " + left + " 秒后失效，将自动刷新";
  }
  tick();
  qr.tick = setInterval(tick, 1000);
}

function stopQr() {
  clearTimeout(qr.timer);
  clearInterval(qr.tick);
  if (qr.id && session.data) { api.authed("DELETE", "/wallet/presentations/" + encodeURIComponent(qr.id)).catch(function () {}); }
  if (qr.url) { URL.revokeObjectURL(qr.url); }
  qr = { timer: null, tick: null, url: null, id: null, licence: null };
  $("qr-panel").hidden = true;
  $("qr-img").removeAttribute("src");
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

/* Open now or not, and today's hours; a day without hours (an empty list) is a closed day. */
function hallState(h) {
  const today = h.today || {};
  const hours = today.hours || [];
  if (!hours.length) { return "今日休息" + (today.closed_reason ? "（" + today.closed_reason + "）" : ""); }
  return (h.open_now ? "营业中" : "已休息") + " · 今日 " + hours.join("、");
}

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
    const live = stream.live.filter(function (n) { return !ids[n.id]; });
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

function streamState(text) { $("stream-state").textContent = text; }

/* EventSource cannot send the Authorization header and the stream takes no token in its URL, so
 * the page reads the answer as a stream (api.request) and parses the Server-Sent Events itself
 * (Last-Event-ID to resume). */
function startStream() {
  if (stream.controller || !session.data || !window.ReadableStream) { return; }
  const controller = new AbortController();
  stream.controller = controller;
  const extra = { "Accept": "text/event-stream" };
  if (stream.lastId) { extra["Last-Event-ID"] = stream.lastId; }
  api.request("GET", "/notifications/stream", { headers: extra, signal: controller.signal }).then(function (response) {
    if (response.status === 401) {
      return api.refresh().then(function (ok) { if (!ok) { signedOut("登录已过期，请重新登录。"); } throw new Error("401"); });
    }
    if (!response.ok || !response.body) { throw new Error("stream " + response.status); }
    streamState("实时消息已连接");
    document.body.setAttribute("data-stream", "open");
    return readEvents(response.body.getReader());
  }).catch(function () { /* reconnect below */ }).then(function () {
    if (stream.controller !== controller) { return; }
    stream.controller = null;
    document.body.setAttribute("data-stream", "closed");
    // a 4th stream of this account closed this one: taking it back would close another, so wait as the server asks
    const limited = stream.ended && stream.ended.indexOf("stream_limit") >= 0;
    stream.ended = null;
    if (session.data && limited) { streamState("实时消息已在其他设备或页面打开，10 分钟后重试"); stream.retry = setTimeout(startStream, 600000); }
    else if (session.data) { streamState("实时消息重连中…"); stream.retry = setTimeout(startStream, 3000); }
  });
}

function readEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  function pump() {
    return reader.read().then(function (chunk) {
      if (chunk.done) { return; }
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
      return pump();
    });
  }
  return pump();
}

function dispatch(block) {
  let id = null, type = "message", data = [];
  block.split("\n").forEach(function (line) {
    if (!line || line.charAt(0) === ":") { return; }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") { id = value; } else if (field === "event") { type = value; } else if (field === "data") { data.push(value); }
  });
  if (id) { stream.lastId = id; }
  if (type === "end") { stream.ended = data.join("\n"); return; }  // session_revoked | stream_limit
  if (type !== "notification" || !data.length) { return; }
  let notice;
  try { notice = JSON.parse(data.join("\n")); } catch (e) { return; }
  if (stream.seen[notice.id]) { return; }  // at least once: de-duplicate by id
  stream.seen[notice.id] = true;
  stream.live.unshift(notice);
  addNotice(notice, true);
  refreshUnread();
  say("新消息：" + notice.title, "info");
}

function stopStream() {
  clearTimeout(stream.retry);
  const controller = stream.controller;
  stream.controller = null;
  if (controller) { controller.abort(); }
  stream.lastId = null;
  stream.seen = {};
  stream.live = [];
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
$("qr-close").addEventListener("click", stopQr);
$("case-close").addEventListener("click", function () { $("case-detail").hidden = true; });
document.querySelectorAll("#tabs button").forEach(function (b) {
  b.addEventListener("click", function () { say(""); show(b.getAttribute("data-view")); });
});
enter();  // a module runs once the document is parsed
