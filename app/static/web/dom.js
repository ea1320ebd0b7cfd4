/* The pages' small DOM helpers (ES module). Data goes into a page through textContent, never as
 * markup. */

export function $(id) { return document.getElementById(id); }

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

export function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

function two(n) { return (n < 10 ? "0" : "") + n; }

/* "2026-03-20 09:30" in the browser's time zone (with ":05" seconds when `seconds`); a value that is
 * no date is shown as it is. */
export function formatTime(value, { seconds = false } = {}) {
  if (!value) { return ""; }
  const d = new Date(value);
  if (isNaN(d.getTime())) { return String(value); }
  return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" +
    two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
}
