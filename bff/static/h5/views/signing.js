/* signing: to be built (issue 16). */
import { t } from "../i18n.js";
import { $, clear, el } from "../ui.js";

export default {
  name: "signing",
  show(ctx) {
    const section = $("signing-view");
    clear(section);
    section.appendChild(el("h2", null, t("signing", "signing")));
  },
};
