/* The wallet (证照): my licences with their state, one licence's detail (route wallet/licences/<id>,
 * the deep link every licence notice carries: yiwang://wallet/licences/<id>), showing it as a one-time
 * QR code (../qr.js) and who checked my licences (wallet/usage: who, where, when, for what and which
 * items – never the values).
 *
 * Field labels come from the public catalogue (/licence-types, in the page's language); a suspended or
 * revoked licence is marked and offers no QR; if the API refuses a code anyway (the licence changed
 * meanwhile) its problem is said in words and the screen shows the licence's state again. Calls go
 * through ctx.client(): a proxy acting for a relative sees the relative's wallet. */
import { english, t } from "../i18n.js";
import { offlinePanel, qrPanel } from "../qr.js";
import { $, button, clear, el, empty, formatTime, item, networkError, problem } from "../ui.js";

const VALID = "01";
const PAGES = 5;  // at most this many pages of licences (50 each) are read for the list

let qr = null;
let offline = null;  // the offline QR panel (离线亮证码) under the detail
let screen = { pane: "list", id: null };  // what the view shows: list | detail (id) | usage
let asked = 0;  // answers can overtake each other: only the latest question fills the screen
let usageCursor = null;
let current = null;  // the licence the detail shows
const catalogues = {};  // language → Promise of {type code → {labels: {key: label}, order: [keys]}}

/* --- Data ----------------------------------------------------------------------------------------- */

function catalogue(ctx) {
  const lang = english() ? "en" : "zh";
  if (!catalogues[lang]) {
    catalogues[lang] = ctx.api.send("GET", "/licence-types").then((r) => {
      if (!r.ok) { delete catalogues[lang]; return {}; }
      const types = {};
      r.data.items.forEach((type) => {
        const labels = {};
        const kinds = {};
        (type.fields || []).forEach((f) => { labels[f.key] = f.label; kinds[f.key] = f.type; });
        types[type.code] = { labels, kinds, order: (type.fields || []).map((f) => f.key) };
      });
      return types;
    }, () => { delete catalogues[lang]; return {}; });
  }
  return catalogues[lang];
}

/* Every licence of the wallet (following next_cursor), as {ok, items} or the failed answer. */
function licences(ctx) {
  const api = ctx.client();
  const items = [];
  function page(cursor, left) {
    return api.call("GET", "/wallet/licences?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then((r) => {
      if (!r.ok) { return r; }
      items.push(...r.data.items);
      return r.data.next_cursor && left > 1 ? page(r.data.next_cursor, left - 1) : { ok: true, items };
    });
  }
  return page(null, PAGES);
}

function usagePage(ctx, cursor) {
  return ctx.client().call("GET", "/wallet/usage?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
}

/* Acting for a relative whose authorisation does not include showing licences (licences:present):
 * the wallet is theirs to look at, not to show. */
function mayPresent(ctx) {
  const scopes = ctx.acting && ctx.acting.scopes;
  return !Array.isArray(scopes) || scopes.indexOf("licences:present") >= 0;
}

function notYours() { return t("代办授权不含亮证", "Your authorisation does not include showing licences"); }

/* --- Words ---------------------------------------------------------------------------------------- */

function validity(c) {
  return c.valid_until ? t("有效期至 " + c.valid_until, "Valid until " + c.valid_until) : t("长期有效", "No expiry date");
}

function period(c) {
  return c.valid_from + t(" 至 ", " to ") + (c.valid_until || t("长期", "no expiry date"));
}

/* A field's value as the API discloses it; the catalogue's "长期" (a date_or_permanent field with no
 * end) in the page's language. */
function shownValue(kind, value) {
  return kind === "date_or_permanent" && value === "长期" ? t("长期", "No expiry date") : String(value);
}

function resultLabel(result) {
  return {
    verified: t("核验通过", "Verified"),
    presentation_used: t("未通过：核验码已使用过", "Refused: the code had been used"),
    presentation_expired: t("未通过：核验码已过期", "Refused: the code had expired"),
    licence_not_valid: t("未通过：证照当前无效", "Refused: the licence was not valid"),
    matter_not_applicable: t("未通过：所办事项不接受此证照", "Refused: not accepted for that matter"),
    offline_issued: t("已生成离线亮证码（离线核验不回传）", "Offline code made (offline checks are not reported back)"),
  }[result] || t("未通过核验", "Refused");
}

/* The matter (用证事项) the counter chose, when the answer names one. */
function matterName(u) {
  if (u.matter_name) { return u.matter_name; }
  if (u.matter && typeof u.matter === "object") { return u.matter.name || u.matter.code || ""; }
  return u.matter ? String(u.matter) : "";
}

function fieldLabels(types, typeCode, keys) {
  const labels = (types[typeCode] || {}).labels || {};
  return (keys || []).map((k) => labels[k] || k);
}

/* --- Screens -------------------------------------------------------------------------------------- */

function showPane(pane) {
  $("wallet-list").hidden = pane !== "list";
  $("licence-detail").hidden = pane !== "detail";
  $("usage-pane").hidden = pane !== "usage";
  if ($("wallet-view").getAttribute("data-pane") !== pane) { window.scrollTo(0, 0); }  // a new screen starts at its top
  $("wallet-view").setAttribute("data-pane", pane);
}

function openQr(ctx, licence) {
  qr.open(licence);
  $("qr-panel").scrollIntoView({ block: "nearest" });
}

function renderList(ctx) {
  const mine = ++asked;
  licences(ctx).then((r) => {
    if (mine !== asked) { return; }
    const list = $("licences");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.items.forEach((c) => {
      const valid = c.status === VALID;
      const li = item(list, c.type_name, c.issuer_name + " · " + validity(c), () => ctx.go("wallet/licences/" + c.id),
        "licence-item" + (valid ? "" : " invalid"));
      li.setAttribute("data-licence", c.id);
      li.setAttribute("data-status", c.status);
      const row = el("span", "row");
      row.appendChild(el("span", "state " + (valid ? "ok" : "bad"), c.status_label));
      if (valid && !mayPresent(ctx)) {
        row.appendChild(el("span", "no-qr", notYours()));
      } else if (valid) {
        const show = button(t("亮证", "Show QR"), (e) => { e.stopPropagation(); openQr(ctx, c); }, "qr-open");
        show.addEventListener("keydown", (e) => { e.stopPropagation(); });
        row.appendChild(show);
      } else {
        row.appendChild(el("span", "no-qr", t("不能亮证", "Cannot be shown")));
      }
      li.appendChild(row);
    });
    if (!list.firstChild) { empty(list, t("暂无证照", "No licences yet")); }
  }, () => { if (mine === asked) { networkError(); } });
}

function fact(list, label, value, className) {
  list.appendChild(el("dt", null, label));
  const dd = el("dd", className || null, value);
  list.appendChild(dd);
  return dd;
}

function renderDetail(ctx, id) {
  const mine = ++asked;
  const api = ctx.client();
  Promise.all([api.call("GET", "/wallet/licences/" + encodeURIComponent(id)), catalogue(ctx)]).then(([r, types]) => {
    if (mine !== asked) { return; }
    if (!r.ok) {  // not (or no longer) in this wallet: say why over the list
      problem(r);
      screen = { pane: "list", id: null };
      showPane("list");
      renderList(ctx);
      return;
    }
    const c = r.data;
    const valid = c.status === VALID;
    const detail = $("licence-detail");
    detail.setAttribute("data-licence", c.id);
    detail.setAttribute("data-status", c.status);
    $("licence-title").textContent = c.type_name;
    const state = $("licence-state");
    state.textContent = t("状态：", "Status: ") + c.status_label + (c.status_reason ? t("（" + c.status_reason + "）", " (" + c.status_reason + ")") : "");
    state.className = "state " + (valid ? "ok" : "bad");
    $("licence-issuer").textContent = c.issuer_name;
    $("licence-validity").textContent = period(c);
    const holder = c.holder || {};
    $("licence-holder").textContent = [holder.name_masked, holder.id_number_masked].filter(Boolean).join(" ");
    const fields = $("licence-fields");
    clear(fields);
    const type = types[c.type_code] || { labels: {}, kinds: {}, order: [] };
    const values = c.fields || {};
    const keys = type.order.filter((k) => k in values).concat(Object.keys(values).filter((k) => type.order.indexOf(k) < 0));
    keys.forEach((k) => {
      const live = (c.derived_fields || []).indexOf(k) >= 0;
      fact(fields, type.labels[k] || k, shownValue(type.kinds[k], values[k]) + (live ? t("（以证照当前状态为准）", " (as the licence stands now)") : ""))
        .setAttribute("data-field", k);
    });
    if (!keys.length) { fact(fields, t("证照信息", "Contents"), t("暂时无法显示", "Cannot be shown just now")); }
    $("licence-signature").textContent = c.signature_valid
      ? t("✔ 发证机关签名验证通过", "✔ The issuer's signature checks out")
      : t("✘ 发证机关签名验证未通过，请联系发证机关", "✘ The issuer's signature does not check out; please contact the issuer");
    $("licence-signature").className = "hint " + (c.signature_valid ? "signed" : "unsigned");
    $("licence-identifier").textContent = t("证照标识：", "Licence identifier: ") + c.identifier;
    current = c;
    const present = valid && mayPresent(ctx);
    $("licence-qr").hidden = !present;
    $("licence-offline").hidden = !present;
    $("licence-offline").textContent = t("离线亮证码", "Offline QR");
    $("licence-no-qr").hidden = present;
    $("licence-no-qr").textContent = present ? "" : !valid ? t("此证照当前为“" + c.status_label + "”，不能亮证。", "This licence is \"" + c.status_label + "\": it cannot be shown.") : notYours() + t("。", ".");
    showPane("detail");
    renderUsage(ctx, $("licence-usage"), { licence: c, types, mine });
  }, () => { if (mine === asked) { networkError(); } });
}

/* Who checked my licences: into `list`, for one licence (`licence`) or all of them (more pages with
 * the 加载更多 button). */
function renderUsage(ctx, list, { licence, types, mine, more }) {
  const wanted = [usagePage(ctx, more ? usageCursor : null), licence ? Promise.resolve({ ok: true, items: [licence] }) : licences(ctx),
    types ? Promise.resolve(types) : catalogue(ctx)];
  Promise.all(wanted).then(([r, owned, catalogueTypes]) => {
    if (mine !== asked) { return; }
    if (!more) { clear(list); }
    if (!r.ok) { problem(r); return; }
    const byId = {};
    (owned.ok ? owned.items : []).forEach((c) => { byId[c.id] = c; });
    const items = licence ? r.data.items.filter((u) => u.licence_id === licence.id) : r.data.items;
    items.forEach((u) => usageItem(list, u, byId[u.licence_id], catalogueTypes));
    if (licence) {
      if (r.data.next_cursor) {
        item(list, t("查看全部亮证记录", "See every check of my licences"), null, () => ctx.go("wallet/usage"), "more");
      }
    } else {
      usageCursor = r.data.next_cursor || null;
      $("usage-more").hidden = !usageCursor;
    }
    if (!list.firstChild) {
      empty(list, licence ? t("此证照还没有被核验过", "Nobody has checked this licence yet") : t("暂无亮证记录", "Nobody has checked your licences yet"));
    }
  }, () => { if (mine === asked) { networkError(); } });
}

function usageItem(list, u, licence, types) {
  const ok = u.result === "verified" || u.result === "offline_issued";
  const li = el("li", "usage-item" + (ok ? "" : " refused"));
  li.setAttribute("data-usage", u.presentation_id || "");
  li.setAttribute("data-result", u.result || "");
  const name = licence ? licence.type_name : t("证照", "Licence");
  li.appendChild(el("span", "title", name + " · " + resultLabel(u.result)));
  const where = [formatTime(u.verified_at), u.result === "offline_issued" ? "" : u.hall_name || (u.hall ? t("网点 ", "Hall ") + u.hall : t("网点未知", "Hall unknown")),
    u.clerk ? t("工作人员 ", "Clerk ") + u.clerk : ""].filter(Boolean).join(" · ");
  li.appendChild(el("span", "sub where", where));
  const matter = matterName(u);
  li.appendChild(el("span", "sub why", matter ? t("办理事项：", "For: ") + matter
    : (u.purpose ? t("用途：", "Purpose: ") + u.purpose : t("未说明用途", "No purpose given"))));
  const seen = Array.isArray(u.field_labels) && u.field_labels.length ? u.field_labels  // the API's own words, when it gives them
    : fieldLabels(types, licence && licence.type_code, u.fields);
  if (seen.length) { li.appendChild(el("span", "sub fields", t("查看的项目：", "Items seen: ") + seen.join(t("、", ", ")))); }
  list.appendChild(li);
}

function render(ctx) {
  if (screen.pane === "detail") { renderDetail(ctx, screen.id); return; }
  if (screen.pane === "usage") {
    showPane("usage");
    renderUsage(ctx, $("usage"), { mine: ++asked });
    return;
  }
  showPane("list");
  renderList(ctx);
}

export default {
  name: "wallet",
  tab: true,
  mount(ctx) {
    qr = qrPanel({
      client: () => ctx.client(),
      signedIn: () => ctx.signedIn(),
      problem,
      networkError,
      onRefused: () => render(ctx),  // the licence changed meanwhile: show how it stands now
    });
    $("qr-close").addEventListener("click", () => qr.stop());
    const offlineButton = button(t("离线亮证码", "Offline QR"), () => { if (current) { qr.stop(); offline.open(current); } }, "secondary");
    offlineButton.id = "licence-offline";
    offlineButton.hidden = true;  // shown by the detail for a licence that may be shown
    $("licence-qr").insertAdjacentElement("afterend", offlineButton);
    offline = offlinePanel({ client: () => ctx.client(), problem, networkError, anchor: offlineButton });
    $("usage-open").addEventListener("click", () => ctx.go("wallet/usage"));
    $("licence-qr").addEventListener("click", () => { if (current) { openQr(ctx, current); } });
    $("licence-back").addEventListener("click", () => ctx.go("wallet"));
    $("usage-back").addEventListener("click", () => ctx.go("wallet"));
    $("usage-more").addEventListener("click", () => renderUsage(ctx, $("usage"), { mine: asked, more: true }));
  },
  /* #/wallet, #/wallet/licences/<id>, #/wallet/usage */
  show(ctx, params) {
    qr.stop();
    offline.stop();
    if (params[0] === "licences" && params[1]) {
      screen = { pane: "detail", id: params[1] };
    } else if (params[0] === "usage") {
      screen = { pane: "usage", id: null };
    } else {
      screen = { pane: "list", id: null };
    }
    render(ctx);
  },
  hide() { qr.stop(); offline.stop(); },
  signedOut() { qr.stop(); offline.stop(); },
  stopActing() { qr.stop(); offline.stop(); },
  /* A licence notice (issued, suspended, revoked …) while the wallet is on screen: show it as it is now. */
  onNotice(ctx, notice) {
    const link = notice && notice.data && notice.data.link;
    if (!link || String(link).indexOf("yiwang://wallet") !== 0) { return; }
    if (document.body.getAttribute("data-view") === "wallet" && !qr.showing()) { render(ctx); }
  },
};
