/* Login and real-name verification: the #login-view and #realname-view sections of index.html.
 *
 * - SMS: phone → code (the send button counts down to the next resend: resend_after, or a 429's
 *   retry_after) → tokens.
 * - WeChat (微信登录): as the mini-program does it, POST /auth/wechat with a wx.login code. A browser has
 *   no wx.login, so the page makes a development js_code (`<this tab's WeChat user>.<nonce>`, what the
 *   development WeChat adapter accepts: the part before "." names the user, so the same tab reaches the
 *   same account again); a production server refuses it with wechat_code_invalid, shown as a message.
 *   A WeChat account without a phone binds one (POST /me/phone, proven by an SMS code); when that phone
 *   already has an account, WeChat joins it and its tokens come back.
 * - 国家网络身份认证 (网号, issue 19): views/ncid.js — a session, the national app (in development the
 *   "模拟国家网络身份认证" dialog), POST /auth/ncid/login; its tokens go through signIn as the others'.
 * - Real name (POST /me/real-name) raises the account to L2; a refusal is shown in words. */
import { Store } from "/static/web/api.js";
import { t } from "../i18n.js";
import { $, networkError, problem, say, send } from "../ui.js";
import { ncidLogin } from "./ncid.js";

const timers = {};
let ctx = null;
const wechatDevice = new Store(sessionStorage, "yiwang.h5.wechat");  // {user}: this tab's development WeChat user

/* `button` stays disabled for `seconds` and says how long is left, then offers to send again
 * (`idle()`: its words then). */
function countdown(button, seconds, idle) {
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  clearInterval(timers[button.id]);
  function tick() {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      button.textContent = t("重新获取（" + left + " 秒）", "Resend (" + left + " s)");
      button.setAttribute("data-wait", String(left));
      return;
    }
    clearInterval(timers[button.id]);
    button.disabled = false;
    button.removeAttribute("data-wait");
    button.textContent = idle();
  }
  tick();
  timers[button.id] = setInterval(tick, 1000);
}

function loginCountdown(seconds) {
  countdown($("send-code"), seconds, () => ($("code-form").hidden ? t("获取验证码", "Get code") : t("重新获取验证码", "Send a new code")));
}

/* An SMS code to `phone`; `then(r)` on success. The send button counts down either way. */
function smsCode(phone, button, onSent, wait) {
  button.disabled = true;
  return ctx.api.send("POST", "/auth/sms-codes", { phone }).then((r) => {
    button.disabled = false;
    if (!r.ok) {
      problem(r, t("验证码发送失败。", "The code could not be sent."));
      if (r.data.retry_after) { wait(r.data.retry_after); }
      return;
    }
    onSent();
    wait(r.data.resend_after);
    say(t("验证码已发送，请查收短信。", "A code has been sent by SMS."), "info");
    return devCode(phone);
  }, () => { button.disabled = false; networkError(); });
}

function requestCode(event) {
  event.preventDefault();
  say("");
  smsCode($("phone").value.trim(), $("send-code"), () => { $("code-form").hidden = false; $("code").focus(); }, loginCountdown)
    .then((code) => fill(code, "code", "dev-code"));
}

/* Development only: the newest code of the dev SMS outbox (absent in production: undefined). */
function devCode(phone) {
  return ctx.api.send("GET", "/dev/sms-outbox?phone=" + encodeURIComponent(phone)).then((r) => {
    const items = r.ok && r.data.items;
    return items && items.length ? items[0].code : undefined;
  }, () => undefined);
}

function fill(code, inputId, noteId) {
  if (!code) { return; }
  $(noteId).textContent = t("开发环境：验证码 " + code + "（已自动填入，生产环境不显示）",
                            "Development: code " + code + " (filled in; not shown in production)");
  $(noteId).hidden = false;
  $(inputId).value = code;
}

/* Into the account (ctx.enter), then `text` on the message line: after the route change it makes
 * (which clears the line), when there is one. */
function enterSaying(text) {
  const before = location.hash;
  return ctx.enter().then(() => {
    if (!text) { return; }
    if (location.hash === before) { say(text, "info"); return; }
    window.addEventListener("hashchange", () => say(text, "info"), { once: true });
  });
}

/* Tokens from a login (SMS, WeChat, a bound phone): kept for this tab, then the account. */
function signIn(r, text) {
  ctx.session.save({ access: r.data.access_token, refresh: r.data.refresh_token, user: r.data.user });
  return enterSaying(text);
}

function login(event) {
  event.preventDefault();
  send($("login-button"), () => ctx.api.send("POST", "/auth/login", { phone: $("phone").value.trim(), code: $("code").value.trim() }),
    t("登录失败。", "Sign-in failed."), (r) => {
      loginCountdown(0);
      $("code").value = "";
      $("dev-code").hidden = true;
      return signIn(r);
    });
}

/* --- WeChat ---------------------------------------------------------------------------------- */

function random(n) {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

/* What wx.login would give: a one-time code. Development: "<this tab's WeChat user>.<nonce>". */
function jsCode() {
  if (!wechatDevice.data) { wechatDevice.save({ user: "h5-" + random(10) }); }
  return wechatDevice.data.user + "." + random(12);
}

function wechatLogin() {
  send($("wechat-login"), () => ctx.api.send("POST", "/auth/wechat", { code: jsCode() }),
    t("微信登录失败。", "WeChat sign-in failed."), (r) => {
      return signIn(r, r.data.phone_bound ? "" : t("微信登录成功，请绑定手机号。", "Signed in with WeChat. Please bind your phone number."));
    });
}

function bindCode() {
  const input = $("bind-phone");
  if (!input.reportValidity()) { return; }
  say("");
  const button = $("bind-send");
  smsCode(input.value.trim(), button, () => $("bind-code").focus(),
    (s) => countdown(button, s, () => t("重新获取验证码", "Send a new code")))
    .then((code) => fill(code, "bind-code", "bind-dev-code"));
}

function bindPhone(event) {
  event.preventDefault();
  send($("bind-button"), () => ctx.api.call("POST", "/me/phone", { phone: $("bind-phone").value.trim(), code: $("bind-code").value.trim() }),
    t("手机号绑定失败。", "The phone number could not be bound."), (r) => {
      $("bind-code").value = "";
      $("bind-dev-code").hidden = true;
      countdown($("bind-send"), 0, () => t("获取验证码", "Get code"));
      return signIn(r, t("手机号已绑定。", "Your phone number is bound."));
    });
}

/* --- Real name ------------------------------------------------------------------------------- */

function realName(event) {
  event.preventDefault();
  send($("realname-button"), () => ctx.api.call("POST", "/me/real-name", { name: $("rn-name").value.trim(), id_number: $("rn-id").value.trim() }),
    t("实名认证失败。", "Real-name verification failed."), (r) => {
      $("rn-id").value = "";
      $("rn-name").value = "";
      ctx.session.data.user.real_name_verified = true;
      ctx.session.data.user.assurance_level = r.data.assurance_level;
      ctx.session.save();
      return enterSaying(t("实名认证成功。", "Your real name is verified."));
    });
}

/* The real-name screen: first a phone to bind when the account came from WeChat without one. */
function showRealName() {
  const user = ctx.user() || {};
  const unbound = user.phone_bound === false || (!user.phone_masked && user.phone_bound === undefined);
  $("bind-step").hidden = !unbound;
  $("realname-step").hidden = unbound;
  $("realname-who").textContent = user.phone_masked ? t("当前账号：", "Account: ") + user.phone_masked : "";
}

export default {
  name: "login",
  routes: ["login", "realname"],
  mount(c) {
    ctx = c;
    $("phone-form").addEventListener("submit", requestCode);
    $("code-form").addEventListener("submit", login);
    $("wechat-login").addEventListener("click", wechatLogin);
    $("ncid-login").addEventListener("click", () => ncidLogin(ctx, $("ncid-login"), signIn));
    $("login-lang").addEventListener("click", () => ctx.setLanguage(ctx.english() ? "zh-CN" : "en"));
    $("bind-send").addEventListener("click", bindCode);
    $("bind-form").addEventListener("submit", bindPhone);
    $("realname-form").addEventListener("submit", realName);
  },
  show(c, params, query, name) {
    if (name === "realname") { showRealName(); }
  },
  signedOut() {
    $("code-form").hidden = true;
    $("phone-form").hidden = false;
    $("dev-code").hidden = true;
    $("bind-dev-code").hidden = true;
    ["bind-phone", "bind-code", "rn-name", "rn-id"].forEach((id) => { $(id).value = ""; });  // nothing left for the next person
  },
};
