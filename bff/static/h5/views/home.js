/* Home (首页): the profile, licences, cases in progress and halls open nearby, from /bff/home. */
import { preferences } from "/static/web/api.js";
import { t } from "../i18n.js";
import { distance, hallState, locate, where } from "../place.js";
import { $, clear, el, empty, item, problem } from "../ui.js";

function load(ctx) {
  locate().then((p) => {
    $("home-where").textContent = p.label;
    return ctx.api.call("GET", "/bff/home?" + where(p));
  }).then((r) => {
    if (!r.ok) { problem(r); return; }
    render(ctx, r.data);
  });
}

function render(ctx, home) {
  const elderly = home.layout === "elderly" || !!(home.profile && home.profile.elderly_mode);
  preferences.setElderly(elderly);
  const profile = $("profile");
  clear(profile);
  if (home.profile) {
    profile.appendChild(el("div", "title", (home.profile.name_masked || t("用户", "User")) + t("，您好", ", hello")));
    profile.appendChild(el("div", "sub", t("手机 ", "Phone ") + (home.profile.phone_masked || "") + t(" · 认证等级 ", " · Level ") +
      home.profile.assurance_level + (elderly ? t(" · 大字版", " · Large type") : "")));
  }
  ctx.setUnread(home.unread_notifications);
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

export default {
  name: "home",
  tab: true,
  show(ctx) { load(ctx); },
};
