/* 柜台亮证核验: clerk login, the matter (办理事项) chosen before scanning and remembered for the session,
 * an always-focused scan box, one result card, today's list; a second tab 预约签到 checks a booking in
 * (checkin.js: its QR carries the 8-character check-in code; the scan box reads it).
 * An ES module: the HTTP client (token refresh, problem+json, Accept-Language) is the pages' shared
 * /static/web/api.js. All data goes into the page through textContent (never as markup); no inline
 * script (CSP). */
import { Store, createClient, preferences, problemMessage } from "/static/web/api.js";
import { $, clear, el, formatTime } from "/static/web/dom.js";
import { checkinTab } from "./checkin.js";
import { offlineMode } from "./offline_card.js";


const RESULT_LABELS = {
  verified: "核验通过", presentation_used: "已被使用", presentation_expired: "已过期",
  presentation_invalid: "无效二维码", licence_not_valid: "证照无效", rate_limited: "操作过于频繁",
};
// The card's heading per refusal code [zh, en]; the server's `detail` (in the page's language) says the rest.
const VERIFY_HEADINGS = {
  presentation_expired: ["亮证码已过期", "Code expired"],
  presentation_used: ["亮证码已被使用", "Code already used"],
  presentation_invalid: ["无效的亮证码", "Not a valid code"],
  licence_not_valid: ["证照无效（暂扣、撤销或过期）", "Licence not valid (suspended, revoked or expired)"],
  matter_not_applicable: ["该事项不接受这种证照", "This matter does not accept this licence"],
  matter_missing: ["请先选择办理事项", "Choose the matter first"],
  forbidden: ["不在您的核验权限内", "Not within your counter permissions"],
  counter_out_of_scope: ["不在您的核验权限内（账号未分配大厅）", "Outside your permissions (no hall assigned)"],
  rate_limited: ["操作过于频繁", "Too many attempts"],
  validation_failed: ["请求有误", "Request not accepted"],
};
// licence_not_valid's `reason` (the server's stable sub-code): what happened to the licence; the detail names the day.
const NOT_VALID_HEADINGS = {
  suspended: ["证照无效：已被暂扣", "Licence not valid: suspended"],
  revoked: ["证照无效：已被撤销或吊销", "Licence not valid: revoked"],
  ended: ["证照无效：已注销或失效", "Licence not valid: cancelled or lapsed"],
  expired: ["证照无效：已过期", "Licence not valid: expired"],
};
// What the clerk can do next, per refusal.
const VERIFY_ADVICE = {
  matter_not_applicable: ["亮证码未作废：请重新选择办理事项后再扫一次，或请群众出示其他证照。",
    "The code was not used up: choose another matter and scan it again, or ask for another licence."],
  matter_missing: ["亮证码未作废：选择事项后请再扫一次。", "The code was not used up: choose the matter, then scan again."],
  presentation_used: ["请群众在手机上刷新亮证码后重新出示。", "Ask the citizen to refresh the code on their phone."],
  presentation_expired: ["请群众在手机上刷新亮证码后重新出示。", "Ask the citizen to refresh the code on their phone."],
};
const TEXT = {
  verifyLabel: ["请扫描群众出示的亮证二维码", "Scan the citizen's licence QR code"],
  checkinLabel: ["请扫描预约签到二维码", "Scan the booking's check-in QR code"],
  matterLabel: ["① 办理事项", "① Matter"], matterNone: ["请先选择办理事项…", "Choose the matter first…"],
  matterHint: ["可核验：", "Accepts: "], matterShows: ["柜台将看到：", "The counter sees: "],
  matterBasis: ["。依据：", ". Legal basis: "],
  matterUnavailable: ["办理事项列表暂时无法加载，请刷新页面。", "The list of matters could not be loaded; reload the page."],
  matterFirst: ["核验前请在上方“办理事项”中选择群众要办理的事项。",
    "Before scanning, choose above what the citizen is here for (Matter)."], matterOf: ["事项：", "Matter: "],
  masked: ["（打码）", " (masked)"], tail4: ["（仅后4位）", " (last 4 only)"],
};
const MATTER_KEY = "yiwang.counter.matter";  // the chosen matter, for this tab's session
const session = new Store(sessionStorage, "yiwang.counter");  // {access, refresh, staff}
// The page is written in Chinese: the API's messages come in the page's language (<html lang>), not the
// browser's. Any other 401 than an expired token is answered as it is.
const api = createClient({
  session,
  onExpired: (why) => { if (why === "expired") { logout("登录已失效，请重新登录。"); } },
});
const labels = {};               // type_code -> {name, fields: {key: label}}
const matters = {};              // matter code -> {code, name, licence_types}
const work = { busy: false };    // one request at a time (a verification or a check-in)
let mode = "verify";             // "verify" (亮证核验) or "checkin" (预约签到)

function t(pair) { return /^en\b/i.test(preferences.language()) ? pair[1] : pair[0]; }
function heading(table, code) { return table[code] ? t(table[code]) : ""; }

function seconds(value) { return formatTime(value, { seconds: true }); }

/* --- Login ------------------------------------------------------------------------------- */

function showLogin(message) {
  $("scan-view").hidden = true;
  $("who").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  $("password").value = "";
  $("username").focus();
}

function showScan() {
  $("login-view").hidden = true;
  $("scan-view").hidden = false;
  const staff = session.data.staff || {};
  $("who-text").textContent = (staff.username || "") + (staff.hall_code ? "（大厅 " + staff.hall_code + "）" : "");
  $("who").hidden = false;
  $("scan-label").textContent = t(mode === "checkin" ? TEXT.checkinLabel : TEXT.verifyLabel);
  loadMatters();
  focusScan();
  loadToday();
}

function logout(message) {
  if (session.data && session.data.access) {
    // the old token as it is (no refresh): it ends the session on the server
    api.request("POST", "/auth/logout").catch(() => {});
  }
  session.clear();
  sessionStorage.removeItem(MATTER_KEY);
  $("matter").value = "";
  clear($("card")); $("card").hidden = true;
  clear($("today-list")); $("today").hidden = true;
  setMode("verify");
  showLogin(message);
}

function onLogin(event) {
  event.preventDefault();
  const button = $("login-button");
  button.disabled = true;
  $("login-error").textContent = "";
  api.send("POST", "/auth/staff-login", { username: $("username").value.trim(), password: $("password").value })
    .then((r) => {
      if (r.ok && r.data.access_token) {
        session.save({ access: r.data.access_token, refresh: r.data.refresh_token, staff: r.data.staff || {} });
        showScan();
      } else {
        $("login-error").textContent = problemMessage(r.data, "登录失败，请重试。");
      }
    }, () => { $("login-error").textContent = "网络异常，请稍后重试。"; })
    .then(() => { button.disabled = false; $("password").value = ""; });
}

/* --- Licence type labels (fetched once) -------------------------------------------------- */

function loadLabels() {
  return api.send("GET", "/licence-types").then((r) => {
    (r.data.items || []).forEach((type) => {
      const fields = {};
      (type.fields || []).forEach((f) => { fields[f.key] = f.label; });
      labels[type.code] = { name: type.name, fields };
    });
  }, () => {});
}

function fieldLabel(typeCode, key) {
  const type = labels[typeCode];
  return (type && type.fields[key]) || key;
}

/* --- The matter (办理事项): chosen before scanning, remembered for the session ------------- */

function loadMatters() {
  $("matter-label").textContent = t(TEXT.matterLabel);
  $("matter-none").textContent = t(TEXT.matterNone);
  return api.call("GET", "/counter/matters").then((r) => {
    if (!r.ok) { $("matter-hint").textContent = t(TEXT.matterUnavailable); return; }
    const select = $("matter");
    Array.from(select.querySelectorAll("option[value]:not([value=''])")).forEach((o) => { o.remove(); });
    (r.data.items || []).forEach((m) => {
      matters[m.code] = m;
      const option = el("option", null, m.name);
      option.value = m.code;
      select.appendChild(option);
    });
    const kept = sessionStorage.getItem(MATTER_KEY);
    select.value = kept && matters[kept] ? kept : "";
    showMatterHint();
  }, () => { $("matter-hint").textContent = t(TEXT.matterUnavailable); });
}

function how(field) {
  if (field.how === "masked") { return field.label + t(TEXT.masked); }
  if (field.how === "tail4") { return field.label + t(TEXT.tail4); }
  return field.label;
}

function showMatterHint() {
  const matter = matters[$("matter").value];
  $("matter-box").classList.toggle("missing", !matter);
  if (!matter) { $("matter-hint").textContent = ""; return; }
  const sep = t(["、", ", "]);
  const types = matter.licence_types || [];
  let hint = t(TEXT.matterHint) + types.map((x) => x.name).join(sep);
  if (types.length === 1) { hint += t(["；", "; "]) + t(TEXT.matterShows) + (types[0].fields || []).map(how).join(sep); }
  if (matter.legal_basis) { hint += t(TEXT.matterBasis) + matter.legal_basis; }  // why the counter may ask
  $("matter-hint").textContent = hint;
}

function onMatterChange() {
  const code = $("matter").value;
  if (code) { sessionStorage.setItem(MATTER_KEY, code); } else { sessionStorage.removeItem(MATTER_KEY); }
  showMatterHint();
  clear($("card")); $("card").hidden = true;
  $("matter").blur();
  setTimeout(focusScan, 0);
}

/* --- Scanning ---------------------------------------------------------------------------- */

function focusScan() {
  const scan = $("scan");
  const active = document.activeElement;
  const typing = active === $("manual") || active === $("checkin-code") || active === $("matter");
  if (!$("scan-view").hidden && !typing) { scan.focus(); }
}

function verify(body) {
  if (work.busy) { return; }
  const matter = $("matter").value;
  if (!matter) {  // the code is not sent: it stays valid for the scan after the choice
    showRefused({ status: 0, data: { code: "matter_missing", detail: t(TEXT.matterFirst) } });
    $("matter-box").classList.add("missing");
    $("matter").focus();
    return;
  }
  body.matter = matter;
  work.busy = true;
  $("status").textContent = "正在核验…";
  $("manual-button").disabled = true;
  api.call("POST", "/counter/verifications", body).then((r) => {
    if (!session.data) { return; }
    if (r.ok && r.data.result === "verified") { showVerified(r.data); } else { showRefused(r); }
    loadToday();
  }, () => {
    showRefused({ status: 0, data: { detail: "网络异常，请稍后重试。" } });
  }).then(() => {
    work.busy = false;
    $("status").textContent = "";
    $("manual-button").disabled = false;
    focusScan();
  });
}

function onScanKey(event) {
  if (event.key !== "Enter") { return; }
  event.preventDefault();
  const text = $("scan").value.trim();
  $("scan").value = "";
  if (text && mode === "verify" && offline.handles(text)) { offline.scan(text); return; }  // checked here, no request
  if (text) { if (mode === "checkin") { checkins.checkIn(text); } else { verify({ qr_text: text }); } }
}

function onManual(event) {
  event.preventDefault();
  const code = $("manual").value.replace(/\s+/g, "");
  if (!/^[0-9]{8}$/.test(code)) { showRefused({ status: 0, data: { detail: "请输入 8 位数字核验码。" } }); return; }
  $("manual").value = "";
  $("manual").blur();
  verify({ manual_code: code });
}

function row(dl, term, value) {
  if (value === undefined || value === null || value === "") { return; }
  dl.appendChild(el("dt", null, term));
  dl.appendChild(el("dd", null, value));
}

function showVerified(data) {
  const card = $("card");
  const licence = data.licence || {};
  const holder = data.holder || {};
  clear(card);
  card.className = "card ok";
  card.appendChild(el("p", "verdict", "✔ 核验通过"));
  card.appendChild(el("p", "type", licence.type_name || (labels[licence.type_code] || {}).name || licence.type_code));
  if (data.matter) { card.appendChild(el("p", "matter-line", t(TEXT.matterOf) + data.matter.name)); }
  // One row per fact: the server merges the licence fields that repeat the holder's name and ID
  // number, the status and the validity end into holder/licence (licence.merged_fields).
  const dl = el("dl");
  if (holder.kind === "enterprise") {  // an enterprise's licence: its name and USCC, and who showed it (issue 19)
    const by = data.shown_by && data.shown_by.name_masked;
    row(dl, "企业", holder.name + (by ? "（经办人 " + by + "出示）" : ""));
    row(dl, "社会信用代码", holder.uscc);  // not the field label 统一社会信用代码: merged here, shown once
  } else {
    row(dl, "持证人", holder.name || holder.name_masked);
    row(dl, "证件号码", holder.id_number || holder.id_number_masked);
  }
  const fields = licence.fields || {};
  Object.keys(fields).forEach((key) => { row(dl, fieldLabel(licence.type_code, key), fields[key]); });
  row(dl, "证照签发方", licence.issuer);  // the issuing system; 驾驶证 has a field 发证机关 of its own
  row(dl, "证照状态", licence.status_label || licence.status);
  row(dl, "有效期至", licence.valid_until || "长期");
  row(dl, "亮证用途", data.purpose);  // 不动产权证书 has a field 用途 (the property's use)
  row(dl, "核验时间", seconds(data.checked_at));
  card.appendChild(dl);
  card.hidden = false;
}

function showRefused(r, verdict = "✘ 核验未通过", headings = VERIFY_HEADINGS) {
  const card = $("card");
  const data = r.data || {};
  clear(card);
  card.className = "card fail";
  card.appendChild(el("p", "verdict", verdict));
  const title = (data.code === "licence_not_valid" && NOT_VALID_HEADINGS[data.reason])
    ? t(NOT_VALID_HEADINGS[data.reason]) : heading(headings, data.code);
  if (title) { card.appendChild(el("p", "reason", title)); }
  card.appendChild(el("p", "detail", problemMessage(r.data, "失败（" + r.status + "），请重试。")));
  if (headings === VERIFY_HEADINGS && VERIFY_ADVICE[data.code]) {
    card.appendChild(el("p", "advice", t(VERIFY_ADVICE[data.code])));
  }
  if (headings === VERIFY_HEADINGS && data.code !== "matter_missing" && matters[$("matter").value]) {
    card.appendChild(el("p", "advice", t(TEXT.matterOf) + matters[$("matter").value].name));
  }
  card.hidden = false;
}

/* --- The two tabs: 亮证核验 and 预约签到 (checkin.js) ---------------------------------------- */

function setMode(next) {
  mode = next;
  const checkin = mode === "checkin";
  $("tab-verify").setAttribute("aria-pressed", String(!checkin));
  $("tab-checkin").setAttribute("aria-pressed", String(checkin));
  $("scan-label").textContent = t(checkin ? TEXT.checkinLabel : TEXT.verifyLabel);
  $("manual-form").hidden = checkin;
  $("matter-box").hidden = checkin;
  $("checkin-form").hidden = !checkin;
  clear($("card")); $("card").hidden = true;
  $("scan").value = "";
  focusScan();
}


/* --- Today's scans ----------------------------------------------------------------------- */

function loadToday() {
  api.call("GET", "/counter/verifications").then((r) => {
    const list = $("today-list");
    clear(list);
    const items = (r.ok && r.data.items) || [];
    items.forEach((item) => {
      const li = el("li");
      const ok = item.result === "verified";
      li.appendChild(el("span", "time", seconds(item.checked_at)));
      li.appendChild(el("span", ok ? "ok" : "fail", RESULT_LABELS[item.result] || item.result));
      if (item.type_name) { li.appendChild(el("span", null, item.type_name)); }
      if (item.matter) { li.appendChild(el("span", null, t(TEXT.matterOf) + item.matter.name)); }
      const name = item.holder_name_masked || (item.holder && item.holder.name_masked);
      if (name) { li.appendChild(el("span", null, name)); }
      let fields = item.fields;
      if (fields && !Array.isArray(fields)) { fields = Object.keys(fields); }
      if (fields && fields.length) {
        li.appendChild(el("span", null, "出示：" + fields.map((k) => {
          const code = item.type_code || Object.keys(labels).filter((c) => labels[c].name === item.type_name)[0];
          return fieldLabel(code, k);
        }).join("、")));
      }
      list.appendChild(li);
    });
    $("today").hidden = items.length === 0;
  }, () => { $("today").hidden = true; });
}

/* --- Start (a module runs once the document is parsed) ----------------------------------- */

const checkins = checkinTab({ api, session, work, t, row, showRefused, focusScan });
const offline = offlineMode({ t, fieldLabel, row, chosenMatter: () => $("matter").value,
  matterName: (code) => t(TEXT.matterOf) + ((matters[code] || {}).name || code) });
offline.refresh();

$("login-form").addEventListener("submit", onLogin);
$("logout").addEventListener("click", () => { logout(""); });
$("scan").addEventListener("keydown", onScanKey);
$("scan").addEventListener("blur", () => { setTimeout(focusScan, 150); });
$("manual").addEventListener("blur", () => { setTimeout(focusScan, 150); });
$("manual-form").addEventListener("submit", onManual);
$("checkin-code").addEventListener("blur", () => { setTimeout(focusScan, 150); });
$("checkin-form").addEventListener("submit", checkins.onTyped);
$("tab-verify").addEventListener("click", () => { setMode("verify"); });
$("matter").addEventListener("change", onMatterChange);
$("matter").addEventListener("blur", () => { setTimeout(focusScan, 150); });
$("tab-checkin").addEventListener("click", () => { setMode("checkin"); });
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "BUTTON" || target.tagName === "SELECT"
    || target.tagName === "OPTION")) { return; }
  setTimeout(focusScan, 0);
});
window.addEventListener("focus", focusScan);
loadLabels();
if (session.data && session.data.access) { showScan(); } else { showLogin(""); }
