/* The service map (网点, routes halls, map, halls/<id>): halls near the person with an open-now and a
 * service-item filter, and one hall's page (address, phone, the week's hours, today's queue and its
 * age, closures, the items it handles, a button to book). The map is public: GET /map/halls/…. */
import { t } from "../i18n.js";
import { age, distance, hallState, locate, queueText, where } from "../place.js";
import { $, button, clear, el, empty, item, problem } from "../ui.js";

const DAYS = [["mon", "周一", "Mon"], ["tue", "周二", "Tue"], ["wed", "周三", "Wed"], ["thu", "周四", "Thu"],
  ["fri", "周五", "Fri"], ["sat", "周六", "Sat"], ["sun", "周日", "Sun"]];
let items = null;      // the item filter's choices [{code, name}], from the nearest 政务服务中心
let asked = 0;         // answers can overtake each other: only the latest list is drawn
let wanted = "";       // the item a deep link (halls?item=GA001) asks for, until the choices are there

/* --- The list ----------------------------------------------------------------------------------- */

function filters() {
  const query = [];
  if ($("halls-open-now").checked) { query.push("open_now=true"); }
  if ($("halls-item").value) { query.push("item=" + encodeURIComponent($("halls-item").value)); }
  return query.length ? "&" + query.join("&") : "";
}

function load(ctx) {
  const mine = ++asked;
  const list = $("halls");
  list.setAttribute("aria-busy", "true");
  locate().then((p) => {
    $("halls-where").textContent = p.label;
    if (!items) { loadItems(ctx, p); }
    return ctx.api.call("GET", "/map/halls/nearby?" + where(p) + "&limit=10" + filters());
  }).then((r) => {
    if (mine !== asked) { return; }
    clear(list);
    list.removeAttribute("aria-busy");
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach((h) => {
      const sub = [hallState(h), distance(h.distance_m), h.address, queueText(h.queue)].filter(Boolean).join(" · ");
      const li = item(list, h.name, sub, () => ctx.go("halls/" + encodeURIComponent(h.id)), h.open_now ? "" : "closed");
      li.setAttribute("data-hall", h.id);
      li.setAttribute("data-open", h.open_now ? "yes" : "no");
    });
    if (!list.firstChild) {
      empty(list, filters() ? t("附近没有符合条件的网点", "No hall nearby matches the filters") : t("附近没有找到网点", "No halls found nearby"));
    }
    list.setAttribute("data-loaded", filters() || "all");
  });
}

/* The items a person can filter by: those the nearest 政务服务中心 handle (a centre handles them all;
 * three of them, in case one nearby is a small one). */
function loadItems(ctx, p) {
  items = [];
  ctx.api.call("GET", "/map/halls/nearby?" + where(p) + "&type=gov_center&limit=3&radius_m=50000").then((r) => {
    const centres = r.ok ? r.data.items : [];
    return Promise.all(centres.map((c) => ctx.api.call("GET", "/map/halls/" + encodeURIComponent(c.id))));
  }).then((answers) => {
    const seen = {};
    items = [];
    answers.forEach((r) => {
      if (!r.ok) { return; }
      r.data.items.forEach((i) => { if (!seen[i.code]) { seen[i.code] = true; items.push(i); } });
    });
    if (!items.length) { items = null; return; }
    items.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    fillItems();
  });
}

function fillItems() {
  const select = $("halls-item");
  const chosen = wanted || select.value;
  if (items) { wanted = ""; }
  while (select.options.length > 1) { select.remove(1); }
  (items || []).forEach((i) => {
    const option = el("option", null, i.name || i.code);
    option.value = i.code;
    select.appendChild(option);
  });
  if (chosen && !(items || []).some((i) => i.code === chosen)) {  // a deep link's item the list lacks
    const option = el("option", null, chosen);
    option.value = chosen;
    select.appendChild(option);
  }
  select.value = chosen;
}

/* --- One hall ----------------------------------------------------------------------------------- */

function row(parent, label, value, className) {
  const p = el("p", "row " + (className || ""));
  p.appendChild(el("span", "label", label));
  p.appendChild(el("span", "value", value));
  parent.appendChild(p);
  return p;
}

function detail(ctx, id) {
  asked++;
  const box = $("hall-detail");
  clear(box);
  box.removeAttribute("data-hall");
  box.appendChild(el("p", "hint", t("正在加载…", "Loading…")));
  ctx.api.call("GET", "/map/halls/" + encodeURIComponent(id)).then((r) => {
    clear(box);
    if (!r.ok) {
      problem(r);
      box.appendChild(button(t("返回网点列表", "Back to the halls"), () => ctx.go("halls"), "secondary"));
      return;
    }
    drawHall(ctx, box, r.data);
  });
}

function drawHall(ctx, box, h) {
  box.setAttribute("data-hall", h.id);
  const head = el("div", "card hall-head");
  head.appendChild(el("h2", "hall-name", h.name));
  head.appendChild(el("span", "tag", h.type_name || h.type));
  head.appendChild(el("p", "state " + (h.open_now ? "open" : "closed"), hallState(h)));
  if (!h.open_now && h.today && h.today.next_open_at) {
    head.appendChild(el("p", "hint", t("下次开放：", "Next open: ") + String(h.today.next_open_at).slice(0, 16).replace("T", " ")));
  }
  row(head, t("地址", "Address"), h.address);
  if (h.phone) {
    const p = row(head, t("电话", "Phone"), "");
    const a = el("a", null, h.phone);
    a.href = "tel:" + h.phone.replace(/[^0-9+]/g, "");
    p.lastChild.appendChild(a);
  }
  box.appendChild(head);

  const queue = el("div", "card queue" + (h.queue && h.queue.stale ? " stale" : ""));
  queue.id = "hall-queue";
  queue.appendChild(el("h3", null, t("今日排队", "Queue today")));
  if (h.queue) {
    queue.appendChild(el("p", "queue-length", t("当前排队 " + h.queue.length + " 人", h.queue.length + (h.queue.length === 1 ? " person" : " people") + " waiting now")));
    queue.appendChild(el("p", "hint", age(h.queue.age_seconds)));
    if (h.queue.stale) {
      queue.appendChild(el("p", "stale-note", t("排队数据较长时间未更新，可能已过时，仅供参考。", "The queue has not been updated for a while: it may be out of date.")));
    }
  } else {
    queue.appendChild(el("p", "hint", t("该网点暂无排队数据。", "This hall reports no queue data.")));
  }
  box.appendChild(queue);

  const week = el("div", "card hours");
  week.id = "hall-hours";
  week.appendChild(el("h3", null, t("办公时间", "Opening hours")));
  const table = el("dl", "week");
  DAYS.forEach(([key, zh, en]) => {
    const spans = (h.hours && h.hours[key]) || [];
    table.appendChild(el("dt", null, t(zh, en)));
    table.appendChild(el("dd", spans.length ? "" : "rest", spans.length ? spans.join(t("、", ", ")) : t("休息", "Closed")));
  });
  week.appendChild(table);
  if (DAYS.some(([key]) => ((h.hours && h.hours[key]) || []).length > 1)) {
    week.appendChild(el("p", "hint", t("两个时段之间为午休。", "The gap between two periods is the lunch break.")));
  }
  week.appendChild(el("p", "hint", h.holiday_rule === "open"
    ? t("法定节假日照常办公。", "Open on public holidays as usual.")
    : t("法定节假日休息，调休上班日办公。", "Closed on public holidays; open on make-up working days.")));
  box.appendChild(week);

  const closed = el("div", "card closures");
  closed.id = "hall-closures";
  closed.appendChild(el("h3", null, t("闭馆安排", "Closures")));
  const list = el("ul", "list");
  const day = h.today && String(h.today.date);
  const covered = (h.closures || []).some((c) => c.from <= day && day <= c.to);  // listed below already
  if (h.today && !(h.today.hours || []).length && h.today.closed_reason && !covered) {
    item(list, t("今日休息", "Closed today"), h.today.closed_reason, null, "closed today").setAttribute("data-date", day);
  }
  (h.closures || []).forEach((c) => {
    const when = c.from === c.to ? c.from : t(c.from + " 至 " + c.to, c.from + " to " + c.to);
    item(list, c.reason, when, null, "closed").setAttribute("data-date", c.from);
  });
  if (!list.firstChild) { empty(list, t("近期没有闭馆安排", "No closures coming up")); }
  closed.appendChild(list);
  box.appendChild(closed);
  holidays(ctx, h, list);

  const handled = el("div", "card items");
  handled.id = "hall-items";
  handled.appendChild(el("h3", null, t("可办理事项", "Services handled here")));
  const its = el("ul", "list");
  (h.items || []).forEach((i) => {
    const li = item(its, i.name || i.code, i.code + t(" · 点此预约", " · tap to book"), () => book(ctx, h.id, i.code));
    li.setAttribute("data-item", i.code);
  });
  if (!its.firstChild) { empty(its, t("暂无可办理事项", "No services listed")); }
  handled.appendChild(its);
  box.appendChild(handled);

  if ((h.accessibility || []).length) {
    const access = el("p", "access");
    h.accessibility.forEach((a) => { access.appendChild(el("span", "tag", a.name || a.code)); });
    box.appendChild(access);
  }
  const go = button(t("预约", "Book"), () => book(ctx, h.id), "book");
  go.id = "hall-book";
  box.appendChild(go);
  box.appendChild(button(t("返回网点列表", "Back to the halls"), () => ctx.go("halls"), "secondary"));
}

/* The holiday calendar's closed days in the next two weeks (国庆节, a local holiday …): days the week's
 * hours would open that the hall's slot list says are closed, and no closure of its own explains. */
function holidays(ctx, h, list) {
  if (h.holiday_rule === "open" || !h.today || !h.today.date) { return; }
  const mine = asked;
  const start = new Date(String(h.today.date) + "T00:00:00Z").getTime();
  const days = [];
  for (let i = 1; i <= 14; i++) {
    const d = new Date(start + i * 864e5);
    const date = d.toISOString().slice(0, 10);
    const weekday = DAYS[(d.getUTCDay() + 6) % 7];
    const covered = (h.closures || []).some((c) => c.from <= date && date <= c.to);
    if (((h.hours || {})[weekday[0]] || []).length && !covered) { days.push([date, weekday]); }
  }
  Promise.all(days.map(([date, weekday]) => ctx.api.call("GET", "/map/halls/" + encodeURIComponent(h.id) + "/slots?date=" + date)
    .then((r) => [date, weekday, r]))).then((answers) => {
    if (mine !== asked || $("hall-detail").getAttribute("data-hall") !== h.id) { return; }
    const closed = answers.filter(([, , r]) => r.ok && !r.data.items.length && r.data.closed_reason);
    if (!closed.length) { return; }
    if (list.querySelector("li.empty")) { clear(list); }
    closed.forEach(([date, weekday, r]) => {
      const li = item(list, r.data.closed_reason, date + " " + t(weekday[1], weekday[2]) + t(" · 节假日休息", " · closed for the holiday"), null, "closed holiday");
      li.setAttribute("data-date", date);
    });
    [...list.children].sort((a, b) => (a.getAttribute("data-date") < b.getAttribute("data-date") ? -1 : 1))
      .forEach((li) => list.appendChild(li));  // in date order
  });
}

function book(ctx, hallId, itemCode) {
  ctx.go("appointments/new?hall=" + encodeURIComponent(hallId) + (itemCode ? "&item=" + encodeURIComponent(itemCode) : ""));
}

export default {
  name: "halls",
  routes: ["halls", "map"],
  mount(ctx) {
    $("halls-filter").addEventListener("change", () => load(ctx));
    $("halls-filter").addEventListener("submit", (e) => { e.preventDefault(); load(ctx); });
  },
  show(ctx, params, query) {
    const one = params[0];
    $("halls-list-panel").hidden = !!one;
    $("hall-detail").hidden = !one;
    if (one) { detail(ctx, one); return; }
    if (query.item) { wanted = query.item; fillItems(); }
    if (query.open_now !== undefined) { $("halls-open-now").checked = query.open_now === "true"; }
    load(ctx);
  },
};
