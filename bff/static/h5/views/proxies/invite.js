/* Inviting a family member to act for me (邀请亲友代办): a verified relative's phone and real name, the
 * scopes, an end date and a step-up SMS code to my own phone (a bearer token alone cannot add a lasting
 * proxy). The form opens from its button on the proxies list and stays open across a language change. */
import { t } from "../../i18n.js";
import { $, button, el, field, say, send } from "../../ui.js";
import { scopeLabel } from "./words.js";

const SCOPES = ["licences:view", "licences:present", "cases:follow", "appointments:book"];
const MAX_DAYS = 364;  // the API allows 365 days; the end of the chosen day (China time) stays inside

const nodes = {};
let inviteOpen = false;
let codeTimer = null;

/* --- Dates ------------------------------------------------------------------------------------- */

function two(n) { return (n < 10 ? "0" : "") + n; }
function isoDay(d) { return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()); }
function daysAhead(n) { const d = new Date(); d.setDate(d.getDate() + n); return isoDay(d); }

/* --- The form ---------------------------------------------------------------------------------- */

/* The button that opens the form, and the form, into `parent`; `onSent(ctx)` once an invitation went. */
export function invitation(ctx, parent, onSent) {
  const open = nodes.inviteOpen = button(t("邀请亲友代办", "Invite a family member"), () => toggleInvite(true));
  open.id = "proxy-invite-open";
  parent.appendChild(open);
  parent.appendChild(inviteForm(ctx, onSent));
}

/* The list screen again: the form open or closed as it was left. */
export function showInvitation() { nodes.form.hidden = !inviteOpen; nodes.inviteOpen.hidden = inviteOpen; }

/* Signed out: the form starts closed next time. */
export function closeInvitation() { inviteOpen = false; }

function inviteForm(ctx, onSent) {
  const form = nodes.form = el("form", "card proxy-invite");
  form.id = "proxy-invite-form";
  form.autocomplete = "off";
  form.hidden = !inviteOpen;
  form.appendChild(el("h3", null, t("邀请亲友代办", "Invite a family member")));
  form.appendChild(el("p", "hint", t("对方须已注册并完成实名认证；姓名须与其实名信息一致。", "They must have an account with a verified real name; the name must match it.")));
  const phone = field("proxy-phone", t("亲友的手机号", "Their mobile number"),
    { type: "tel", inputmode: "numeric", maxlength: 11, pattern: "1[3-9][0-9]{9}", required: true, placeholder: t("11 位手机号", "11-digit number") });
  form.appendChild(phone.wrap);
  const name = field("proxy-name", t("亲友的真实姓名", "Their real name"), { maxlength: 64, required: true });
  form.appendChild(name.wrap);

  const scopes = el("fieldset", "proxy-scopes");
  scopes.appendChild(el("legend", null, t("可代办的事项", "What they may do for you")));
  SCOPES.forEach((scope) => {
    const row = el("label", "proxy-scope");
    const box = el("input");
    box.type = "checkbox";
    box.value = scope;
    box.id = "proxy-scope-" + scope.replace(":", "-");
    box.checked = scope !== "licences:present";
    row.appendChild(box);
    row.appendChild(el("span", null, scopeLabel(scope)));
    scopes.appendChild(row);
  });
  scopes.appendChild(el("p", "hint", t("电子签名等事项只能本人办理，不能授权。", "Signing and your account itself can only be handled by you.")));
  form.appendChild(scopes);

  const until = field("proxy-until", t("授权截止日期", "Valid until"), { type: "date", required: true, min: daysAhead(1), max: daysAhead(MAX_DAYS) });
  until.input.value = daysAhead(180);
  form.appendChild(until.wrap);

  const step = el("div", "proxy-step-up");
  step.appendChild(el("p", "hint", t("为保护您的账号，新增代办人需要发送到您本人手机的短信验证码。",
    "To protect your account, adding a proxy needs a code sent by SMS to your own phone.")));
  const code = field("proxy-code", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: 6, pattern: "[0-9]{6}", required: true, autocomplete: "one-time-code" });
  step.appendChild(code.wrap);
  const getCode = nodes.codeButton = button(t("获取验证码", "Get code"), () => sendCode(ctx), "secondary");
  getCode.id = "proxy-code-send";
  step.appendChild(getCode);
  const dev = nodes.devCode = el("p", "dev");
  dev.id = "proxy-dev-code";
  dev.hidden = true;
  step.appendChild(dev);
  form.appendChild(step);

  const submit = button(t("发送邀请", "Send the invitation"), null, "", "submit");
  submit.id = "proxy-invite-submit";
  form.appendChild(submit);
  const cancel = button(t("取消", "Cancel"), () => toggleInvite(false), "secondary");
  cancel.id = "proxy-invite-cancel";
  form.appendChild(cancel);
  form.addEventListener("submit", (e) => { e.preventDefault(); invite(ctx, submit, onSent); });
  return form;
}

function toggleInvite(open) {
  inviteOpen = open;
  nodes.form.hidden = !open;
  nodes.inviteOpen.hidden = open;
  if (open) { $("proxy-phone").focus(); }
}

/* --- Inviting ---------------------------------------------------------------------------------- */

function codeCountdown(seconds) {
  const b = nodes.codeButton;
  const until = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
  clearInterval(codeTimer);
  function tick() {
    if (!b.isConnected) { clearInterval(codeTimer); return; }
    const left = Math.ceil((until - Date.now()) / 1000);
    b.disabled = left > 0;
    b.textContent = left > 0 ? t("重新获取（" + left + " 秒）", "Resend (" + left + " s)") : t("获取验证码", "Get code");
    if (left <= 0) { clearInterval(codeTimer); }
  }
  tick();
  codeTimer = setInterval(tick, 1000);
}

function sendCode(ctx) {
  send(nodes.codeButton, () => ctx.api.call("POST", "/me/step-up/sms-codes", { purpose: "proxy_grant" }),
    t("验证码发送失败。", "The code could not be sent."), (r) => {
      codeCountdown(r.data.resend_after);
      say(t("验证码已发送至 " + (r.data.phone_masked || "您的手机"), "A code has been sent to " + (r.data.phone_masked || "your phone")), "info");
      return devCode(ctx, r.data.phone_masked);
    });
}

/* Development only: the code from the dev SMS outbox, the newest sent to a phone with this mask (the
 * page never learns the full number). In production there is no outbox and nothing happens. */
function devCode(ctx, masked) {
  const m = /^(\d{3})\*+(\d{4})$/.exec(masked || "");
  if (!m) { return null; }
  return ctx.api.send("GET", "/dev/sms-outbox").then((r) => {
    const items = (r.ok && r.data.items) || [];
    const hit = items.find((i) => String(i.phone).startsWith(m[1]) && String(i.phone).endsWith(m[2]));
    if (!hit) { return; }
    nodes.devCode.textContent = t("开发环境：验证码 " + hit.code + "（已自动填入，生产环境不显示）",
                                  "Development: code " + hit.code + " (filled in; not shown in production)");
    nodes.devCode.hidden = false;
    $("proxy-code").value = hit.code;
  }, () => { /* no outbox: production */ });
}

function invite(ctx, b, onSent) {
  const scopes = Array.prototype.slice.call(nodes.form.querySelectorAll(".proxy-scopes input:checked")).map((i) => i.value);
  if (!scopes.length) { say(t("请至少选择一项可代办的事项。", "Choose at least one thing they may do for you.")); return; }
  const until = $("proxy-until").value;
  const body = {
    phone: $("proxy-phone").value.trim(), name: $("proxy-name").value.trim(), scopes,
    expires_at: until ? until + "T23:59:59+08:00" : "", sms_code: $("proxy-code").value.trim(),
  };
  send(b, () => ctx.api.call("POST", "/proxies", body), t("邀请未能发出。", "The invitation could not be sent."), (r) => {
    const who = (r.data.proxy && r.data.proxy.name_masked) || body.name;
    nodes.form.reset();
    $("proxy-until").value = daysAhead(180);
    nodes.devCode.hidden = true;
    toggleInvite(false);
    say(t("已邀请 " + who + "，对方接受后授权生效。", "Invitation sent to " + who + ". It takes effect once they accept."), "info");
    onSent(ctx);
  });
}
