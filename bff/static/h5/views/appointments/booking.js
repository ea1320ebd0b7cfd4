/* Booking an appointment (预约办事, route appointments/new?hall=<id>[&item=<code>]): an item the hall
 * handles, a day of the booking window (each day said closed, full or already booked by me), a slot
 * with free places, the booking rules beside them. Booked for someone else while acting for them:
 * the booking goes through ctx.client(); the map's public calls through ctx.api. */
import { problemMessage } from "/static/web/api.js";
import { t } from "../../i18n.js";
import { $, button, clear, el, problem, send } from "../../ui.js";
import { dayLabel, hhmm, rulesBox, slotsOf } from "./common.js";

function chinaDay(offset) { return new Date(Date.now() + 8 * 3600e3 + (offset || 0) * 864e5).toISOString().slice(0, 10); }

function nextDay(date) { return new Date(new Date(date + "T00:00:00Z").getTime() + 864e5).toISOString().slice(0, 10); }

/* The booking screen into `section`. `live()`: still the screen on view (a late answer for an earlier
 * one is dropped); `booked(text)`: the confirmation the appointment's page shows next. */
export function booking(ctx, section, query, live, booked) {
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
      if (!live()) { return; }
      if (!first.ok) { problem(first); return; }
      showRules();
      const span = first.data.booking_window;
      const days = [];
      for (let d = span.first_date; d <= span.last_date; d = nextDay(d)) { days.push(d); }
      const held = ctx.client().call("GET", "/appointments?status=booked&limit=50")
        .then((r) => (r.ok ? r.data.items.filter((a) => a.hall.id === hallId).map((a) => a.date) : []));
      return Promise.all(days.map((d) => (d === first.data.date ? Promise.resolve(first) : slotsOf(ctx, hallId, d))).concat([held]))
        .then((answers) => {
          if (!live()) { return; }
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
        booked(t("预约成功，请按时到厅签到。", "Booked. Please check in at the hall on time."));
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
    if (!live()) { return; }
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
