/* proxies: to be built (issue 16). */
import { t } from "../i18n.js";
import { $, clear, el } from "../ui.js";

export default {
  name: "proxies",
  show(ctx) {
    const section = $("proxies-view");
    clear(section);
    section.appendChild(el("h2", null, t("proxies", "proxies")));
  },
};
