/* Home (首页), from /bff/home: the profile with the unread messages, the services grid (#home-services)
 * and the licences, cases in progress and halls open nearby.
 *
 * Elderly mode (大字版: the answer's `layout: "elderly"`): the page in large type and a simpler home,
 * four big entries (亮证, 办件, 网点, 设置) each saying in a few words what waits there, and no
 * secondary lists (适老化: fewer, larger touch targets). */
import { preferences } from "/static/web/api.js";
import { t } from "../i18n.js";
import { distance, hallState, locate, where } from "../place.js";
import { $, clear, el, empty, item, problem } from "../ui.js";

/* Every entry of the services grid: its route and its words. */
const SERVICES = [
  { go: "wallet", zh: "证照", en: "Licences" },
  { go: "signing", zh: "签名", en: "Signing" },
  { go: "halls", zh: "网点", en: "Halls" },
  { go: "appointments", zh: "预约", en: "Booking" },
  { go: "cases", zh: "办件", en: "Cases" },
  { go: "proxies", zh: "亲属代办", en: "Family" },
  { go: "settings", zh: "设置", en: "Settings" },
];

let asked = 0;  // answers can overtake each other (a language change asks again): only the latest counts

function load(ctx) {
  const mine = ++asked;
  locate().then((p) => {
    $("home-where").textContent = p.label;
    return ctx.api.call("GET", "/bff/home?" + where(p));
  }).then((r) => {
    if (mine !== asked) { return; }
    if (!r.ok) { problem(r); return; }
    render(ctx, r.data);
  });
}

function entry(ctx, grid, go, label, sub) {
  const b = el("button", "service service-" + go);
  b.type = "button";
  b.setAttribute("data-go", go);
  b.appendChild(el("span", "label", label));
  if (sub) { b.appendChild(el("span", "sub", sub)); }
  b.addEventListener("click", () => ctx.go(go));
  grid.appendChild(b);
}

function profile(ctx, home, elderly) {
  const box = $("profile");
  clear(box);
  const p = home.profile;
  if (!p) { box.appendChild(el("div", "sub", t("个人信息暂时无法加载", "Your profile cannot be loaded now"))); return; }
  box.appendChild(el("div", "title", (p.name_masked || t("用户", "User")) + t("，您好", ", hello")));
  // A 网号 account may have no phone: it says how it logs in instead.
  const login = p.phone_masked ? t("手机 ", "Phone ") + p.phone_masked
    : (p.ncid_linked ? t("网号登录", "National network ID") : t("未绑定手机", "No phone bound"));
  box.appendChild(el("div", "sub", login + t(" · 认证等级 ", " · Level ") +
    p.assurance_level + (elderly ? t(" · 大字版", " · Large type") : "")));
  const unread = home.unread_notifications;
  if (typeof unread === "number" && unread > 0) {
    const line = el("button", "unread-line", t("您有 " + unread + " 条未读消息", "You have " + unread + (unread === 1 ? " unread message" : " unread messages")));
    line.type = "button";
    line.id = "home-unread";
    line.addEventListener("click", () => ctx.go("notices"));
    box.appendChild(line);
  }
}

function services(ctx) {
  const grid = $("home-services");
  clear(grid);
  grid.classList.remove("big");
  SERVICES.forEach((s) => entry(ctx, grid, s.go, t(s.zh, s.en)));
}

/* 大字版: four big entries, each with a few words of what waits there. */
function bigServices(ctx, home) {
  const grid = $("home-services");
  clear(grid);
  grid.classList.add("big");
  const licences = home.licences || [];
  const cases = home.cases || [];
  const hall = (home.nearby_halls || [])[0];
  entry(ctx, grid, "wallet", t("亮证", "Show licence"),
    home.licences === null ? "" : t(licences.length + " 张证照", licences.length + (licences.length === 1 ? " licence" : " licences")));
  entry(ctx, grid, "cases", t("办件", "My cases"),
    home.cases === null ? "" : (cases.length ? t(cases.length + " 件办理中", cases.length + " in progress") : t("暂无办理中", "Nothing in progress")));
  entry(ctx, grid, "halls", t("网点", "Halls"), hall ? t("最近 ", "Nearest ") + distance(hall.distance_m) : t("附近办事网点", "Halls nearby"));
  entry(ctx, grid, "settings", t("设置", "Settings"), t("字体、语言", "Text size, language"));
}

function lists(ctx, home) {
  const lic = $("home-licences");
  clear(lic);
  (home.licences || []).forEach((c) => {
    item(lic, c.type_name, c.status_label + (c.valid_until ? t(" · 有效期至 ", " · valid until ") + c.valid_until : ""), () => ctx.go("wallet/licences/" + c.id));
  });
  if (!lic.firstChild) { empty(lic, home.licences === null ? t("证照暂时无法加载", "Licences cannot be loaded now") : t("暂无证照", "No licences yet")); }
  const cases = $("home-cases");
  clear(cases);
  (home.cases || []).forEach((c) => {
    item(cases, c.item_name, c.status_label + " · " + c.case_no + (c.overdue ? t(" · 已超期", " · overdue") : ""), () => ctx.go("cases/" + c.id));
  });
  if (!cases.firstChild) { empty(cases, home.cases === null ? t("办件暂时无法加载", "Cases cannot be loaded now") : t("暂无办理中的事项", "Nothing in progress")); }
  const halls = $("home-halls");
  clear(halls);
  (home.nearby_halls || []).forEach((h) => {
    item(halls, h.name, hallState(h) + " · " + distance(h.distance_m) + " · " + h.address, () => ctx.go("halls/" + h.id), h.open_now ? "" : "closed");
  });
  if (!halls.firstChild) { empty(halls, t("附近暂无开放的网点", "No hall open nearby")); }
}

function render(ctx, home) {
  const elderly = home.layout === "elderly";
  preferences.setElderly(elderly);
  $("home-view").classList.toggle("elderly-home", elderly);
  profile(ctx, home, elderly);
  if (elderly) {
    bigServices(ctx, home);
    ctx.refreshUnread();  // the elderly answer leaves the count out; the tab's badge still shows it
  } else {
    services(ctx);
    ctx.setUnread(home.unread_notifications);
  }
  // Acting for someone: their licences and cases are on the wallet and cases screens; this home's
  // lists would be the signed-in person's own, so they are not shown under the "acting for" banner.
  const acting = ctx.acting;
  if (acting) {
    $("profile").appendChild(el("div", "sub acting-note", t("正在代 " + acting.name + " 办理：证照、办件中显示的是 " + acting.name + " 的信息。",
      "Acting for " + acting.name + ": Licences and Cases show " + acting.name + "'s records.")));
  }
  $("home-lists").hidden = elderly || !!acting;
  if (!elderly && !acting) { lists(ctx, home); }
}

export default {
  name: "home",
  tab: true,
  show(ctx) { load(ctx); },
};
