/* The H5 client's two languages (中文 / English): every string a person reads is written in both, at
 * the place it is used: t("首页", "Home"). The language is the shared client's preference
 * (/static/web/api.js: it also sends Accept-Language, so the API's problem details come in it).
 * Markup in index.html carries its English in data-en (and data-en-placeholder, data-en-label);
 * translateStatic() swaps it in and back. */
import { preferences } from "/static/web/api.js";

export function english() { return /^en\b/i.test(preferences.language()); }

/* The text in the page's language. */
export function t(zh, en) { return english() ? en : zh; }

/* Static markup in the page's language: the Chinese original is kept in data-zh… on first use. */
export function translateStatic(root = document) {
  const en = english();
  document.documentElement.lang = en ? "en" : "zh-CN";
  [["data-en", null], ["data-en-placeholder", "placeholder"], ["data-en-label", "aria-label"]].forEach(([attr, target]) => {
    root.querySelectorAll("[" + attr + "]").forEach((node) => {
      const keep = "data-zh" + (target ? "-" + target : "");
      const current = target ? node.getAttribute(target) : node.textContent;
      if (!node.hasAttribute(keep)) { node.setAttribute(keep, current || ""); }
      const text = en ? node.getAttribute(attr) : node.getAttribute(keep);
      if (target) { node.setAttribute(target, text); } else { node.textContent = text; }
    });
  });
}
