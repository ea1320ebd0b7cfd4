/* The signing view's shared pieces (views/signing.js, views/signing/detail.js): the screen being
 * shown, digests and serials for a person, statuses, who asked, problem answers in words, facts,
 * the SMS code's countdown and the development outbox, the PIN field. */
import { t } from "../../i18n.js";
import { $, button, el, field, formatTime, say } from "../../ui.js";

/* The screen on show: its generation (answers for an earlier screen are dropped) and its section. */
export const screen = { shown: 0, section: null };

/* --- Small pieces -------------------------------------------------------------------------------- */

/* A hex digest in groups of four (a person compares it group by group). */
export function grouped(hex) { return String(hex || "").toLowerCase().match(/.{1,4}/g)?.join(" ") || ""; }

export function tail(serial) { return String(serial || "").slice(-8).toUpperCase(); }

/* The status as the server says it (`expired`: pending past its time), or the phone's clock says it. */
export function status(req) { return req.status === "pending" && expired(req) ? "expired" : req.status; }

export function statusLabel(req) {
  return { pending: t("待签署", "Waiting for you"), signed: t("已签署", "Signed"), refused: t("已拒绝", "Refused"),
           expired: t("已过期", "Expired") }[status(req)] || req.status;
}

export function expired(req) {
  return req.status === "expired" || (!!req.expires_at && new Date(req.expires_at).getTime() <= Date.now());
}

/* Who asked for the signature: a department's registered name, or the citizen's own app. */
export function requester(req) {
  const by = req.requested_by || {};
  if (by.kind === "client" && by.name) { return by.name; }
  return t("您本人（在一网 App 中发起）", "You (from your own YiWang app)");
}

export function certStatusLabel(status) {
  return { good: t("有效", "Valid"), revoked: t("已吊销", "Revoked"), expired: t("已过期", "Expired"),
           unknown: t("未知", "Unknown") }[status] || status;
}

export function size(bytes) {
  if (typeof bytes !== "number") { return ""; }
  return bytes < 1024 ? bytes + " B" : (bytes / 1024).toFixed(1) + " KB";
}

/* A problem answer in words, on the message line and (when given) inline, with the tries left after
 * a wrong PIN and the end of a lockout when the API says. */
export function trouble(ctx, r, note, fallback) {
  ctx.problem(r, fallback);
  const data = r.data || {};
  let text = $("message").textContent;
  if (typeof data.tries_left === "number") {
    text += t("（还可尝试 " + data.tries_left + " 次，输错过多电子签名将被锁定）",
              " (" + data.tries_left + (data.tries_left === 1 ? " try" : " tries") + " left before signing is locked)");
  }
  if (data.locked_until) { text += t("（锁定至 " + formatTime(data.locked_until) + "）", " (locked until " + formatTime(data.locked_until) + ")"); }
  $("message").textContent = text;
  if (note) { note.textContent = text; note.hidden = false; }
}

/* A fact of a request or certificate: a label and its value (digests in monospace). */
export function fact(list, label, value, className) {
  if (value === undefined || value === null || value === "") { return null; }
  const row = el("div", "sg-fact " + (className || ""));
  row.appendChild(el("dt", null, label));
  row.appendChild(el("dd", null, value));
  list.appendChild(row);
  return row;
}

export function heading(text) { return el("h2", null, text); }

/* A send-SMS button that counts down before it can send again. */
export function countdown(b, seconds, label) {
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  function tick() {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (!b.isConnected || left <= 0) { b.disabled = false; b.textContent = label(); clearInterval(timer); return; }
    b.disabled = true;
    b.textContent = t("重新获取（" + left + " 秒）", "Resend (" + left + " s)");
  }
  const timer = setInterval(tick, 1000);
  tick();
}

/* Development only: the code the development SMS outbox "sent" to the bound phone (matched on its
 * masked number's last digits), filled in; in production there is no outbox and nothing happens. */
export function devCode(ctx, phoneMasked, input, line) {
  return ctx.api.send("GET", "/dev/sms-outbox").then((r) => {
    const end = String(phoneMasked || "").slice(-4);
    const hit = r.ok && (r.data.items || []).find((i) => !end || String(i.phone).endsWith(end));
    if (!hit) { return; }
    input.value = hit.code;
    line.textContent = t("开发环境：验证码 " + hit.code + "（已自动填入，生产环境不显示）",
                         "Development: code " + hit.code + " (filled in; not shown in production)");
    line.hidden = false;
  }, () => {});
}

export function pinField(id, label) {
  const f = field(id, label, { type: "password", inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                               required: true, autocomplete: "off" });
  return f;
}

export function backButton(ctx) {
  return button(t("返回电子签名", "Back to e-signature"), () => ctx.go("signing"), "secondary sg-back");
}

/* The "get a code" button of a form: `ask()` sends the SMS code (an API call answered as {ok, data});
 * a refusal is said (and the button waits out a 429's retry_after), a success starts the countdown
 * (`resend_after`, else 60 s), says where the code went (`phone_masked`, else the signed-in phone) and,
 * in development, fills the code in from the outbox. */
export function smsCodeButton(ctx, { button: b, label, ask, note, input, dev }) {
  b.addEventListener("click", () => {
    say("");
    b.disabled = true;
    ask().then((r) => {
      b.disabled = false;
      if (!r.ok) {
        trouble(ctx, r, note, t("验证码发送失败。", "The code could not be sent."));
        if (r.data.retry_after) { countdown(b, r.data.retry_after, label); }
        return;
      }
      note.hidden = true;
      countdown(b, r.data.resend_after || 60, label);
      const phone = r.data.phone_masked || (ctx.user() || {}).phone_masked;
      say(r.data.phone_masked ? t("验证码已发送至 " + phone + "。", "A code has been sent to " + phone + ".")
                              : t("验证码已发送，请查收短信。", "A code has been sent by SMS."), "info");
      return devCode(ctx, phone, input, dev);
    });
  });
}
