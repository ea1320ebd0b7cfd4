/* Cases (办件): the list, and a case's timeline with its promised date and 补正 deadline. */
import { t } from "../i18n.js";
import { $, clear, el, empty, formatTime, item, problem } from "../ui.js";

function kindLabel(kind) {
  return { status: t("状态变更", "Status change"), evaluation: t("服务评价", "Rating"), follow_up: t("部门答复", "Department's answer") }[kind];
}

function load(ctx) {
  $("case-detail").hidden = true;
  ctx.api.call("GET", "/cases").then((r) => {
    const list = $("cases");
    clear(list);
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach((c) => {
      const li = item(list, c.item_name, c.status_label + " · " + c.case_no + " · " + formatTime(c.status_at) +
        (dueText(c) ? " · " + dueText(c) : ""), () => ctx.go("cases/" + c.id));
      li.setAttribute("data-case", c.id);
    });
    if (!list.firstChild) { empty(list, t("暂无办件", "No cases")); }
  });
}

/* The promised date (承诺办结), paused or overdue, and a 补正 deadline: what the citizen waits for. */
function dueText(c) {
  const parts = [];
  const clock = c.clock || {};
  if (c.supplement_due) { parts.push(t("请于 " + c.supplement_due + " 前补正材料", "Please supply the missing documents by " + c.supplement_due)); }
  if (clock.due_date) {
    parts.push(t("承诺 " + clock.due_date + " 前办结", "Promised by " + clock.due_date) + (clock.paused ? t("（计时暂停中）", " (clock paused)") : "") +
      (clock.overdue ? t("（已超期）", " (overdue)") : ""));
  }
  return parts.join(" · ");
}

function open(ctx, id) {
  ctx.api.call("GET", "/cases/" + encodeURIComponent(id)).then((r) => {
    if (!r.ok) { problem(r); return; }
    const c = r.data;
    $("case-title").textContent = c.item_name;
    $("case-meta").textContent = c.case_no + " · " + (c.department_name || "") + t(" · 当前：", " · now: ") + c.status_label;
    $("case-due").textContent = dueText(c);
    $("case-due").hidden = !dueText(c);
    const list = $("timeline");
    clear(list);
    (c.timeline || []).forEach((e) => {
      const li = el("li");
      li.appendChild(el("span", "title", e.label || e.status_label || kindLabel(e.kind) || t("办理进度", "Progress")));
      li.appendChild(el("span", "sub", formatTime(e.occurred_at) + (e.message ? " · " + e.message : "") +
        (e.supplement_due ? t(" · 补正截止 ", " · supply by ") + e.supplement_due : "")));
      list.appendChild(li);
    });
    $("case-detail").hidden = false;
    $("case-detail").scrollIntoView();
  });
}

export default {
  name: "cases",
  tab: true,
  mount(ctx) { $("case-close").addEventListener("click", () => ctx.go("cases")); },
  show(ctx, params) {
    load(ctx);
    if (params[0]) { open(ctx, params[0]); }
  },
};
