/* The inbox (消息) and the notices that arrive live on the stream (../stream.js). */
import { t } from "../i18n.js";
import { $, clear, el, empty, formatTime, problem } from "../ui.js";

function load(ctx) {
  ctx.api.call("GET", "/notifications?limit=30").then((r) => {
    const list = $("notices");
    clear(list);
    if (!r.ok) { problem(r); return; }
    // The stream may have delivered a notice this (older) page of the inbox does not hold yet.
    const ids = {};
    r.data.items.forEach((n) => { ids[n.id] = true; });
    const live = ctx.stream.live().filter((n) => !ids[n.id]);
    live.concat(r.data.items).sort((a, b) => Number(b.id) - Number(a.id)).forEach((n) => add(ctx, n, false));
    if (!list.firstChild) { empty(list, t("暂无消息", "No messages")); }
  });
  ctx.refreshUnread();
}

function add(ctx, n, atTop) {
  const list = $("notices");
  if (list.querySelector('[data-notice="' + String(n.id).replace(/[^0-9A-Za-z_-]/g, "") + '"]')) { return; }
  const placeholder = list.querySelector(".empty");
  if (placeholder) { list.removeChild(placeholder); }
  const li = el("li", "tap" + (n.read ? "" : " unread"));
  li.setAttribute("data-notice", n.id);
  li.appendChild(el("span", "title", n.title));
  li.appendChild(el("span", "sub", n.body + " · " + formatTime(n.created_at)));
  li.addEventListener("click", () => {
    if (!li.classList.contains("unread")) { return; }
    ctx.api.call("POST", "/notifications/" + encodeURIComponent(n.id) + "/read").then(() => {
      li.classList.remove("unread");
      ctx.refreshUnread();
    });
  });
  if (atTop && list.firstChild) { list.insertBefore(li, list.firstChild); } else { list.appendChild(li); }
}

export default {
  name: "notices",
  routes: ["notices", "notifications"],
  tab: true,
  show(ctx) { load(ctx); },
  onNotice(ctx, notice) { add(ctx, notice, true); },
};
