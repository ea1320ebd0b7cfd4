/* Messages (消息): the inbox, the notices that arrive live on the stream (../stream.js, worded by the
 * server in the page's language), and the notification settings as /api/v1/notifications/preferences
 * models them: push channels (推送渠道), categories (消息类别: a muted one is not pushed but stays in
 * the inbox; the locked one is shown locked with why) and quiet hours (免打扰) with their window.
 *
 * Routes: notices | notifications (the inbox; the push deep link yiwang://notifications?id=<id>
 * points at one notice: it is shown highlighted and marked read) and notices/preferences.
 * Tapping a notice marks it read and opens its deep link (data.link, yiwang://…) when it has one. */
import { t } from "../i18n.js";
import { describe } from "../stream.js";
import { $, clear, el, empty, formatTime, problem, say, send } from "../ui.js";

const PAGE = 30;
// The API's push channels (notify/models.py PLATFORMS) in words; an unknown one is shown by its name.
const CHANNELS = {
  apns: ["iPhone 推送（APNs）", "iPhone push (APNs)"],
  fcm: ["安卓推送（FCM）", "Android push (FCM)"],
  hms: ["华为推送", "Huawei push"],
  xiaomi: ["小米推送", "Xiaomi push"],
  oppo: ["OPPO 推送", "OPPO push"],
  vivo: ["vivo 推送", "vivo push"],
  jpush: ["极光推送", "JPush"],
  wechat: ["微信服务通知", "WeChat service messages"],
  sms: ["短信", "SMS"],
};

const state = { cursor: null, highlight: null, loading: 0 };

function channelName(key) { const n = CHANNELS[key]; return n ? t(n[0], n[1]) : key; }

/* --- Inbox ------------------------------------------------------------------------------------ */

function load(ctx) {
  const asked = ++state.loading;
  ctx.api.call("GET", "/notifications?limit=" + PAGE).then((r) => {
    if (asked !== state.loading) { return; }
    const list = $("notices");
    clear(list);
    if (!r.ok) { problem(r); return; }
    // The stream may have delivered a notice this (older) page of the inbox does not hold yet.
    const ids = {};
    r.data.items.forEach((n) => { ids[n.id] = true; });
    const live = ctx.stream.live().filter((n) => !ids[n.id]);
    live.concat(r.data.items).sort((a, b) => Number(b.id) - Number(a.id)).forEach((n) => add(ctx, n, false));
    state.cursor = r.data.next_cursor || null;
    $("notices-more").hidden = !state.cursor;
    if (!list.firstChild) { empty(list, t("暂无消息", "No messages")); }
    pointAt(ctx);
  });
  ctx.refreshUnread();
}

function more(ctx) {
  if (!state.cursor) { return; }
  const button = $("notices-more");
  send(button, () => ctx.api.call("GET", "/notifications?limit=" + PAGE + "&cursor=" + encodeURIComponent(state.cursor)), null, (r) => {
    r.data.items.forEach((n) => add(ctx, n, false));
    state.cursor = r.data.next_cursor || null;
    button.hidden = !state.cursor;
  });
}

function selector(id) { return '[data-notice="' + String(id).replace(/[^0-9A-Za-z_-]/g, "") + '"]'; }

/* The notice's deep link when this page has its screen (a view section named after its first part). */
function linkOf(n) {
  const link = n.data && n.data.link;
  const screen = typeof link === "string" && /^yiwang:\/\/([a-z]+)/.exec(link);
  return screen && (screen[1] === "notifications" || $(screen[1] + "-view")) ? link : null;
}

function add(ctx, n, atTop) {
  const list = $("notices");
  if (list.querySelector(selector(n.id))) { return; }
  const placeholder = list.querySelector(".empty");
  if (placeholder) { list.removeChild(placeholder); }
  const link = linkOf(n);
  const li = el("li", "tap notice" + (n.read ? "" : " unread") + (n.urgent ? " urgent" : ""));
  li.setAttribute("data-notice", n.id);
  li.setAttribute("data-kind", n.kind || "");
  if (link) { li.setAttribute("data-link", link); }
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  const head = el("span", "title");
  if (!n.read) { head.appendChild(el("span", "dot", t("未读", "Unread"))); }
  if (n.urgent) { head.appendChild(el("span", "tag urgent-tag", t("重要", "Important"))); }
  head.appendChild(el("span", "notice-title", n.title));
  li.appendChild(head);
  li.appendChild(el("span", "body", n.body));
  li.appendChild(el("span", "sub", formatTime(n.created_at) + (link ? " · " + t("查看详情 ›", "Open ›") : "")));
  const open = () => tap(ctx, li, n, link);
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") { open(); } });
  if (atTop && list.firstChild) { list.insertBefore(li, list.firstChild); } else { list.appendChild(li); }
  return li;
}

function markedRead(li) {
  li.classList.remove("unread");
  const dot = li.querySelector(".dot");
  if (dot) { dot.parentNode.removeChild(dot); }
}

/* Mark read (when unread), then open the notice's screen (when it has a deep link). */
function tap(ctx, li, n, link) {
  const reading = li.classList.contains("unread")
    ? ctx.api.call("POST", "/notifications/" + encodeURIComponent(n.id) + "/read").then((r) => {
      if (!r.ok) { problem(r); return false; }
      markedRead(li);
      ctx.refreshUnread();
      return true;
    }, () => true)
    : Promise.resolve(true);
  reading.then((ok) => { if (ok && link) { ctx.go(link); } });
}

/* yiwang://notifications?id=<id> (a push opened): that notice highlighted, scrolled to and read. */
function pointAt(ctx) {
  const id = state.highlight;
  if (!id) { return; }
  const li = $("notices").querySelector(selector(id));
  if (!li) { return; }
  state.highlight = null;
  li.classList.add("highlight");
  li.scrollIntoView({ block: "center" });
  if (li.classList.contains("unread")) {
    ctx.api.call("POST", "/notifications/" + encodeURIComponent(id) + "/read").then((r) => {
      if (r.ok) { markedRead(li); ctx.refreshUnread(); }
    });
  }
}

function readAll(ctx) {
  send($("notices-read-all"), () => ctx.api.call("POST", "/notifications/read-all"), null, (r) => {
    document.querySelectorAll("#notices li.unread").forEach(markedRead);
    ctx.setUnread(0);
    ctx.refreshUnread();
    say(r.data.updated ? t("已将 " + r.data.updated + " 条消息标为已读。", r.data.updated + " message(s) marked as read.")
                       : t("没有未读消息。", "No unread messages."), "info");
  });
}

/* The stream's state in the page's language (after a language change too). */
function streamWords() { $("stream-state").textContent = describe($("stream-state").getAttribute("data-state")); }

/* --- Preferences ------------------------------------------------------------------------------ */

function loadPreferences(ctx) {
  say("");
  $("prefs-saved").hidden = true;
  $("prefs-save").disabled = true;
  ctx.api.call("GET", "/notifications/preferences").then((r) => {
    if (!r.ok) { problem(r); return; }
    fillPreferences(r.data);
    $("prefs-save").disabled = false;
  });
}

/* The parts of the settings form the page builds itself (categories, the window's inputs): made once
 * inside #notice-prefs, worded in fillPreferences (so a language change words them again). */
function buildPreferences() {
  if ($("prefs-categories")) { return; }
  const group = el("fieldset", "prefs-group");
  group.id = "prefs-categories-group";
  const legend = el("legend");
  legend.id = "prefs-categories-legend";
  group.appendChild(legend);
  const hint = el("p", "hint");
  hint.id = "prefs-categories-hint";
  group.appendChild(hint);
  const box = el("div", "prefs-categories");
  box.id = "prefs-categories";
  group.appendChild(box);
  const channels = $("prefs-channels").closest("fieldset");
  channels.parentNode.insertBefore(group, channels.nextSibling);

  const times = el("div", "quiet-times");
  [["prefs-quiet-start", "prefs-quiet-start-label"], ["prefs-quiet-end", "prefs-quiet-end-label"]].forEach(([id, labelId]) => {
    const label = el("label");
    label.id = labelId;
    label.htmlFor = id;
    const input = el("input");
    input.type = "time";
    input.id = id;
    input.step = 60;
    times.appendChild(label);
    times.appendChild(input);
  });
  $("prefs-window").parentNode.insertBefore(times, $("prefs-window"));
}

function fillPreferences(p) {
  buildPreferences();
  const box = $("prefs-channels");
  clear(box);
  const known = Object.keys(CHANNELS);
  const order = (k) => (known.indexOf(k) < 0 ? known.length : known.indexOf(k));
  Object.keys(p.channels || {}).sort((a, b) => order(a) - order(b)).forEach((key) => {
    const label = el("label", "switch");
    const input = el("input");
    input.type = "checkbox";
    input.id = "prefs-channel-" + key.replace(/[^0-9A-Za-z_-]/g, "");
    input.setAttribute("data-channel", key);
    input.checked = !!p.channels[key];
    label.htmlFor = input.id;
    label.appendChild(input);
    label.appendChild(el("span", null, " " + channelName(key)));
    box.appendChild(label);
  });
  fillCategories(p.categories || []);
  $("prefs-quiet").checked = !!p.quiet_hours;
  const w = p.quiet_hours_window || {};
  const start = p.quiet_start || w.start || "", end = p.quiet_end || w.end || "";
  $("prefs-quiet-start-label").textContent = t("开始", "From");
  $("prefs-quiet-end-label").textContent = t("结束", "Until");
  $("prefs-quiet-start").value = start;
  $("prefs-quiet-end").value = end;
  fillWindow(start, end, w.timezone);
  const rules = $("prefs-rules");
  clear(rules);
  [
    t("安全提醒（新设备登录、签名 PIN 锁定与签名安全、账号安全）不能关闭：即使关闭了渠道或类别也会推送，并以短信发到您绑定的手机。",
      "Security alerts (a new device, a signing PIN locked or a signing key changed, account security) cannot be switched off: they are pushed even on channels or categories you turned off, and sent by SMS to your bound phone."),
    t("关闭某类通知只停止推送，这类通知仍会出现在“消息”中。", "Switching a category off only stops its pushes: its notices still appear in Messages."),
    t("紧急通知不受免打扰限制，随时送达。", "Urgent notices are delivered at once, even in quiet hours."),
    t("证照暂停、吊销等重要通知在推送渠道需等待时改发短信。", "When a push channel has to wait, important notices such as a licence suspended or revoked are sent by SMS instead."),
  ].forEach((text) => rules.appendChild(el("li", null, text)));
}

/* The categories as the API answers them (its names already in the page's language): a switch each,
 * the locked one disabled, marked and explained. */
function fillCategories(categories) {
  $("prefs-categories-legend").textContent = t("消息类别", "Categories");
  $("prefs-categories-hint").textContent = t("关闭的类别不再推送，仍会出现在“消息”中。",
    "A category switched off is no longer pushed; its notices still appear in Messages.");
  const box = $("prefs-categories");
  clear(box);
  categories.forEach((c) => {
    const id = "prefs-category-" + String(c.id).replace(/[^0-9A-Za-z_-]/g, "");
    const label = el("label", "switch" + (c.locked ? " locked" : ""));
    const input = el("input");
    input.type = "checkbox";
    input.id = id;
    input.setAttribute("data-category", c.id);
    input.checked = !!c.on || !!c.locked;
    input.disabled = !!c.locked;
    label.htmlFor = id;
    label.appendChild(input);
    label.appendChild(el("span", null, " " + c.name));
    if (c.locked) { label.appendChild(el("span", "tag lock-tag", t("始终开启", "Always on"))); }
    box.appendChild(label);
    if (c.locked && c.locked_reason) {
      const why = el("p", "lock-reason", c.locked_reason);
      why.id = id + "-why";
      input.setAttribute("aria-describedby", why.id);
      box.appendChild(why);
    }
  });
}

/* The window in words: "every day 22:00 to 08:00 the next day" when it crosses midnight. */
function fillWindow(start, end, timezone) {
  const zone = timezone === "Asia/Shanghai" || !timezone ? t("北京时间", "Beijing time") : timezone;
  const overnight = end < start;
  $("prefs-window").textContent = t(
    "免打扰时段：每天 " + start + " 至" + (overnight ? "次日 " : " ") + end + "（" + zone + "）。开启后，这段时间里不紧急的推送会等到 " +
      end + " 再发送，消息仍会即时出现在“消息”中。",
    "Quiet hours: " + start + "–" + end + " (" + zone + ") every " + (overnight ? "night" : "day") +
      ". When on, pushes that are not urgent wait until " + end + "; they still appear in Messages at once.");
  $("prefs-window").setAttribute("data-start", start);
  $("prefs-window").setAttribute("data-end", end);
}

function savePreferences(ctx) {
  const channels = {};
  document.querySelectorAll("#prefs-channels input[data-channel]").forEach((input) => {
    channels[input.getAttribute("data-channel")] = input.checked;
  });
  const categories = {};
  document.querySelectorAll("#prefs-categories input[data-category]").forEach((input) => {
    if (!input.disabled) { categories[input.getAttribute("data-category")] = input.checked; }
  });
  const body = { channels, categories, quiet_hours: $("prefs-quiet").checked };
  // type=time gives "HH:MM" (or "" when cleared: the stored time is kept)
  if ($("prefs-quiet-start").value) { body.quiet_start = $("prefs-quiet-start").value.slice(0, 5); }
  if ($("prefs-quiet-end").value) { body.quiet_end = $("prefs-quiet-end").value.slice(0, 5); }
  $("prefs-saved").hidden = true;
  send($("prefs-save"), () => ctx.api.call("PUT", "/notifications/preferences", body),
    t("保存失败，请稍后再试。", "Could not save. Please try again."), (r) => {
      fillPreferences(r.data);
      const text = t("通知设置已保存。", "Notification settings saved.");
      $("prefs-saved").textContent = "✓ " + text;
      $("prefs-saved").hidden = false;
      say(text, "info");
    }).then((r) => { if (r && !r.ok) { $("message").scrollIntoView({ block: "center" }); } });  // said at the top, seen from the button
}

/* --- The view --------------------------------------------------------------------------------- */

function showPart(preferences) {
  $("notices-inbox").hidden = preferences;
  $("notice-prefs").hidden = !preferences;
}

export default {
  name: "notices",
  routes: ["notices", "notifications"],
  tab: true,
  mount(ctx) {
    $("notices-read-all").addEventListener("click", () => readAll(ctx));
    $("notices-settings").addEventListener("click", () => ctx.go("notices/preferences"));
    $("notices-more").addEventListener("click", () => more(ctx));
    $("prefs-back").addEventListener("click", () => ctx.go("notices"));
    $("notice-prefs").addEventListener("submit", (e) => { e.preventDefault(); savePreferences(ctx); });
  },
  show(ctx, params, query) {
    const preferences = params[0] === "preferences";
    showPart(preferences);
    streamWords();
    if (preferences) { loadPreferences(ctx); return; }
    state.highlight = (query && query.id) || null;
    load(ctx);
  },
  onNotice(ctx, notice) {
    const li = add(ctx, notice, true);
    if (li) { li.classList.add("fresh"); }
  },
  signedOut() {
    clear($("notices"));
    state.cursor = null;
    state.highlight = null;
  },
};
