/* The service map (网点): halls near the person, open now or not. */
import { t } from "../i18n.js";
import { distance, hallState, locate, where } from "../place.js";
import { $, clear, empty, item, problem } from "../ui.js";

function load(ctx) {
  locate().then((p) => {
    $("halls-where").textContent = p.label;
    return ctx.api.call("GET", "/map/halls/nearby?" + where(p) + "&limit=10");
  }).then((r) => {
    const list = $("halls");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach((h) => {
      const li = item(list, h.name, hallState(h) + " · " + distance(h.distance_m) + " · " + h.address, null, h.open_now ? "" : "closed");
      li.setAttribute("data-hall", h.id);
      li.setAttribute("data-open", h.open_now ? "yes" : "no");
    });
    if (!list.firstChild) { empty(list, t("附近没有找到网点", "No halls found nearby")); }
  });
}

export default {
  name: "halls",
  routes: ["halls", "map"],
  show(ctx) { load(ctx); },
};
