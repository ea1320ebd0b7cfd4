/* settings: to be built (issue 16). */
import { t } from "../i18n.js";
import { $, clear, el } from "../ui.js";

export default {
  name: "settings",
  tab: true,
  show(ctx) {
    const section = $("settings-view");
    clear(section);
    section.appendChild(el("h2", null, t("settings", "settings")));
  },
};
