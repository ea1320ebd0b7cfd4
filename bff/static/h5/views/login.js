/* Login (SMS code with the resend countdown) and real-name verification: the #login-view and
 * #realname-view sections of index.html. */
import { t } from "../i18n.js";
import { $, networkError, problem, say, send } from "../ui.js";

const resend = { timer: null };
let ctx = null;

/* The send button stays disabled for `seconds` and says how long is left (resend_after, or a
 * 429's retry_after), then offers to send again. */
function countdown(seconds) {
  const button = $("send-code");
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  clearInterval(resend.timer);
  function tick() {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      button.textContent = t("重新获取（" + left + " 秒）", "Resend (" + left + " s)");
      button.setAttribute("data-wait", String(left));
      return;
    }
    clearInterval(resend.timer);
    button.disabled = false;
    button.removeAttribute("data-wait");
    button.textContent = $("code-form").hidden ? t("获取验证码", "Get code") : t("重新获取验证码", "Send a new code");
  }
  tick();
  resend.timer = setInterval(tick, 1000);
}

function requestCode(event) {
  event.preventDefault();
  say("");
  const phone = $("phone").value.trim();
  $("send-code").disabled = true;
  ctx.api.send("POST", "/auth/sms-codes", { phone }).then((r) => {
    $("send-code").disabled = false;
    if (!r.ok) {
      problem(r, t("验证码发送失败。", "The code could not be sent."));
      if (r.data.retry_after) { countdown(r.data.retry_after); }
      return;
    }
    $("code-form").hidden = false;
    countdown(r.data.resend_after);
    $("code").focus();
    say(t("验证码已发送，请查收短信。", "A code has been sent by SMS."), "info");
    return devCode(phone);
  }, () => { $("send-code").disabled = false; networkError(); });
}

/* Development only: the dev SMS outbox (absent in production, where this quietly does nothing). */
function devCode(phone) {
  return ctx.api.send("GET", "/dev/sms-outbox?phone=" + encodeURIComponent(phone)).then((r) => {
    const items = r.ok && r.data.items;
    if (!items || !items.length) { return; }
    $("dev-code").textContent = t("开发环境：验证码 " + items[0].code + "（已自动填入，生产环境不显示）",
                                  "Development: code " + items[0].code + " (filled in; not shown in production)");
    $("dev-code").hidden = false;
    $("code").value = items[0].code;
  }, () => { /* no outbox: production */ });
}

function login(event) {
  event.preventDefault();
  send($("login-button"), () => ctx.api.send("POST", "/auth/login", { phone: $("phone").value.trim(), code: $("code").value.trim() }),
    t("登录失败。", "Sign-in failed."), (r) => {
      ctx.session.save({ access: r.data.access_token, refresh: r.data.refresh_token, user: r.data.user });
      countdown(0);
      $("code").value = "";
      $("dev-code").hidden = true;
      return ctx.enter();
    });
}

function realName(event) {
  event.preventDefault();
  send($("realname-button"), () => ctx.api.call("POST", "/me/real-name", { name: $("rn-name").value.trim(), id_number: $("rn-id").value.trim() }),
    t("实名认证失败。", "Real-name verification failed."), (r) => {
      $("rn-id").value = "";
      $("rn-name").value = "";
      ctx.session.data.user.real_name_verified = true;
      ctx.session.data.user.assurance_level = r.data.assurance_level;
      ctx.session.save();
      say(t("实名认证成功。", "Your real name is verified."), "info");
      return ctx.enter();
    });
}

export default {
  name: "login",
  routes: ["login", "realname"],
  mount(c) {
    ctx = c;
    $("phone-form").addEventListener("submit", requestCode);
    $("code-form").addEventListener("submit", login);
    $("realname-form").addEventListener("submit", realName);
  },
  signedOut() {
    $("code-form").hidden = true;
    $("phone-form").hidden = false;
  },
};
