/* Settings (我的, the "settings" tab): the account (masked), the language (中文 / English) and elderly
 * mode (大字版), links to notification preferences and to family proxies, and signing out.
 *
 * Both display settings are the account's (PUT /bff/preferences {language} / {elderly_mode}), so they
 * follow the citizen to another device and survive signing out: on sign-in (`signedIn`) the page takes
 * the account's language and elderly mode. A language change re-renders the whole page at once. */
import { t } from "../i18n.js";
import { $, clear, el, item, problem, say } from "../ui.js";

const LEVELS = {
  L0: ["未验证手机号", "No phone verified"],
  L1: ["手机号已验证", "Phone verified"],
  L2: ["已实名认证", "Real name verified"],
  L3: ["已人脸核验", "Face verified"],
  L4: ["最高等级（证书或现场核验）", "Highest (certificate or in person)"],
};

let saving = 0;  // a later choice wins over an earlier answer still on its way

function heading(section, zh, en) { section.appendChild(el("h3", null, t(zh, en))); }

function account(ctx, section) {
  const user = ctx.user() || {};
  const card = el("div", "card account");
  card.id = "settings-account";
  card.appendChild(el("div", "title", user.name_masked || t("未实名用户", "Not yet verified")));
  card.appendChild(el("div", "sub", t("手机 ", "Phone ") + (user.phone_masked || t("未绑定", "not bound"))));
  const level = LEVELS[user.assurance_level] || ["", ""];
  card.appendChild(el("div", "sub", t("认证等级 ", "Level ") + (user.assurance_level || "") + " · " + t(level[0], level[1])));
  section.appendChild(card);
}

function save(ctx, body, done) {
  const mine = ++saving;
  return ctx.api.call("PUT", "/bff/preferences", body).then((r) => {
    if (mine !== saving) { return; }
    if (!r.ok) { problem(r, t("设置保存失败。", "The setting could not be saved.")); return; }
    done(r.data);
  }, () => say(t("网络异常，设置未保存到账号。", "Network error: the setting was not saved to your account.")));
}

function chooseLanguage(ctx, lang) {
  if ((lang === "en") === ctx.english()) { return; }
  ctx.setLanguage(lang);  // the page in the new language at once; the account remembers it
  save(ctx, { language: lang }, () => say(t("已切换为中文，并保存到您的账号。", "Switched to English and saved to your account."), "info"));
}

function language(ctx, section) {
  heading(section, "语言", "Language");
  const row = el("div", "segmented");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", t("界面语言", "Interface language"));
  [["zh-CN", "中文", "lang-zh"], ["en", "English", "lang-en"]].forEach(([lang, label, id]) => {
    const b = el("button", "choice", label);
    b.type = "button";
    b.id = id;
    b.lang = lang;
    const on = (lang === "en") === ctx.english();
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("on", on);
    b.addEventListener("click", () => chooseLanguage(ctx, lang));
    row.appendChild(b);
  });
  section.appendChild(row);
}

function elderly(ctx, section) {
  heading(section, "大字版", "Large type");
  const label = el("label", "switch");
  label.htmlFor = "elderly-toggle";
  const box = el("input");
  box.type = "checkbox";
  box.id = "elderly-toggle";
  box.checked = document.documentElement.classList.contains("elderly");
  label.appendChild(box);
  label.appendChild(el("span", null, t("大字版（长辈模式）", "Large type (for older people)")));
  section.appendChild(label);
  section.appendChild(el("p", "hint", t("字更大，首页只保留亮证、办件、网点和设置四个入口。",
    "Bigger text; the home screen keeps four entries: show licence, cases, halls and settings.")));
  box.addEventListener("change", () => {
    const on = box.checked;
    save(ctx, { elderly_mode: on }, (prefs) => {
      ctx.setElderly(prefs.elderly_mode);
      box.checked = prefs.elderly_mode;
      say(prefs.elderly_mode ? t("已开启大字版。", "Large type is on.") : t("已关闭大字版。", "Large type is off."), "info");
    }).then(() => { box.checked = document.documentElement.classList.contains("elderly"); });
  });
}

function more(ctx, section) {
  heading(section, "更多", "More");
  const list = el("ul", "list links");
  list.id = "settings-links";
  item(list, t("通知设置", "Notification settings"), t("推送渠道、免打扰", "Push channels, quiet hours"), () => ctx.go("notices/preferences")).setAttribute("data-go", "notices/preferences");
  item(list, t("亲属代办", "Family proxies"), t("授权亲友代办，或为亲属办理", "Let family act for you, or act for them"), () => ctx.go("proxies")).setAttribute("data-go", "proxies");
  section.appendChild(list);
  const out = el("button", "secondary signout", t("退出登录", "Sign out"));
  out.type = "button";
  out.id = "settings-logout";
  out.addEventListener("click", () => $("logout").click());  // the shell's sign-out (ends the session on the server)
  section.appendChild(out);
}

/* The account's display preferences, applied to this tab (a language never chosen: the tab's own). */
function applyAccount(ctx) {
  return ctx.api.call("GET", "/bff/preferences").then((r) => {
    if (!r.ok || !ctx.signedIn()) { return; }
    ctx.setElderly(!!r.data.elderly_mode);
    if (r.data.language && (r.data.language === "en") !== ctx.english()) { ctx.setLanguage(r.data.language); }
  }, () => {});
}

export default {
  name: "settings",
  tab: true,
  show(ctx) {
    const section = $("settings-view");
    clear(section);
    section.appendChild(el("h2", null, t("我的", "Me")));
    account(ctx, section);
    language(ctx, section);
    elderly(ctx, section);
    more(ctx, section);
  },
  signedIn(ctx) { applyAccount(ctx); },
};
