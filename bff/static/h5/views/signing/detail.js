/* A signing request's screen (what will be signed, who signs, who asked, until when; authorise with
 * the PIN and the SMS code when the server asks for one, or refuse with an optional reason) and a
 * batch's (its documents and their digests before the PIN; one authorisation signs them all). */
import { t } from "../../i18n.js";
import { $, button, clear, el, field, formatTime, say } from "../../ui.js";
import {
  backButton, expired, fact, grouped, heading, pinField, requester, screen, size, smsCodeButton, status, statusLabel,
  tail, trouble,
} from "./common.js";
import { showLocked } from "./pin.js";

const REASON_MAX = 200;  // the API's limit on a refusal reason

/* --- A request: what will be signed, authorise or refuse ------------------------------------------------ */

export function request(ctx, id) {
  const gen = screen.shown;
  const box = el("div", "card sg-detail");
  box.id = "sg-detail";
  box.appendChild(el("p", "hint", t("正在读取签署请求…", "Reading the signing request…")));
  screen.section.appendChild(heading(t("签署请求", "Signing request")));
  screen.section.appendChild(box);
  screen.section.appendChild(backButton(ctx));
  Promise.all([ctx.api.call("GET", "/signing/requests/" + encodeURIComponent(id)), ctx.api.call("GET", "/signing/certificate")])
    .then(([r, c]) => {
      if (gen !== screen.shown) { return; }
      clear(box);
      if (!r.ok) { trouble(ctx, r, null); box.appendChild(el("p", "hint", $("message").textContent)); return; }
      const req = r.data;
      box.setAttribute("data-request", req.id);
      box.setAttribute("data-status", status(req));
      box.appendChild(docTop(req.title, req));
      box.appendChild(requestFacts(req, c.ok ? c.data : null));
      if (req.status === "signed") { signedWith(ctx, req, gen); }
      if (status(req) === "pending" && !req.batch_id) {
        box.appendChild(authorise(ctx, req, "requests"));
        box.appendChild(refuse(ctx, req));
      } else if (req.batch_id && status(req) === "pending") {
        box.appendChild(button(t("按批次授权", "Authorise the whole batch"), () => ctx.go("signing/batches/" + req.batch_id)));
      }
    });
}

/* A request's (or batch's) title and its status tag. */
function docTop(text, req) {
  const top = el("div", "sg-cert-top");
  const title = el("h3", null, text);
  title.id = "sg-doc-title";
  top.appendChild(title);
  const tag = el("span", "tag sg-status-" + status(req), statusLabel(req));
  tag.id = "sg-doc-status";
  top.appendChild(tag);
  return top;
}

/* A signed request: the certificate it was signed with (its signature among the latest ones). */
function signedWith(ctx, req, gen) {
  ctx.api.call("GET", "/signing/signatures?limit=50").then((r) => {
    const facts = $("sg-facts");
    const sig = r.ok && r.data.items.find((s) => s.request_id === req.id);
    if (gen !== screen.shown || !facts || !sig) { return; }
    fact(facts, t("签名证书", "Certificate"), grouped(sig.certificate_serial), "mono");
  });
}

function requestFacts(req, cert) {
  const facts = el("dl", "sg-facts");
  facts.id = "sg-facts";
  const subject = (cert && cert.subject) || {};
  fact(facts, t("签署人", "Signer"), [subject.name_masked, subject.id_number_masked].filter(Boolean).join(" · ") +
    (cert ? t("（证书尾号 ", " (certificate …") + tail(cert.serial) + t("）", ")") : ""));
  fact(facts, t("发起方", "Requested by"), requester(req), "sg-by");
  fact(facts, t("文件大小", "Document size"), size(req.document_size));
  fact(facts, t("文件 SM3 摘要", "Document SM3 digest"), grouped(req.document_sm3), "mono sg-digest");
  fact(facts, t("待签名值 e = SM3(Z‖M)", "Value signed, e = SM3(Z‖M)"), grouped(req.e_hex), "mono sg-e");
  fact(facts, t("发起时间", "Requested"), formatTime(req.created_at));
  if (req.status === "signed") { fact(facts, t("签署时间", "Signed at"), formatTime(req.signed_at, { seconds: true })); }
  if (req.status === "refused") { refusedFacts(facts, req); }
  if (status(req) === "pending" || status(req) === "expired") {
    fact(facts, t("签署截止", "Sign by"), formatTime(req.expires_at) + (expired(req) ? t("（已过期）", " (expired)") : ""));
    if (!expired(req)) {
      facts.appendChild(el("p", "hint sg-check", t("请先核对文件名称、发起方与 SM3 摘要，再用签名密码授权。",
        "Check the document's name, who asked and the SM3 digest before you authorise with your PIN.")));
    }
  }
  return facts;
}

/* When the request was refused, and the reason the citizen gave (their own words, as written). */
function refusedFacts(facts, req) {
  fact(facts, t("拒绝时间", "Refused at"), formatTime(req.refused_at));
  fact(facts, t("拒绝原因", "Reason for refusing"), req.refusal_reason || t("未填写", "None given"), "sg-reason");
}

/* The PIN form (and the SMS code when the server requires one) for a request or a batch. */
function authorise(ctx, target, kind) {
  const form = el("form", "sg-auth");
  form.id = "sg-auth";
  form.setAttribute("autocomplete", "off");
  const pin = pinField("sg-pin", t("签名密码", "Signing PIN"));
  const code = field("sg-sms", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                                                            autocomplete: "one-time-code" });
  code.wrap.hidden = true;
  const sendLabel = () => t("获取短信验证码", "Get SMS code");
  const sendCode = button(sendLabel(), null, "secondary");
  sendCode.id = "sg-sms-send";
  sendCode.hidden = true;
  const dev = el("p", "dev");
  dev.id = "sg-sms-dev";
  dev.hidden = true;
  const note = el("p", "sg-note");
  note.id = "sg-auth-note";
  note.setAttribute("role", "alert");
  note.hidden = true;
  const submit = button(t("授权签署", "Authorise and sign"), null, null, "submit");
  submit.id = "sg-authorise";
  [pin.wrap, code.wrap, sendCode, dev, note, submit].forEach((n) => form.appendChild(n));
  const path = "/signing/" + kind + "/" + encodeURIComponent(target.id);

  function needSms() {
    code.wrap.hidden = false;
    sendCode.hidden = false;
    code.input.required = true;
  }

  smsCodeButton(ctx, { button: sendCode, label: sendLabel, note, input: code.input, dev,
                       ask: () => ctx.api.call("POST", path + "/sms-code") });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("");
    note.hidden = true;
    if (!/^\d{6}$/.test(pin.input.value)) { note.textContent = t("签名密码须为 6 位数字。", "The signing PIN must be 6 digits."); note.hidden = false; return; }
    const body = { pin: pin.input.value };
    if (code.input.value.trim()) { body.sms_code = code.input.value.trim(); }
    submit.disabled = true;
    ctx.api.call("POST", path + "/authorize", body).then((r) => {
      submit.disabled = false;
      pin.input.value = "";
      if (!r.ok) {
        if (["sms_code_required", "sms_code_invalid", "sms_code_expired"].indexOf(r.data.code) >= 0) { needSms(); }
        trouble(ctx, r, note, t("签署失败。", "Signing failed."));
        showLocked(ctx, r, note);
        return;
      }
      const signatures = r.data.signatures || [r.data];
      const sig = signatures[0];
      form.replaceWith(signedCard(ctx, signatures));
      const status = $("sg-doc-status");
      if (status) { status.textContent = t("已签署", "Signed"); status.className = "tag sg-status-signed"; }
      const refuseBox = $("sg-refuse");
      if (refuseBox) { refuseBox.remove(); }
      say(t("已签署“" + sig.title + "”。", "Signed “" + sig.title + "”."), "info");
    }, () => { submit.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
  return form;
}

function signedCard(ctx, signatures) {
  const box = el("div", "sg-done");
  box.id = "sg-done";
  box.setAttribute("role", "status");
  box.appendChild(el("h3", null, t("签署完成", "Signed")));
  const facts = el("dl", "sg-facts");
  signatures.forEach((s) => {
    fact(facts, t("文件", "Document"), s.title);
    fact(facts, t("签署时间", "Signed at"), formatTime(s.signed_at, { seconds: true }));
  });
  fact(facts, t("签名证书", "Certificate"), grouped(signatures[0].certificate_serial), "mono");
  box.appendChild(facts);
  box.appendChild(button(t("查看已签署的文件", "See my signed documents"), () => ctx.go("signing"), null));
  return box;
}

function refuse(ctx, req) {
  const box = el("div", "sg-refuse");
  box.id = "sg-refuse";
  const ask = button(t("拒绝签署", "Refuse to sign"), null, "secondary sg-danger");
  ask.id = "sg-refuse-ask";
  const confirm = el("div", "sg-confirm");
  confirm.id = "sg-refuse-confirm";
  confirm.hidden = true;
  confirm.appendChild(el("p", null, t("拒绝后该请求即作废，不能再授权签名；如需签署须重新发起。确定拒绝签署“" + req.title + "”？",
    "Once refused, this request is void and can no longer be signed; to sign later, a new request is needed. Refuse to sign “" + req.title + "”?")));
  const reason = field("sg-refuse-reason", t("拒绝原因（可不填，" + REASON_MAX + " 字以内，仅您本人可见）",
    "Reason (optional, up to " + REASON_MAX + " characters, seen only by you)"), { maxlength: String(REASON_MAX), autocomplete: "off" });
  reason.input.placeholder = t("例如：金额与约定不符", "e.g. The amount is not what was agreed");
  const yes = button(t("确认拒绝", "Yes, refuse"), null, "sg-danger");
  yes.id = "sg-refuse-yes";
  const no = button(t("取消", "Cancel"), () => { confirm.hidden = true; ask.hidden = false; }, "secondary");
  confirm.appendChild(reason.wrap);
  confirm.appendChild(yes);
  confirm.appendChild(no);
  box.appendChild(ask);
  box.appendChild(confirm);
  ask.addEventListener("click", () => { ask.hidden = true; confirm.hidden = false; });
  yes.addEventListener("click", () => {
    say("");
    yes.disabled = true;
    const text = reason.input.value.trim();
    ctx.api.call("POST", "/signing/requests/" + encodeURIComponent(req.id) + "/refuse", text ? { reason: text } : {}).then((r) => {
      yes.disabled = false;
      if (!r.ok) { trouble(ctx, r, null, t("拒绝失败。", "Could not refuse.")); return; }
      const form = $("sg-auth");
      if (form) { form.remove(); }
      clear(box);
      const done = el("p", "sg-refused", t("您已拒绝签署该文件，请求已作废。", "You refused to sign this document; the request is void."));
      done.id = "sg-refused";
      done.setAttribute("role", "status");
      box.appendChild(done);
      const facts = $("sg-facts");
      if (facts) { [...facts.querySelectorAll(".sg-check")].forEach((n) => n.remove()); refusedFacts(facts, r.data); }
      const tag = $("sg-doc-status");
      if (tag) { tag.textContent = t("已拒绝", "Refused"); tag.className = "tag sg-status-refused"; }
      say(t("已拒绝签署“" + req.title + "”。", "Refused to sign “" + req.title + "”."), "info");
    }, () => { yes.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
  return box;
}

/* --- A batch: its documents, one authorisation for all of them ------------------------------------ */

export function batch(ctx, id) {
  const gen = screen.shown;
  const box = el("div", "card sg-detail");
  box.id = "sg-detail";
  box.setAttribute("data-batch", id);
  box.appendChild(el("p", "hint", t("正在读取批量签署请求…", "Reading the batch…")));
  screen.section.appendChild(heading(t("批量签署", "Batch signing")));
  screen.section.appendChild(box);
  screen.section.appendChild(backButton(ctx));
  ctx.api.call("GET", "/signing/batches/" + encodeURIComponent(id)).then((r) => {
    if (gen !== screen.shown) { return; }
    clear(box);
    if (!r.ok) { trouble(ctx, r, null); box.appendChild(el("p", "hint", $("message").textContent)); return; }
    const b = r.data;
    box.setAttribute("data-status", status(b));
    box.appendChild(docTop(t(b.items.length + " 份文件", b.items.length + " documents"), b));
    const facts = el("dl", "sg-facts");
    facts.id = "sg-facts";
    fact(facts, t("发起方", "Requested by"), requester(b), "sg-by");
    fact(facts, t("发起时间", "Requested"), formatTime(b.created_at));
    if (status(b) !== "signed") { fact(facts, t("签署截止", "Sign by"), formatTime(b.expires_at) + (expired(b) ? t("（已过期）", " (expired)") : "")); }
    box.appendChild(facts);
    const docs = el("ol", "sg-docs");
    docs.id = "sg-docs";
    b.items.forEach((d) => {
      const li = el("li", "sg-doc");
      li.setAttribute("data-request", d.id);
      li.appendChild(el("strong", null, d.title));
      const list = el("dl", "sg-facts");
      fact(list, t("文件大小", "Document size"), size(d.document_size));
      fact(list, t("文件 SM3 摘要", "Document SM3 digest"), grouped(d.document_sm3), "mono sg-digest");
      fact(list, t("待签名值 e = SM3(Z‖M)", "Value signed, e = SM3(Z‖M)"), grouped(d.e_hex), "mono sg-e");
      li.appendChild(list);
      docs.appendChild(li);
    });
    box.appendChild(docs);
    if (status(b) === "pending") {
      box.appendChild(el("p", "hint sg-check", t("请逐份核对以上文件后再授权：一次授权将签署该批次的全部文件，全部签署或全部不签。",
        "Check each document above before you authorise: one authorisation signs every document of the batch, all or none.")));
      box.appendChild(authorise(ctx, { id }, "batches"));
    }
  });
}
