/* The wallet (证照): the licences, a one-time QR that replaces itself before it expires (../qr.js). */
import { t } from "../i18n.js";
import { qrPanel } from "../qr.js";
import { $, clear, empty, item, problem } from "../ui.js";

let qr = null;

function load(ctx) {
  ctx.api.call("GET", "/wallet/licences").then((r) => {
    const list = $("licences");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach((c) => {
      const li = item(list, c.type_name, c.status_label + " · " + c.issuer_name + (c.valid_until ? t(" · 有效期至 ", " · valid until ") + c.valid_until : ""),
        () => qr.open(c));
      li.setAttribute("data-licence", c.id);
    });
    if (!list.firstChild) { empty(list, t("暂无证照", "No licences yet")); }
  });
}

export default {
  name: "wallet",
  tab: true,
  mount(ctx) {
    qr = qrPanel({ api: ctx.api, signedIn: () => ctx.signedIn(), problem });
    $("qr-close").addEventListener("click", qr.stop);
  },
  show(ctx) { load(ctx); },
  hide() { qr.stop(); },
  signedOut() { qr.stop(); },
};
