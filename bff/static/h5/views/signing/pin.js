/* The signing PIN's life cycle (issue 18): change it with the old one (#/signing/pin/change), reset a
 * forgotten one with a fresh face check and an SMS code (#/signing/pin/reset), and the locked state:
 * until when, and a button to the reset, which works while signing is locked.
 *
 * API: POST /signing/pin/change {old_pin, new_pin}; POST /signing/pin/reset {sms_code,
 * liveness_session_id, new_pin}; the step-up code from POST /me/step-up/sms-codes {purpose: "signing"};
 * the face check is a session of POST /me/liveness that the provider's SDK completes with its
 * biz_token — in development the page plays the provider (POST /dev/liveness/<id>/complete), as it
 * reads the SMS outbox. The session id lives only in this screen's memory. */
import { t } from "../../i18n.js";
import { button, el, field, formatTime, say } from "../../ui.js";
import { backButton, heading, pinField, screen, smsCodeButton, trouble } from "./common.js";

/* --- On the certificate card and after a 423 ------------------------------------------------------- */

/* The two ways to a new PIN, under the certificate. */
export function pinActions(ctx) {
  const row = el("div", "sg-pin-actions");
  row.id = "sg-pin-actions";
  const change = button(t("修改签名密码", "Change signing PIN"), () => ctx.go("signing/pin/change"), "secondary");
  change.id = "sg-pin-change-open";
  const reset = button(t("忘记签名密码", "Forgot signing PIN"), () => ctx.go("signing/pin/reset"), "secondary");
  reset.id = "sg-pin-reset-open";
  row.appendChild(change);
  row.appendChild(reset);
  return row;
}

/* Signing is locked until `until`: the time, and the way out now (the reset). */
export function lockedHelp(ctx, until) {
  const box = el("div", "sg-locked");
  box.id = "sg-locked";
  box.setAttribute("role", "alert");
  box.appendChild(el("p", null, t("电子签名已锁定至 " + formatTime(until) + "（北京时间），届时可再试；忘记签名密码可立即重设，重设后马上解除锁定。",
    "E-signature is locked until " + formatTime(until) + " (China time): try again then, or reset a forgotten PIN now, which lifts the lock at once.")));
  const go = button(t("重设签名密码", "Reset signing PIN"), () => ctx.go("signing/pin/reset"), "sg-danger");
  go.id = "sg-locked-reset";
  box.appendChild(go);
  return box;
}

/* After a refused answer: when it says signing is locked, the lock's help takes the place of `note`
 * (the message line above keeps the server's words). */
export function showLocked(ctx, r, note) {
  const old = document.getElementById("sg-locked");
  if (old) { old.remove(); }
  if (r && r.data && r.data.code === "signing_locked" && r.data.locked_until && note) {
    note.hidden = true;
    note.after(lockedHelp(ctx, r.data.locked_until));
  }
}

/* --- Pieces of the two forms ----------------------------------------------------------------------- */

function note(id) {
  const n = el("p", "sg-note");
  n.id = id;
  n.setAttribute("role", "alert");
  n.hidden = true;
  return n;
}

function tell(n, text) { n.textContent = text; n.hidden = false; }

/* The new PIN twice: checked on the phone for shape and sameness (the rules are the server's). */
function newPinFields(prefix) {
  const pin = pinField(prefix + "-new", t("新签名密码（6 位数字）", "New signing PIN (6 digits)"));
  const again = pinField(prefix + "-new2", t("再次输入新签名密码", "New signing PIN again"));
  return { pin, again, wraps: [pin.wrap, again.wrap] };
}

function newPinProblem(fields) {
  if (!/^\d{6}$/.test(fields.pin.input.value)) { return t("签名密码须为 6 位数字。", "The signing PIN must be 6 digits."); }
  if (fields.pin.input.value !== fields.again.input.value) { return t("两次输入的新签名密码不一致。", "The two new PINs are not the same."); }
  return null;
}

function clearPins(inputs) { inputs.forEach((i) => { i.value = ""; }); }

/* Back to the signing home, then the confirmation (the shell clears the message line on a route change). */
function done(ctx, text) {
  window.addEventListener("hashchange", () => say(text, "info"), { once: true });
  ctx.go("signing");
}

function card(title, hint) {
  const box = el("div", "card sg-pin");
  box.appendChild(el("h3", null, title));
  box.appendChild(el("p", "hint", hint));
  return box;
}

/* --- Change: old PIN, new PIN ---------------------------------------------------------------------- */

function changeScreen(ctx) {
  screen.section.appendChild(heading(t("修改签名密码", "Change signing PIN")));
  const box = card(t("修改签名密码", "Change signing PIN"), t("输入当前签名密码和新的签名密码。当前密码输错会计入锁定次数；签名证书不变，此后只能用新密码签名。",
    "Enter your current signing PIN and a new one. A wrong current PIN counts toward the lock; your certificate stays the same and from now on signs only with the new PIN."));
  const form = el("form", "sg-pin-form");
  form.id = "sg-pin-change";
  form.setAttribute("autocomplete", "off");
  const old = pinField("sg-pin-old", t("当前签名密码", "Current signing PIN"));
  const fresh = newPinFields("sg-pin");
  const n = note("sg-pin-change-note");
  const submit = button(t("确认修改", "Change PIN"), null, null, "submit");
  submit.id = "sg-pin-change-submit";
  [old.wrap, ...fresh.wraps, n, submit].forEach((x) => form.appendChild(x));
  box.appendChild(form);
  box.appendChild(button(t("忘记签名密码？", "Forgot your signing PIN?"), () => ctx.go("signing/pin/reset"), "secondary sg-pin-forgot"));
  screen.section.appendChild(box);
  screen.section.appendChild(backButton(ctx));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("");
    n.hidden = true;
    showLocked(ctx, null, n);
    if (!/^\d{6}$/.test(old.input.value)) { tell(n, t("请输入 6 位当前签名密码。", "Enter your current 6-digit signing PIN.")); return; }
    const wrong = newPinProblem(fresh);
    if (wrong) { tell(n, wrong); return; }
    submit.disabled = true;
    ctx.api.call("POST", "/signing/pin/change", { old_pin: old.input.value, new_pin: fresh.pin.input.value }).then((r) => {
      submit.disabled = false;
      old.input.value = "";
      if (!r.ok) {
        trouble(ctx, r, n, t("修改失败。", "The PIN could not be changed."));
        showLocked(ctx, r, n);
        return;
      }
      clearPins([fresh.pin.input, fresh.again.input]);
      done(ctx, t("签名密码已修改，此后请用新密码签名。", "Your signing PIN has been changed: sign with the new PIN from now on."));
    }, () => { submit.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
}

/* --- Reset: face check, SMS code, new PIN ---------------------------------------------------------- */

/* The face check: a liveness session, completed by the provider (in development, by this page). */
function faceCheck(ctx, state) {
  const step = el("div", "sg-live");
  step.id = "sg-live";
  const status = el("p", "hint");
  status.id = "sg-live-status";
  status.textContent = t("第一步：人脸核验（确认是您本人）。", "Step 1: a face check (that it is you).");
  const start = button(t("开始人脸核验", "Start the face check"), null, "secondary");
  start.id = "sg-live-start";
  const dev = el("p", "dev");
  dev.id = "sg-live-dev";
  dev.hidden = true;
  [status, start, dev].forEach((x) => step.appendChild(x));
  start.addEventListener("click", () => {
    say("");
    start.disabled = true;
    state.session = null;
    ctx.api.call("POST", "/me/liveness").then((r) => {
      if (!r.ok) { start.disabled = false; ctx.problem(r, t("人脸核验无法开始。", "The face check could not start.")); return null; }
      const id = r.data.session_id;
      return ctx.api.send("POST", "/dev/liveness/" + encodeURIComponent(id) + "/complete", { passed: true }).then((d) => {
        start.disabled = false;
        if (!d.ok) {
          status.textContent = t("请在一网 App 中完成人脸核验后再重设签名密码。", "Please complete the face check in the YiWang app, then reset your PIN.");
          return;
        }
        state.session = id;
        dev.textContent = t("开发环境：已模拟人脸核验通过（生产环境由核验服务完成）", "Development: the face check was passed for you (in production the provider does it)");
        dev.hidden = false;
        status.textContent = t("人脸核验已完成。", "Face check done.");
        step.setAttribute("data-done", "true");
        start.textContent = t("重新核验", "Check again");
      }, () => { start.disabled = false; });
    }, () => { start.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
  return step;
}

function resetScreen(ctx) {
  screen.section.appendChild(heading(t("忘记签名密码", "Forgot signing PIN")));
  const box = card(t("重设签名密码", "Reset signing PIN"), t("忘记签名密码时，完成人脸核验并输入发送到绑定手机的短信验证码，即可设置新的签名密码；锁定期间也可重设，重设后立即解除锁定。签名证书不变，原密码作废。",
    "If you forgot your signing PIN, pass a face check and enter the SMS code sent to your bound phone to set a new one. This works while signing is locked and lifts the lock. Your certificate stays the same; the old PIN no longer works."));
  const state = { session: null };
  const form = el("form", "sg-pin-form");
  form.id = "sg-pin-reset";
  form.setAttribute("autocomplete", "off");
  const code = field("sg-reset-code", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                                                                  required: true, autocomplete: "one-time-code" });
  const sendLabel = () => t("获取验证码", "Get code");
  const send = button(sendLabel(), null, "secondary");
  send.id = "sg-reset-send";
  const dev = el("p", "dev");
  dev.id = "sg-reset-dev";
  dev.hidden = true;
  const fresh = newPinFields("sg-reset");
  const n = note("sg-pin-reset-note");
  const submit = button(t("重设签名密码", "Reset PIN"), null, null, "submit");
  submit.id = "sg-pin-reset-submit";
  [faceCheck(ctx, state), el("p", "hint", t("第二步：短信验证码。", "Step 2: the SMS code.")), code.wrap, send, dev,
   el("p", "hint", t("第三步：新的签名密码。", "Step 3: the new signing PIN.")), ...fresh.wraps, n, submit].forEach((x) => form.appendChild(x));
  box.appendChild(form);
  screen.section.appendChild(box);
  screen.section.appendChild(backButton(ctx));

  smsCodeButton(ctx, { button: send, label: sendLabel, note: n, input: code.input, dev,
                       ask: () => ctx.api.call("POST", "/me/step-up/sms-codes", { purpose: "signing" }) });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("");
    n.hidden = true;
    if (!state.session) { tell(n, t("请先完成人脸核验。", "Please do the face check first.")); return; }
    if (!/^\d{6}$/.test(code.input.value.trim())) { tell(n, t("请输入 6 位短信验证码。", "Enter the 6-digit SMS code.")); return; }
    const wrong = newPinProblem(fresh);
    if (wrong) { tell(n, wrong); return; }
    submit.disabled = true;
    const body = { sms_code: code.input.value.trim(), liveness_session_id: state.session, new_pin: fresh.pin.input.value };
    ctx.api.call("POST", "/signing/pin/reset", body).then((r) => {
      submit.disabled = false;
      if (!r.ok) {
        if (r.data.code === "liveness_required") { forgetFaceCheck(state); }
        trouble(ctx, r, n, t("重设失败。", "The PIN could not be reset."));
        return;
      }
      state.session = null;
      clearPins([fresh.pin.input, fresh.again.input, code.input]);
      done(ctx, t("签名密码已重设，电子签名已解除锁定，请用新密码签名。", "Your signing PIN has been reset and e-signature is unlocked: sign with the new PIN."));
    }, () => { submit.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
}

/* A face check is spent by one attempt: do it again. */
function forgetFaceCheck(state) {
  state.session = null;
  const step = document.getElementById("sg-live");
  if (!step) { return; }
  step.removeAttribute("data-done");
  document.getElementById("sg-live-status").textContent = t("请重新完成人脸核验。", "Please do the face check again.");
  document.getElementById("sg-live-dev").hidden = true;
}

/* #/signing/pin/change or #/signing/pin/reset. */
export function pinScreen(ctx, which) {
  if (which === "reset") { resetScreen(ctx); } else { changeScreen(ctx); }
}
