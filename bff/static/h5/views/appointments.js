/* Appointments (预约, routes appointments, appointments/<id>, appointments/new?hall=<id>[&item=<code>]):
 * my appointments by status; booking (an item the hall handles, a day of the booking window, a slot
 * with free places); an appointment's page with its check-in code and QR (the PNG fetched with the
 * bearer token and shown from a blob: URL), cancellation after a confirmation; the booking rules and
 * the no-show rule (from the slot list's `rules`: the settings in force) beside the booking and the
 * appointment. Appointments may be booked for someone else (acting for them): calls go through
 * ctx.client(); the map's public calls through ctx.api. */
import { problemMessage } from "/static/web/api.js";
import { t } from "../i18n.js";
import { $, button, clear, el, empty, item, problem, say, send } from "../ui.js";

const STATUSES = [["", "全部", "All"], ["booked", "已预约", "Booked"], ["arrived", "已签到", "Checked in"],
  ["cancelled", "已取消", "Cancelled"], ["no_show", "已爽约", "Missed"]];
const WEEKDAYS = [["周日", "Sun"], ["周一", "Mon"], ["周二", "Tue"], ["周三", "Wed"], ["周四", "Thu"], ["周五", "Fri"], ["周六", "Sat"]];
let status = "";        // the list's filter
let rules = null;       // the booking rules in force, from a slot list
let qrUrl = null;       // the shown QR's blob: URL, revoked when it goes
let drawn = 0;          // each screen drawn; a late answer for an earlier one is dropped
let flash = null;       // a confirmation for the next screen (a new route clears the message line)
let shown = null;       // the screen on view: {screen: "list" | "new" | "detail", id}

/* --- Words -------------------------------------------------------------------------------------- */

function duration(minutes) {
  return minutes % 60 === 0 ? t(minutes / 60 + " 小时", minutes / 60 + (minutes === 60 ? " hour" : " hours"))
                            : t(minutes + " 分钟", minutes + " minutes");
}

/* "2026-12-08 周二" */
function dayLabel(date) {
  const w = WEEKDAYS[new Date(date + "T00:00:00Z").getUTCDay()];
  return date.slice(5) + " " + t(w[0], w[1]);
}

/* Beijing time as the API gives it (+08:00): "09:00". */
function hhmm(value) { return String(value || "").slice(11, 16); }

function when(a) { return dayLabel(a.date) + " " + hhmm(a.start) + "–" + hhmm(a.end); }

function at(value) { return value ? String(value).slice(0, 16).replace("T", " ") : ""; }

function chinaDay(offset) { return new Date(Date.now() + 8 * 3600e3 + (offset || 0) * 864e5).toISOString().slice(0, 10); }

function nextDay(date) { return new Date(new Date(date + "T00:00:00Z").getTime() + 864e5).toISOString().slice(0, 10); }

/* The rules box: the booking rules and the no-show rule, in the settings' numbers. */
function rulesBox(withBooking) {
  const box = el("div", "card rules");
  box.id = "apt-rules";
  box.appendChild(el("h3", null, t("预约规则", "Booking rules")));
  if (!rules) {
    box.appendChild(el("p", "noshow", t("预约后请按时到厅签到；多次爽约（既未取消也未签到）将被暂停预约。",
      "Please check in on time: repeatedly missing appointments (neither cancelled nor checked in) suspends booking.")));
    return box;
  }
  if (withBooking) {
    box.appendChild(el("p", null, t("可预约明天起 " + rules.window_working_days + " 个工作日内的时段；每人每天在同一网点只能预约一次。",
      "You can book slots from tomorrow within the next " + rules.window_working_days + " working days, once a day per hall.")));
  }
  box.appendChild(el("p", null, t("预约时段开始前 " + duration(rules.cancel_before_minutes) + "以上可以取消。",
    "You can cancel up to " + duration(rules.cancel_before_minutes) + " before the slot starts.")));
  box.appendChild(el("p", "noshow", t(rules.no_show_window_days + " 天内爽约（既未取消也未签到）累计 " + rules.no_show_limit + " 次，将暂停预约 " + rules.ban_days + " 天。",
    rules.no_show_limit + " missed appointments (neither cancelled nor checked in) within " + rules.no_show_window_days +
    " days suspend booking for " + rules.ban_days + " days.")));
  const banned = el("p", "banned");
  banned.id = "apt-banned";
  banned.hidden = true;
  box.appendChild(banned);
  return box;
}

function slotsOf(ctx, hallId, date) {
  return ctx.api.call("GET", "/map/halls/" + encodeURIComponent(hallId) + "/slots?date=" + date).then((r) => {
    if (r.ok && r.data.rules) { rules = r.data.rules; }
    return r;
  });
}

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

/* --- Booking ------------------------------------------------------------------------------------ */

function booking(ctx, section, query, mine) {
  section.appendChild(el("h2", null, t("预约办事", "Book an appointment")));
  if (!query.hall) {
    section.appendChild(el("p", "hint", t("请先在网点页面选择要去的网点。", "Please choose a hall on the map first.")));
    section.appendChild(button(t("选择网点", "Choose a hall"), () => ctx.go("halls")));
    return;
  }
  const hallId = query.hall;
  const state = { item: query.item || "", date: null, slot: null };
  const head = el("div", "card apt-hall");
  head.id = "apt-hall";
  head.appendChild(el("p", "hint", t("正在加载…", "Loading…")));
  section.appendChild(head);

  const itemField = el("div", "field");
  const label = el("label", null, t("办理事项", "Service"));
  label.htmlFor = "apt-item";
  const select = el("select");
  select.id = "apt-item";
  select.appendChild(el("option", null, t("请选择事项", "Choose a service")));
  select.firstChild.value = "";
  select.addEventListener("change", () => { state.item = select.value; ready(); });
  itemField.appendChild(label);
  itemField.appendChild(select);
  section.appendChild(itemField);

  section.appendChild(el("h3", null, t("选择日期", "Choose a day")));
  const dates = el("div", "choices dates");
  dates.id = "apt-dates";
  section.appendChild(dates);
  section.appendChild(el("h3", null, t("选择时段", "Choose a time")));
  const slots = el("div", "choices slots");
  slots.id = "apt-slots";
  slots.appendChild(el("p", "hint", t("请先选择日期。", "Choose a day first.")));
  section.appendChild(slots);
  const choice = el("p", "picked");
  choice.id = "apt-choice";
  section.appendChild(choice);
  const go = button(t("确认预约", "Book"), book, "book");
  go.id = "apt-book";
  go.disabled = true;
  section.appendChild(go);
  let rulesAt = el("div");
  section.appendChild(rulesAt);

  function ready() {
    go.disabled = !(state.item && state.slot);
    const name = select.selectedIndex > 0 ? select.options[select.selectedIndex].textContent : "";
    choice.textContent = state.slot ? [name, dayLabel(state.date), hhmm(state.slot.start) + "–" + hhmm(state.slot.end)].filter(Boolean).join(" · ") : "";
  }

  function showRules() {
    const box = rulesBox(true);
    section.replaceChild(box, rulesAt);
    rulesAt = box;
  }

  function pickDate(date, answer) {
    state.date = date;
    state.slot = null;
    dates.querySelectorAll("button").forEach((b) => { b.classList.toggle("active", b.getAttribute("data-date") === date); });
    clear(slots);
    const r = answer;
    if (!r.ok) { problem(r); return ready(); }
    if (!r.data.items.length) {
      slots.appendChild(el("p", "hint", t("当天不办公", "Closed that day") + (r.data.closed_reason ? t("（" + r.data.closed_reason + "）", " (" + r.data.closed_reason + ")") : "")));
    }
    r.data.items.forEach((s) => {
      const full = s.unbookable_reason === "slot_full";
      const text = hhmm(s.start) + "–" + hhmm(s.end) + " · " + (s.bookable ? t("余 " + s.remaining, s.remaining + " left")
        : full ? t("已约满", "Full") : t("不可预约", "Not bookable"));
      const b = button(text, () => {
        state.slot = s;
        slots.querySelectorAll("button").forEach((x) => { x.classList.toggle("active", x === b); });
        ready();
      }, "choice");
      b.disabled = !s.bookable;
      b.setAttribute("data-slot", s.id);
      slots.appendChild(b);
    });
    ready();
  }

  function drawDates(days, held) {
    clear(dates);
    days.forEach(([date, r]) => {
      const closed = r.ok && !r.data.items.length;
      const free = r.ok && r.data.items.some((s) => s.bookable);
      const mine = held.indexOf(date) >= 0;  // one a day per hall: said before the API refuses it
      const note = !r.ok ? "" : closed ? (r.data.closed_reason || t("休息", "Closed")) : mine ? t("您已有预约", "you have a booking")
        : free ? "" : t("已约满", "Full");
      const b = button(dayLabel(date) + (note ? " · " + note : ""), () => pickDate(date, r), "choice" + (mine ? " held" : ""));
      b.setAttribute("data-date", date);
      b.disabled = closed;
      dates.appendChild(b);
    });
  }

  function loadDates() {
    // tomorrow by this phone's clock; a phone far off the server's clock asks again for a day it lists
    return slotsOf(ctx, hallId, chinaDay(1)).then((r) => (!r.ok && r.data && r.data.code === "slot_date_out_of_range" && r.data.first_date
      ? slotsOf(ctx, hallId, r.data.first_date) : r)).then((first) => {
      if (mine !== drawn) { return; }
      if (!first.ok) { problem(first); return; }
      showRules();
      const span = first.data.booking_window;
      const days = [];
      for (let d = span.first_date; d <= span.last_date; d = nextDay(d)) { days.push(d); }
      const held = ctx.client().call("GET", "/appointments?status=booked&limit=50")
        .then((r) => (r.ok ? r.data.items.filter((a) => a.hall.id === hallId).map((a) => a.date) : []));
      return Promise.all(days.map((d) => (d === first.data.date ? Promise.resolve(first) : slotsOf(ctx, hallId, d))).concat([held]))
        .then((answers) => {
          if (mine !== drawn) { return; }
          drawDates(days.map((d, i) => [d, answers[i]]), answers[days.length]);
          if (state.date) {
            const again = days.indexOf(state.date);
            if (again >= 0) { pickDate(state.date, answers[again]); }
          }
        });
    });
  }

  function book() {
    const slot = state.slot;
    send(go, () => ctx.client().call("POST", "/appointments", { hall_id: hallId, slot_id: slot.id, item_code: state.item }),
      t("预约失败，请稍后再试。", "Booking failed. Please try again."), (r) => {
        flash = t("预约成功，请按时到厅签到。", "Booked. Please check in at the hall on time.");
        ctx.go("appointments/" + encodeURIComponent(r.data.id));
      }).then((r) => {
      if (!r || r.ok) { return; }
      if (r.data && r.data.code === "booking_banned") {
        const banned = $("apt-banned");
        banned.textContent = problemMessage(r.data, "");
        banned.hidden = false;
      }
      if (r.data && (r.data.code === "slot_full" || r.data.code === "slot_invalid")) { loadDates(); }
    });
  }

  ctx.api.call("GET", "/map/halls/" + encodeURIComponent(hallId)).then((r) => {
    if (mine !== drawn) { return; }
    clear(head);
    if (!r.ok) { problem(r); return; }
    head.setAttribute("data-hall", r.data.id);
    head.appendChild(el("h3", null, r.data.name));
    head.appendChild(el("p", "hint", r.data.address));
    r.data.items.forEach((i) => {
      const option = el("option", null, i.name || i.code);
      option.value = i.code;
      select.appendChild(option);
    });
    select.value = state.item;
    state.item = select.value;
    ready();
  });
  loadDates();
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
    (rules ? Promise.resolve() : slotsOf(ctx, a.hall.id, a.date)).then(() => {
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
    if (screen === "new") { booking(ctx, section, query, mine); } else if (screen === "detail") { detail(ctx, section, params[0], mine); } else { list(ctx, section, mine); }
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
