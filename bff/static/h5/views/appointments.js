/* Appointments (预约, routes appointments, appointments/<id>, appointments/new?hall=<id>[&item=<code>]):
 * my appointments by status; booking (appointments/booking.js); an appointment's page with its check-in
 * code and QR (the PNG fetched with the bearer token and shown from a blob: URL), cancellation after a
 * confirmation; the booking rules and the no-show rule (from the slot list's `rules`: the settings in
 * force) beside the booking and the appointment. Appointments may be booked for someone else (acting
 * for them): calls go through ctx.client(); the map's public calls through ctx.api. */
import { t } from "../i18n.js";
import { $, button, clear, el, empty, item, problem, say, send } from "../ui.js";
import { booking } from "./appointments/booking.js";
import { dayLabel, haveRules, hhmm, rulesBox, slotsOf } from "./appointments/common.js";

const STATUSES = [["", "全部", "All"], ["booked", "已预约", "Booked"], ["arrived", "已签到", "Checked in"],
  ["cancelled", "已取消", "Cancelled"], ["no_show", "已爽约", "Missed"]];
let status = "";        // the list's filter
let qrUrl = null;       // the shown QR's blob: URL, revoked when it goes
let drawn = 0;          // each screen drawn; a late answer for an earlier one is dropped
let flash = null;       // a confirmation for the next screen (a new route clears the message line)
let shown = null;       // the screen on view: {screen: "list" | "new" | "detail", id}

/* --- Words -------------------------------------------------------------------------------------- */

function when(a) { return dayLabel(a.date) + " " + hhmm(a.start) + "–" + hhmm(a.end); }

function at(value) { return value ? String(value).slice(0, 16).replace("T", " ") : ""; }

function dropQr() {
  if (qrUrl) { URL.revokeObjectURL(qrUrl); qrUrl = null; }
}

/* --- My appointments ---------------------------------------------------------------------------- */

function list(ctx, section, mine) {
  section.appendChild(el("h2", null, t("我的预约", "My appointments")));
  const chips = el("div", "chips");
  chips.id = "apt-filter";
  STATUSES.forEach(([code, zh, en]) => {
    const b = button(t(zh, en), () => { status = code; ctx.refresh(); }, "chip" + (status === code ? " active" : ""));
    b.setAttribute("data-status", code);
    b.setAttribute("aria-pressed", status === code ? "true" : "false");
    chips.appendChild(b);
  });
  section.appendChild(chips);
  const ul = el("ul", "list");
  ul.id = "appointments";
  section.appendChild(ul);
  const more = button(t("加载更多", "Show more"), null, "secondary");
  more.id = "apt-more";
  more.hidden = true;
  section.appendChild(more);
  const book = button(t("预约办事", "Book an appointment"), () => ctx.go("halls"));
  book.id = "apt-book-new";
  section.appendChild(book);
  section.appendChild(el("p", "hint", t("先在网点页面选择网点，再点“预约”。", "Choose a hall on the map, then tap “Book”.")));

  function page(cursor) {
    const query = "?limit=20" + (status ? "&status=" + status : "") + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    send(more, () => ctx.client().call("GET", "/appointments" + query), null, (r) => {
      if (mine !== drawn) { return; }
      r.data.items.forEach((a) => {
        const li = item(ul, (a.item.name || a.item.code) + " · " + a.status_label, when(a) + " · " + (a.hall.name || ""),
          () => ctx.go("appointments/" + encodeURIComponent(a.id)), a.status);
        li.setAttribute("data-appointment", a.id);
        li.setAttribute("data-status", a.status);
      });
      if (!ul.firstChild) { empty(ul, status ? t("没有这类预约", "No appointments of this kind") : t("暂无预约", "No appointments yet")); }
      more.hidden = !r.data.next_cursor;
      more.onclick = () => page(r.data.next_cursor);
      ul.setAttribute("data-loaded", status || "all");
    });
  }
  page(null);
}

/* --- One appointment ---------------------------------------------------------------------------- */

function detail(ctx, section, id, mine) {
  section.appendChild(el("h2", null, t("预约详情", "Appointment")));
  const box = el("div", "apt-detail");
  box.id = "apt-detail";
  box.appendChild(el("p", "hint", t("正在加载…", "Loading…")));
  section.appendChild(box);
  section.appendChild(button(t("返回我的预约", "Back to my appointments"), () => ctx.go("appointments"), "secondary"));
  ctx.client().call("GET", "/appointments/" + encodeURIComponent(id)).then((r) => {
    if (mine !== drawn) { return; }
    clear(box);
    if (!r.ok) { problem(r); return; }
    const a = r.data;
    if (flash) { say(flash, "info"); flash = null; }
    box.setAttribute("data-appointment", a.id);
    box.setAttribute("data-status", a.status);
    const card = el("div", "card");
    card.appendChild(el("h3", null, a.item.name || a.item.code));
    card.appendChild(el("span", "tag status " + a.status, a.status_label));
    const rows = el("dl", "facts");
    [[t("时间", "Time"), when(a)], [t("网点", "Hall"), a.hall.name || ""], [t("地址", "Address"), a.hall.address || ""],
      [t("预约于", "Booked at"), at(a.created_at)]].forEach(([k, v]) => {
      rows.appendChild(el("dt", null, k));
      rows.appendChild(el("dd", null, v));
    });
    if (a.arrived_at) { rows.appendChild(el("dt", null, t("签到于", "Checked in"))); rows.appendChild(el("dd", null, at(a.arrived_at))); }
    if (a.cancelled_at) { rows.appendChild(el("dt", null, t("取消于", "Cancelled"))); rows.appendChild(el("dd", null, at(a.cancelled_at))); }
    card.appendChild(rows);
    if (a.status === "no_show") {
      card.appendChild(el("p", "missed", t("您未在预约时段签到，已记为爽约。", "You did not check in during the slot: this counts as a missed appointment.")));
    }
    const hall = button(t("查看网点", "About the hall"), () => ctx.go("halls/" + encodeURIComponent(a.hall.id)), "secondary");
    card.appendChild(hall);
    box.appendChild(card);
    if (a.status === "booked") { checkIn(ctx, box, a, mine); }
    const rulesAt = el("div");
    box.appendChild(rulesAt);
    (haveRules() ? Promise.resolve() : slotsOf(ctx, a.hall.id, a.date)).then(() => {
      if (mine === drawn) { box.replaceChild(rulesBox(false), rulesAt); }
    });
  });
}

function checkIn(ctx, box, a, mine) {
  const qr = el("div", "card qr");
  qr.id = "apt-qr-card";
  qr.appendChild(el("h3", null, t("签到码", "Check-in code")));
  const img = el("img");
  img.id = "apt-qr";
  img.alt = t("签到二维码", "Check-in QR code");
  img.width = 240;
  img.height = 240;
  qr.appendChild(img);
  const code = el("p", "manual", a.check_in_code);
  code.id = "apt-code";
  qr.appendChild(code);
  qr.appendChild(el("p", "hint", t("到厅后请向工作人员出示二维码，或告知签到码。", "At the hall, show the QR code to the clerk or tell them the code.")));
  box.appendChild(qr);
  ctx.client().authed("GET", "/appointments/" + encodeURIComponent(a.id) + "/qr.png")
    .then((response) => (response.ok ? response.blob() : null))
    .then((blob) => {
      if (!blob || mine !== drawn) { return; }
      dropQr();
      qrUrl = URL.createObjectURL(blob);
      img.src = qrUrl;
    }, () => {});

  const cancel = el("div", "card cancel");
  if (a.cancellable_until) {
    cancel.appendChild(el("p", "hint", t("可在 " + at(a.cancellable_until) + " 前取消。", "You can cancel until " + at(a.cancellable_until) + ".")));
  }
  const ask = button(t("取消预约", "Cancel appointment"), () => { ask.hidden = true; confirm.hidden = false; }, "danger");
  ask.id = "apt-cancel";
  cancel.appendChild(ask);
  const confirm = el("div", "confirm");
  confirm.id = "apt-confirm";
  confirm.hidden = true;
  confirm.setAttribute("role", "alertdialog");
  confirm.appendChild(el("p", null, t("确定取消这次预约吗？取消后名额将释放给其他人。", "Cancel this appointment? Its place goes to someone else.")));
  const yes = button(t("确认取消", "Yes, cancel"), () => {
    send(yes, () => ctx.client().call("DELETE", "/appointments/" + encodeURIComponent(a.id)),
      t("取消失败，请稍后再试。", "The cancellation failed. Please try again."), () => {
        ctx.refresh();
        say(t("预约已取消。", "The appointment is cancelled."), "info");
      });
  }, "danger");
  yes.id = "apt-cancel-yes";
  const no = button(t("不取消", "Keep it"), () => { confirm.hidden = true; ask.hidden = false; }, "secondary");
  no.id = "apt-cancel-no";
  confirm.appendChild(yes);
  confirm.appendChild(no);
  cancel.appendChild(confirm);
  box.appendChild(cancel);
}

/* --- The view ----------------------------------------------------------------------------------- */

export default {
  name: "appointments",
  show(ctx, params, query) {
    const section = $("appointments-view");
    const mine = ++drawn;
    dropQr();
    clear(section);
    const screen = params[0] === "new" ? "new" : params[0] ? "detail" : "list";
    section.setAttribute("data-screen", screen);
    shown = { screen, id: screen === "detail" ? params[0] : null };
    if (screen === "new") { booking(ctx, section, query, () => mine === drawn, (text) => { flash = text; }); } else if (screen === "detail") { detail(ctx, section, params[0], mine); } else { list(ctx, section, mine); }
  },
  hide() { drawn++; shown = null; dropQr(); },
  signedOut() { status = ""; drawn++; shown = null; dropQr(); },
  /* A notice about an appointment (booked, cancelled, missed, a ban): the list, or that appointment's
   * page, as it is now; a booking under way is left alone. */
  onNotice(ctx, notice) {
    const data = (notice && notice.data) || {};
    if (!shown || data.screen !== "appointments" || document.body.getAttribute("data-view") !== "appointments") { return; }
    if (shown.screen === "list" || (shown.screen === "detail" && shown.id === data.appointment_id)) { ctx.refresh(); }
  },
  stopActing() { status = ""; },
};
