/* Cases (办件): the list (status, case number, the promised date, paused or overdue, a 补正 deadline)
 * and one case (its timeline, the SLA clock, what a 补正 asks for and by when, and 好差评: rating a
 * concluded case once, then the rating and, for a 差评, the department's answer).
 *
 * Routes: cases, cases/<id> (the notices' deep link yiwang://cases/<id>). Reading goes through
 * ctx.client() (a proxy may follow someone's cases); rating is the applicant's own (not delegable). */
import { t } from "../i18n.js";
import { $, button, clear, day, el, empty, formatTime, item, problem, say, send } from "../ui.js";

const PAGE = 20;
const STARS = [1, 2, 3, 4, 5];
const POOR = 2;  // ratings at or below: 差评, a reason is needed and the department answers

const state = { shown: null, asked: 0, cursor: null, formFor: null, rating: 0, tags: {}, catalogue: {} };

function ratingLabel(rating) {
  return { 5: t("非常满意", "Very satisfied"), 4: t("满意", "Satisfied"), 3: t("基本满意", "Fairly satisfied"),
           2: t("不满意", "Dissatisfied"), 1: t("非常不满意", "Very dissatisfied") }[rating] || "";
}

function kindLabel(kind) {
  return { status: t("状态变更", "Status change"), evaluation: t("服务评价", "Rating"), follow_up: t("部门答复", "Department's answer") }[kind];
}

function stars(rating) { return "★".repeat(rating) + "☆".repeat(5 - rating); }

/* --- The list ----------------------------------------------------------------------------------- */

function load(ctx, more) {
  const asked = ++state.asked;
  const query = "?limit=" + PAGE + (more && state.cursor ? "&cursor=" + encodeURIComponent(state.cursor) : "");
  ctx.client().call("GET", "/cases" + query).then((r) => {
    if (asked !== state.asked) { return; }
    const list = $("cases");
    if (!more) { clear(list); }
    if (!r.ok) { problem(r); return; }
    r.data.items.forEach((c) => listItem(ctx, list, c));
    state.cursor = r.data.next_cursor || null;
    $("cases-more").hidden = !state.cursor;
    if (!list.firstChild) { empty(list, t("暂无办件", "No cases")); }
  });
}

function listItem(ctx, list, c) {
  const li = item(list, c.item_name, null, () => ctx.go("cases/" + c.id));
  li.setAttribute("data-case", c.id);
  li.setAttribute("data-status", c.status);
  const sub = el("span", "sub");
  sub.appendChild(el("span", "status status-" + c.status, c.status_label));
  sub.appendChild(document.createTextNode(" " + c.case_no + " · " + formatTime(c.status_at)));
  li.appendChild(sub);
  dueLines(c).forEach(([text, kind]) => li.appendChild(el("span", "sub when " + kind, text)));
  if (c.can_evaluate) {
    li.appendChild(el("span", "sub when rate-me", ctx.acting ? t("已办结，待申请人评价", "Concluded: waiting for the applicant's rating")
                                                             : t("已办结，请评价", "Concluded: please rate it")));
  }
}

/* What the citizen waits for, one line each: a 补正 deadline, then the promised date (承诺办结),
 * paused or overdue. */
function dueLines(c) {
  const lines = [];
  const clock = c.clock || {};
  if (c.supplement_due) {
    lines.push([t("请于 " + c.supplement_due + " 前补正材料", "Please supply the missing documents by " + c.supplement_due), "supplement"]);
  }
  if (clock.due_date && !finished(c)) { lines.push([promise(clock), clock.overdue ? "overdue" : (clock.paused ? "paused" : "promise")]); }
  return lines;
}

/* Decided or closed: the promised date is no longer something to wait for. */
function finished(c) { return ["approved", "denied", "concluded", "delivered", "not_accepted", "withdrawn"].indexOf(c.status) >= 0; }

function promise(clock) {
  return t("承诺 " + clock.due_date + " 前办结", "Promised by " + clock.due_date) +
    (clock.paused ? t("（计时暂停中）", " (clock paused)") : "") + (clock.overdue ? t("（已超期）", " (overdue)") : "");
}

/* The clock in words: when it started, a pause (since when, working days added), overdue. */
function clockText(c) {
  const clock = c.clock || {};
  if (!clock.started_at) {
    return finished(c) ? "" : t("受理后开始计算承诺办结时限。", "The promised time starts once the case is accepted.");
  }
  const parts = [clock.promised_days
    ? t("承诺时限 " + clock.promised_days + " 个工作日，自 " + day(clock.started_at) + " 受理起计算",
        clock.promised_days + " working days from acceptance on " + day(clock.started_at))
    : t("自 " + day(clock.started_at) + " 受理起计时", "Timed from acceptance on " + day(clock.started_at))];
  if (clock.paused) {
    parts.push(t("自 " + day(clock.paused_since) + " 起暂停计时（补正或特别程序期间不计时）",
                 "clock paused since " + day(clock.paused_since) + " (waiting for documents or a special procedure does not count)"));
  }
  if (clock.paused_working_days > 0) {
    parts.push(t("已暂停 " + clock.paused_working_days + " 个工作日，办结日期相应顺延",
                 "paused for " + clock.paused_working_days + " working days, the due date moved accordingly"));
  }
  const concluded = (c.timeline || []).filter((e) => e.kind === "status" && e.status === "concluded").pop();
  if (concluded && clock.due_date) {
    parts.push(day(concluded.occurred_at) <= clock.due_date ? t("已在承诺日期前办结", "concluded within the promised time")
                                                   : t("办结晚于承诺日期", "concluded after the promised date"));
  }
  if (clock.overdue) { parts.push(t("已超过承诺办结日期，可联系办理部门或拨打 12345", "past the promised date: contact the department or call 12345")); }
  return parts.join(t("；", "; ")) + t("。", ".");
}

/* --- One case ----------------------------------------------------------------------------------- */

function open(ctx, id) {
  const asked = ++state.asked;
  state.shown = id;
  ctx.client().call("GET", "/cases/" + encodeURIComponent(id)).then((r) => {
    if (asked !== state.asked || state.shown !== id) { return; }
    if (!r.ok) { problem(r); showList(ctx); return; }
    fill(ctx, r.data);
    $("case-list").hidden = true;
    $("case-detail").hidden = false;
    window.scrollTo(0, 0);
  });
}

function fill(ctx, c) {
  $("case-detail").setAttribute("data-case", c.id);
  $("case-detail").setAttribute("data-status", c.status);
  $("case-title").textContent = c.item_name;
  $("case-meta").textContent = c.case_no + " · " + (c.department_name || "") + t(" · 当前：", " · now: ") + c.status_label;
  const clock = c.clock || {};
  $("case-due").textContent = clock.due_date ? promise(clock) : "";
  $("case-due").hidden = !clock.due_date;
  $("case-due").classList.toggle("overdue", !!clock.overdue);
  $("case-due").classList.toggle("done", finished(c));
  $("case-clock").textContent = clockText(c);
  $("case-clock").hidden = !$("case-clock").textContent;
  supplement(c);
  timeline(c);
  rated(c);
  const rate = c.can_evaluate && !ctx.acting;
  $("rate-own").hidden = !(c.can_evaluate && ctx.acting);
  $("rate-form").hidden = !rate;
  if (rate) { prepareForm(ctx, c.id); } else { state.formFor = null; }
}

/* A 补正 request: what the department asks for (its own words, from the 补正 event) and by when. */
function supplement(c) {
  const waiting = c.status === "supplement_required";
  $("case-supplement").hidden = !waiting;
  if (!waiting) { return; }
  const asked = (c.timeline || []).filter((e) => e.kind === "status" && e.status === "supplement_required").pop() || {};
  $("case-supplement-what").textContent = asked.message || t("请按办理部门的要求补充材料。", "Please supply what the department asks for.");
  const due = c.supplement_due || asked.supplement_due;
  $("case-supplement-due").textContent = due ? t("请于 " + due + " 前补正材料", "Please supply the missing documents by " + due)
                                             : t("补正期间暂停计时。", "The clock is paused while documents are missing.");
}

function timeline(c) {
  const list = $("timeline");
  clear(list);
  (c.timeline || []).forEach((e) => {
    const li = el("li", "kind-" + e.kind + (e.supplement_due ? " supplement-step" : ""));
    li.appendChild(el("span", "title", e.label || e.status_label || kindLabel(e.kind) || t("办理进度", "Progress")));
    li.appendChild(el("span", "sub", formatTime(e.occurred_at) + (e.message ? " · " + e.message : "")));
    if (e.supplement_due) { li.appendChild(el("span", "sub supplement-due", t("补正截止 ", "Supply by ") + e.supplement_due)); }
    list.appendChild(li);
  });
}

/* The rating given, and for a 差评 the department's answer (or when it is due). */
function rated(c) {
  const ev = c.evaluation;
  $("case-rating").hidden = !ev;
  if (!ev) { return; }
  const starsLine = $("case-rating-stars");
  clear(starsLine);
  starsLine.appendChild(el("span", "star-row", stars(ev.rating)));
  starsLine.appendChild(document.createTextNode(" " + (ev.rating_label || ratingLabel(ev.rating)) + " · " + formatTime(ev.created_at)));
  const tagLine = $("case-rating-tags");
  clear(tagLine);
  (ev.tag_labels || []).forEach((label) => tagLine.appendChild(el("span", "tag", label)));
  tagLine.hidden = !tagLine.firstChild;
  $("case-rating-comment").textContent = ev.comment || "";
  $("case-rating-comment").hidden = !ev.comment;
  const fu = ev.follow_up;
  const answered = !!(fu && fu.answer);
  $("case-answer").hidden = !answered;
  $("case-answer-text").textContent = answered ? fu.answer : "";
  $("case-answer-time").textContent = answered ? formatTime(fu.answered_at) : "";
  $("case-answer-wait").hidden = !(fu && !answered);
  $("case-answer-wait").textContent = fu && !answered
    ? t("办理部门将于 " + fu.due_date + " 前答复您的评价。", "The department will answer your rating by " + fu.due_date + ".") : "";
}

/* --- Rating (好差评) ------------------------------------------------------------------------------ */

function mountForm(ctx) {
  const row = $("rate-stars");
  STARS.forEach((n) => {
    const b = button("★", () => choose(ctx, n), "star");
    b.setAttribute("role", "radio");
    b.setAttribute("data-rating", String(n));
    b.setAttribute("aria-checked", "false");
    row.appendChild(b);
  });
  $("rate-form").addEventListener("submit", (e) => { e.preventDefault(); submit(ctx); });
}

/* The form for case `id`: empty the first time; shown again (a notice, a language change) it keeps
 * what the person chose so far, in the page's language. */
function prepareForm(ctx, id) {
  if (state.formFor !== id) {
    state.formFor = id;
    state.rating = 0;
    state.tags = {};
    $("rate-comment").value = "";
  }
  [...$("rate-stars").children].forEach((b) => b.setAttribute("aria-label", ratingLabel(Number(b.getAttribute("data-rating")))));
  paint(ctx);
  catalogue(ctx);  // asked early: the tags are there when a rating is chosen
}

/* The catalogue's tag sets: complaints (1–2), reservations (3), praise (4–5). */
function tagSet(rating) { return rating <= POOR ? "poor" : (rating === 3 ? "fair" : "good"); }

function choose(ctx, rating) {
  if (tagSet(rating) !== tagSet(state.rating)) { state.tags = {}; }
  state.rating = rating;
  paint(ctx);
}

/* The stars, the rating's words and the tags that fit it (praise, reservations or complaints). */
function paint(ctx) {
  const rating = state.rating;
  [...$("rate-stars").children].forEach((b) => {
    const n = Number(b.getAttribute("data-rating"));
    b.classList.toggle("on", n <= rating);
    b.setAttribute("aria-checked", String(n === rating));
  });
  $("rate-label").textContent = rating ? ratingLabel(rating) : t("请点星评分：1 星非常不满意，5 星非常满意", "Tap a star: 1 very dissatisfied, 5 very satisfied");
  $("rate-poor").hidden = !(rating && rating <= POOR);
  $("rate-submit").disabled = !rating;
  const box = $("rate-tags");
  clear(box);
  const level = (catalogueNow() || []).find((x) => x.rating === rating);
  if (!level) { return; }
  level.tags.forEach((tag) => {
    const chip = el("label", "chip" + (state.tags[tag.code] ? " on" : ""));
    const input = el("input");
    input.type = "checkbox";
    input.value = tag.code;
    input.checked = !!state.tags[tag.code];
    input.setAttribute("data-tag", tag.code);
    input.addEventListener("change", () => {
      if (input.checked) { state.tags[tag.code] = true; } else { delete state.tags[tag.code]; }
      chip.classList.toggle("on", input.checked);
    });
    chip.appendChild(input);
    chip.appendChild(el("span", null, tag.label));
    box.appendChild(chip);
  });
}

function catalogueNow() { return state.catalogue[t("zh", "en")]; }

/* GET /cases/evaluation-tags: the fixed catalogue, in the page's language (kept per language). */
function catalogue(ctx) {
  const lang = t("zh", "en");
  if (state.catalogue[lang]) { return; }
  ctx.api.call("GET", "/cases/evaluation-tags").then((r) => {
    if (!r.ok) { problem(r); return; }
    state.catalogue[lang] = r.data.items;
    if (lang === t("zh", "en")) { paint(ctx); }
  });
}

function submit(ctx) {
  const id = state.shown;
  if (!id || !state.rating) { return; }
  const comment = $("rate-comment").value.trim();
  const body = { rating: state.rating, tags: Object.keys(state.tags), comment: comment || null };
  send($("rate-submit"), () => ctx.api.call("POST", "/cases/" + encodeURIComponent(id) + "/evaluation", body), null, () => {
    open(ctx, id);
    say(state.rating <= POOR ? t("评价已提交，办理部门会答复您。", "Your rating was sent; the department will answer you.")
                             : t("感谢您的评价。", "Thank you for your rating."), "info");
  }).then((r) => {
    // Rated meanwhile (another device) or no longer ratable: the message stays, the case shows what it is now.
    if (r && !r.ok && r.status === 409) { open(ctx, id); }
  });
}

/* --- The view ----------------------------------------------------------------------------------- */

function showList(ctx) {
  state.shown = null;
  state.formFor = null;
  $("case-detail").hidden = true;
  $("case-list").hidden = false;
  load(ctx, false);
}

export default {
  name: "cases",
  tab: true,
  mount(ctx) {
    $("case-close").addEventListener("click", () => ctx.go("cases"));
    $("cases-more").addEventListener("click", () => load(ctx, true));
    mountForm(ctx);
  },
  show(ctx, params) {
    if (params[0]) { open(ctx, params[0]); } else { showList(ctx); }
  },
  hide() { state.shown = null; state.formFor = null; state.asked++; },
  signedOut() { state.shown = null; state.formFor = null; state.cursor = null; state.catalogue = {}; clear($("cases")); $("case-detail").hidden = true; },
  /* A notice about the case on screen (a status, the department's answer): show it as it is now. */
  onNotice(ctx, notice) {
    const data = notice.data || {};
    if (document.body.getAttribute("data-view") !== "cases") { return; }
    if (state.shown && data.case_id === state.shown) { open(ctx, state.shown); } else if (!state.shown && data.case_id) { load(ctx, false); }
  },
};
