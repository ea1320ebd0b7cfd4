/* The step-up prompt (issue 19): a request refused with 403 and a `step_up_url` (step_up_required: the
 * level was reached but not recently enough; assurance_level_insufficient: never reached) is caught
 * once by the shared client (/static/web/api.js, `onStepUp`); this dialog asks GET <step_up_url> for
 * the methods that reach the level, runs the one the person picks, and resolves true so the client
 * asks the refused request again, unchanged. Cancel resolves false: the refusal is then said as it is.
 *
 * Methods (GET /me/step-up answers {required_level, max_age, methods: [{method, level, start}]}):
 * - face: POST /me/liveness, the provider's SDK (development: this page plays it, POST
 *   /dev/liveness/<id>/complete), POST /me/liveness/<id>/confirm (an L3 event);
 * - ncid: POST /me/ncid/sessions {purpose: "step_up"}, the national app (views/ncid.js), POST
 *   /me/ncid/step-up (an event at the 网证 mode's level);
 * - sms: POST /me/step-up/sms {purpose}, the code, POST /me/step-up/sms/verify (a fresh L2 only).
 * - identity_consent_required (a 网号 account's identity data, once per purpose): the same catch opens a
 *   consent prompt instead — POST /me/ncid/sessions {purpose: "consent"}, the national app,
 *   POST <consent_url> {purpose, biz_seq, …} — then the same request again.
 * Calls here go through `ctx.api.authed` (no step-up catch: a refusal inside the prompt is said in
 * it, it never opens a second prompt). */
import { API, parse } from "/static/web/api.js";
import { t } from "../i18n.js";
import { button, el, field, say } from "../ui.js";
import { nationalApp } from "./ncid.js";

let open = null;  // {box, finish}

const NAMES = {
  face: ["人脸核验", "Face check"],
  ncid: ["国家网络身份认证（网证）", "National network identity"],
  sms: ["短信验证码", "SMS code"],
};

function call(ctx, method, path, body) {
  return ctx.api.authed(method, path, { body }).then(parse);
}

/* "/api/v1/me/liveness" → "/me/liveness" (a path of this API only; anything else: null). */
function local(url) {
  if (typeof url !== "string") { return null; }
  if (url.indexOf(API + "/") === 0) { return url.slice(API.length); }
  return url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
}

function refused(r, fallback) { return (r && r.data && r.data.detail) || fallback; }

/* --- The methods: each resolves true (done) or a sentence saying why not ----------------------- */

function face(ctx, m, note) {
  return call(ctx, "POST", local(m.start && m.start.url) || "/me/liveness").then((r) => {
    if (!r.ok) { return refused(r, t("人脸核验无法开始。", "The face check could not start.")); }
    const id = encodeURIComponent(r.data.session_id);
    note(t("请按提示完成人脸核验…", "Follow the prompts to complete the face check…"));
    return ctx.api.send("POST", "/dev/liveness/" + id + "/complete", { passed: true }).then((d) => {
      if (d.ok) { note(t("开发环境：已模拟人脸核验通过（生产环境由核验服务完成）", "Development: the face check was passed for you (in production the provider does it)")); }
      return call(ctx, "POST", "/me/liveness/" + id + "/confirm");
    }).then((c) => (c.ok ? true : refused(c, t("人脸核验未通过。", "The face check did not pass."))));
  });
}

function ncid(ctx, m) {
  return call(ctx, "POST", local(m.start && m.start.url) || "/me/ncid/sessions", { purpose: "step_up" }).then((s) => {
    if (!s.ok) { return refused(s, t("国家网络身份认证暂时无法使用。", "The national network identity service is unavailable now.")); }
    return nationalApp(ctx, s.data, "step_up").then((proof) => {
      if (!proof) { return t("未完成国家网络身份认证。", "The national network identity check was not completed."); }
      return call(ctx, "POST", "/me/ncid/step-up", Object.assign({ biz_seq: s.data.biz_seq }, proof))
        .then((r) => (r.ok ? true : refused(r, t("国家网络身份认证未通过。", "The national network identity check failed."))));
    });
  });
}

function sms(ctx, m, note, box, purpose) {
  const start = local(m.start && m.start.url) || "/me/step-up/sms";
  return call(ctx, "POST", start, { purpose }).then((r) => {
    if (!r.ok) { return refused(r, t("验证码发送失败。", "The code could not be sent.")); }
    return new Promise((resolve) => {
      const form = el("form", "stepup-sms");
      form.id = "stepup-sms";
      form.setAttribute("autocomplete", "off");
      const code = field("stepup-code", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{4,8}",
                                                                   required: true, autocomplete: "one-time-code" });
      const dev = el("p", "dev");
      dev.id = "stepup-dev-code";
      dev.hidden = true;
      const go = button(t("验证", "Verify"), null, null, "submit");
      go.id = "stepup-sms-ok";
      [code.wrap, dev, go].forEach((x) => form.appendChild(x));
      box.appendChild(form);
      note(t("验证码已发送到您绑定的手机。", "A code has been sent to your bound phone."));
      ctx.api.send("GET", "/dev/sms-outbox").then((o) => {  // development only: the newest code, filled in
        const items = o.ok && o.data.items;
        if (!items || !items.length) { return; }
        code.input.value = items[0].code;
        dev.textContent = t("开发环境：验证码 " + items[0].code + "（已自动填入，生产环境不显示）",
                            "Development: code " + items[0].code + " (filled in; not shown in production)");
        dev.hidden = false;
      }, () => {});
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        go.disabled = true;
        call(ctx, "POST", start.replace(/\/?$/, "/verify"), { purpose, code: code.input.value.trim() }).then((v) => {
          go.disabled = false;
          if (v.ok) { form.remove(); resolve(true); return; }
          note(refused(v, t("验证码错误。", "Wrong code.")));
        }, () => { go.disabled = false; });
      });
    });
  });
}

const RUN = { face, ncid, sms };

/* --- The dialog ------------------------------------------------------------------------------- */

function levelLine(p) {
  const minutes = p.max_age ? Math.max(1, Math.round(Number(p.max_age) / 60)) : 0;
  const level = p.required_level || "";
  return minutes ? t("此操作需要 " + minutes + " 分钟内完成 " + level + " 级身份核验。", "This needs a " + level + " identity check within the last " + minutes + " min.")
                 : t("此操作需要 " + level + " 级身份核验。", "This needs a " + level + " identity check.");
}

/* Consent (identity_consent_required, 网号 accounts): a 网号 session {purpose: "consent"}, the national app,
 * POST <consent_url> {purpose, …}: the platform releases the identity once, for this purpose. */
function consent(ctx, problem, note) {
  return call(ctx, "POST", "/me/ncid/sessions", { purpose: "consent" }).then((s) => {
    if (!s.ok) { return refused(s, t("国家网络身份认证暂时无法使用。", "The national network identity service is unavailable now.")); }
    return nationalApp(ctx, s.data, "consent").then((proof) => {
      if (!proof) { return t("未完成国家网络身份认证。", "The national network identity check was not completed."); }
      note(t("正在提交…", "Sending…"));
      return call(ctx, "POST", local(problem.consent_url) || "/me/identity-consents",
                  Object.assign({ purpose: problem.purpose, biz_seq: s.data.biz_seq }, proof))
        .then((r) => (r.ok ? true : refused(r, t("未能取得您的同意。", "Your consent could not be recorded."))));
    });
  });
}

/* The prompt for one refusal (`problem`: the 403 body); resolves true when the person stepped up (or,
 * for identity_consent_required, consented). */
export function stepUpPrompt(ctx, problem) {
  if (open) { open.finish(false); }
  if (problem.code === "identity_consent_required") { return consentPrompt(ctx, problem); }
  const purpose = (new URLSearchParams(String(problem.step_up_url).split("?")[1] || "")).get("purpose") || "";
  return new Promise((resolve) => {
    const box = el("div", "stepup");
    box.id = "stepup";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("data-code", String(problem.code || ""));
    const card = el("div", "card stepup-card");
    const title = el("h2", null, t("请验证身份", "Verify it is you"));
    title.id = "stepup-title";
    box.setAttribute("aria-labelledby", title.id);
    card.appendChild(title);
    const why = el("p", "hint");
    why.id = "stepup-why";
    why.textContent = problem.detail || levelLine(problem);
    card.appendChild(why);
    const methods = el("div", "stepup-methods");
    methods.id = "stepup-methods";
    card.appendChild(methods);
    const status = el("p", "hint");
    status.id = "stepup-status";
    status.setAttribute("aria-live", "polite");
    card.appendChild(status);
    const work = el("div", "stepup-work");
    card.appendChild(work);
    const cancel = button(t("取消", "Cancel"), null, "secondary");
    cancel.id = "stepup-cancel";
    card.appendChild(cancel);
    box.appendChild(card);
    document.body.appendChild(box);

    function finish(ok) {
      if (open && open.box === box) { open = null; }
      box.remove();
      resolve(ok);
    }
    open = { box, finish };
    const note = (text) => { status.textContent = text || ""; };
    cancel.addEventListener("click", () => finish(false));  // the caller then says the refusal as it is

    call(ctx, "GET", local(problem.step_up_url)).then((r) => {
      if (!box.isConnected) { return; }
      if (!r.ok || !Array.isArray(r.data.methods) || !r.data.methods.length) {
        note(refused(r, t("暂时无法进行身份核验。", "Identity checks are unavailable now.")));
        return;
      }
      if (!problem.detail) { why.textContent = levelLine(r.data); }
      r.data.methods.forEach((m) => {
        const name = NAMES[m.method] || [m.method, m.method];
        const b = button(t(name[0], name[1]) + (m.level ? " · " + m.level : ""), null, "secondary stepup-method");
        b.id = "stepup-" + m.method;
        b.setAttribute("data-method", m.method);
        b.addEventListener("click", () => {
          if (!RUN[m.method]) { return; }
          methods.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          note("");
          RUN[m.method](ctx, m, note, work, purpose).then((done) => {
            if (!box.isConnected) { return; }
            if (done === true) {
              finish(true);
              say(t("身份已核验，正在继续办理…", "Verified: carrying on…"), "info");
              return;
            }
            methods.querySelectorAll("button").forEach((x) => { x.disabled = false; });
            note(done);
          }, () => {
            methods.querySelectorAll("button").forEach((x) => { x.disabled = false; });
            note(t("网络异常，请稍后再试。", "Network error. Please try again."));
          });
        });
        methods.appendChild(b);
      });
    }, () => note(t("网络异常，请稍后再试。", "Network error. Please try again.")));
  });
}

/* The consent prompt: why the feature needs the identity (the refusal's detail), agree or cancel. */
function consentPrompt(ctx, problem) {
  return new Promise((resolve) => {
    const box = el("div", "stepup");
    box.id = "stepup";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("data-code", "identity_consent_required");
    const card = el("div", "card stepup-card");
    const title = el("h2", null, t("需要您的身份信息", "Your identity data is needed"));
    title.id = "stepup-title";
    box.setAttribute("aria-labelledby", title.id);
    card.appendChild(title);
    const why = el("p", "hint", problem.detail || "");
    why.id = "stepup-why";
    card.appendChild(why);
    const status = el("p", "hint");
    status.id = "stepup-status";
    status.setAttribute("aria-live", "polite");
    const agree = button(t("同意并通过国家网络身份认证提供", "Agree, via the national network identity"), null);
    agree.id = "stepup-consent";
    const cancel = button(t("取消", "Cancel"), null, "secondary");
    cancel.id = "stepup-cancel";
    [agree, status, cancel].forEach((x) => card.appendChild(x));
    box.appendChild(card);
    document.body.appendChild(box);
    function finish(ok) {
      if (open && open.box === box) { open = null; }
      box.remove();
      resolve(ok);
    }
    open = { box, finish };
    cancel.addEventListener("click", () => finish(false));
    agree.addEventListener("click", () => {
      agree.disabled = true;
      status.textContent = "";
      consent(ctx, problem, (text) => { status.textContent = text || ""; }).then((done) => {
        if (!box.isConnected) { return; }
        if (done === true) { finish(true); say(t("已同意，正在继续办理…", "Consent given: carrying on…"), "info"); return; }
        agree.disabled = false;
        status.textContent = done;
      }, () => { agree.disabled = false; status.textContent = t("网络异常，请稍后再试。", "Network error. Please try again."); });
    });
  });
}

/* Close the prompt (signed out): the waiting request gets its refusal. */
export function closeStepUp() { if (open) { open.finish(false); } }
