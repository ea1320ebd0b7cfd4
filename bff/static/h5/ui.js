/* The H5 client's shared screen pieces: the message line, list items, forms that send, labelled
 * fields, date and time for a person. Data goes into the page through textContent only. */
import { problemMessage } from "/static/web/api.js";
import { $, clear, el, formatTime } from "/static/web/dom.js";
import { t } from "./i18n.js";

export { $, clear, el, formatTime };

/* The message line at the top: an error (red) or, with kind "info", a confirmation (green). */
export function say(text, kind) {
  const box = $("message");
  box.textContent = text || "";
  box.className = "message" + (kind ? " " + kind : "");
  box.hidden = !text;
}

/* A problem+json answer in words (its detail and field errors, in the page's language). */
export function problem(r, fallback) { say(problemMessage(r.data, fallback || t("请求失败，请稍后再试。", "The request failed. Please try again."))); }

export function networkError() { say(t("网络异常，请稍后再试。", "Network error. Please try again.")); }

/* A list item: a title, a line under it, tappable (click or Enter) when onTap is given. */
export function item(list, title, sub, onTap, extraClass) {
  const li = el("li", (onTap ? "tap " : "") + (extraClass || ""));
  li.appendChild(el("span", "title", title));
  if (sub) { li.appendChild(el("span", "sub", sub)); }
  if (onTap) {
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.addEventListener("click", onTap);
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") { onTap(); } });
  }
  list.appendChild(li);
  return li;
}

/* The list holds only a grey line saying it is empty. */
export function empty(list, text) { clear(list); item(list, text, null, null, "empty"); }

/* A button (type button unless given), its text in the page's language. */
export function button(text, onClick, className, type) {
  const b = el("button", className || "", text);
  b.type = type || "button";
  if (onClick) { b.addEventListener("click", onClick); }
  return b;
}

/* A labelled input: {wrap, input}. `attrs` become the input's attributes (type, maxlength, pattern …). */
export function field(id, label, attrs, tag) {
  const wrap = el("div", "field");
  const lab = el("label", null, label);
  lab.htmlFor = id;
  const input = el(tag || "input");
  input.id = id;
  Object.keys(attrs || {}).forEach((k) => { if (attrs[k] !== false && attrs[k] !== undefined) { input.setAttribute(k, attrs[k] === true ? "" : attrs[k]); } });
  wrap.appendChild(lab);
  wrap.appendChild(input);
  return { wrap, input };
}

/* A form sent: `button` disabled until the answer; a problem (else `fallback`) or a network failure is
 * said, a success goes to `done(r)`. Returns the promise. */
export function send(button, request, fallback, done) {
  say("");
  if (button) { button.disabled = true; }
  return request().then((r) => {
    if (button) { button.disabled = false; }
    if (!r.ok) { problem(r, fallback); return r; }
    return done ? done(r) : r;
  }, () => { if (button) { button.disabled = false; } networkError(); });
}

/* A date (YYYY-MM-DD) or time for a person; "" for nothing. */
export function day(value) { return value ? String(value).slice(0, 10) : ""; }
