/* appointments: to be built (issue 16). */
import { t } from "../i18n.js";
import { $, clear, el } from "../ui.js";

export default {
  name: "appointments",
  show(ctx) {
    const section = $("appointments-view");
    clear(section);
    section.appendChild(el("h2", null, t("appointments", "appointments")));
  },
};
