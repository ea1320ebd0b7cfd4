/* 电子签名 (cloud signing): the certificate or enrolment, the requests waiting for the citizen, a
 * request's detail (what will be signed: its SM3 digests, who signs, who asked, until when) with
 * authorise (PIN, and the SMS code when the server asks for one) and refuse (with an optional
 * reason), a batch with its documents, and the signed documents.
 *
 * Routes are the signing notices' deep links: #/signing, #/signing/requests/<id>,
 * #/signing/batches/<id>, #/signing/certificate/<serial>. The waiting ones come from
 * GET /signing/requests?status=pending (a batch's documents grouped under their batch_id), a batch's
 * documents from GET /signing/batches/<id>.
 *
 * Signing is always the signed-in person's own (ctx.api, never the acting-for client). A wrong PIN's
 * answer is shown inline next to the PIN too (the wrong-PIN security notice arriving on the live
 * stream takes over the message line). */
import { t } from "../i18n.js";
import { $, button, clear, el, empty, field, formatTime, item, say } from "../ui.js";

const PENDING_PAGES = 3;  // pages of 50 waiting requests read (a batch's documents count one each)
const REASON_MAX = 200;   // the API's limit on a refusal reason
let shown = 0;            // the screen generation: answers for an earlier screen are dropped
let section = null;
let here = { screen: null, id: null };

/* --- Small pieces -------------------------------------------------------------------------------- */

/* A hex digest in groups of four (a person compares it group by group). */
function grouped(hex) { return String(hex || "").toLowerCase().match(/.{1,4}/g)?.join(" ") || ""; }

function tail(serial) { return String(serial || "").slice(-8).toUpperCase(); }

/* The status as the server says it (`expired`: pending past its time), or the phone's clock says it. */
function status(req) { return req.status === "pending" && expired(req) ? "expired" : req.status; }

function statusLabel(req) {
  return { pending: t("待签署", "Waiting for you"), signed: t("已签署", "Signed"), refused: t("已拒绝", "Refused"),
           expired: t("已过期", "Expired") }[status(req)] || req.status;
}

function expired(req) {
  return req.status === "expired" || (!!req.expires_at && new Date(req.expires_at).getTime() <= Date.now());
}

/* Who asked for the signature: a department's registered name, or the citizen's own app. */
function requester(req) {
  const by = req.requested_by || {};
  if (by.kind === "client" && by.name) { return by.name; }
  return t("您本人（在一网 App 中发起）", "You (from your own YiWang app)");
}

function certStatusLabel(status) {
  return { good: t("有效", "Valid"), revoked: t("已吊销", "Revoked"), expired: t("已过期", "Expired"),
           unknown: t("未知", "Unknown") }[status] || status;
}

function size(bytes) {
  if (typeof bytes !== "number") { return ""; }
  return bytes < 1024 ? bytes + " B" : (bytes / 1024).toFixed(1) + " KB";
}

/* A problem answer in words, on the message line and (when given) inline, with the tries left after
 * a wrong PIN and the end of a lockout when the API says. */
function trouble(ctx, r, note, fallback) {
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
function fact(list, label, value, className) {
  if (value === undefined || value === null || value === "") { return null; }
  const row = el("div", "sg-fact " + (className || ""));
  row.appendChild(el("dt", null, label));
  row.appendChild(el("dd", null, value));
  list.appendChild(row);
  return row;
}

function heading(text) { return el("h2", null, text); }

/* A send-SMS button that counts down before it can send again. */
function countdown(b, seconds, label) {
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
function devCode(ctx, phoneMasked, input, line) {
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

function pinField(id, label) {
  const f = field(id, label, { type: "password", inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                               required: true, autocomplete: "off" });
  return f;
}

function backButton(ctx) {
  return button(t("返回电子签名", "Back to e-signature"), () => ctx.go("signing"), "secondary sg-back");
}

/* --- The signing home ------------------------------------------------------------------------------ */

function home(ctx, serial) {
  const gen = shown;
  section.appendChild(heading(t("电子签名", "E-signature")));
  if (ctx.acting) {
    section.appendChild(el("p", "hint sg-own", t("电子签名只能本人办理：以下是您本人的签名。", "Signing is always your own: this is your own e-signature.")));
  }
  const cert = el("div", "card sg-cert");
  cert.id = "sg-cert";
  cert.appendChild(el("p", "hint", t("正在读取签名证书…", "Reading your signing certificate…")));
  section.appendChild(cert);
  const other = el("div", "card sg-other");
  other.id = "sg-other";
  other.hidden = true;
  section.appendChild(other);

  section.appendChild(heading(t("待签署", "Waiting for your signature")));
  const pending = el("ul", "list sg-pending");
  pending.id = "sg-pending";
  section.appendChild(pending);
  section.appendChild(heading(t("已签署的文件", "Signed documents")));
  const signed = el("ul", "list sg-signed");
  signed.id = "sg-signed";
  section.appendChild(signed);
  const more = button(t("加载更多", "Load more"), null, "secondary");
  more.id = "sg-more";
  more.hidden = true;
  section.appendChild(more);

  ctx.api.call("GET", "/signing/certificate").then((r) => {
    if (gen !== shown) { return; }
    clear(cert);
    if (r.ok) {
      certificateCard(cert, r.data);
      if (serial && serial.toLowerCase() !== String(r.data.serial).toLowerCase()) { otherCertificate(ctx, other, serial); }
      loadPending(ctx, pending);
      loadSigned(ctx, signed, more, null);
      return;
    }
    if (r.status === 404 && r.data.code === "signing_not_enrolled") {
      enrolForm(ctx, cert);
      if (serial) { otherCertificate(ctx, other, serial); }
      empty(pending, t("开通电子签名后，待签署的文件会显示在这里", "Documents waiting for your signature appear here once you have enrolled"));
      empty(signed, t("暂无已签署的文件", "No signed documents yet"));
      return;
    }
    trouble(ctx, r, null);
    cert.appendChild(el("p", "hint", $("message").textContent));
    empty(pending, t("暂无待签署的文件", "Nothing waiting for your signature"));
    empty(signed, t("暂无已签署的文件", "No signed documents yet"));
  });
}

function certificateCard(box, c) {
  box.setAttribute("data-serial", c.serial);
  box.setAttribute("data-status", c.status);
  const top = el("div", "sg-cert-top");
  top.appendChild(el("h3", null, t("我的签名证书", "My signing certificate")));
  top.appendChild(el("span", "tag sg-status-" + c.status, certStatusLabel(c.status)));
  box.appendChild(top);
  const facts = el("dl", "sg-facts");
  const subject = c.subject || {};
  fact(facts, t("持有人", "Holder"), [subject.name_masked, subject.id_number_masked].filter(Boolean).join(" · "));
  fact(facts, t("序列号", "Serial number"), grouped(c.serial), "mono");
  fact(facts, t("有效期", "Validity"), formatTime(c.enrolled_at).slice(0, 10) + t(" 至 ", " to ") + formatTime(c.not_after).slice(0, 10));
  fact(facts, t("签名算法", "Algorithm"), t("SM2（国密）", "SM2 (Chinese national standard)"));
  box.appendChild(facts);
}

/* A certificate a notice linked to that is not the current one (revoked, say): its public status. */
function otherCertificate(ctx, box, serial) {
  const gen = shown;
  ctx.api.send("GET", "/signing/certificates/" + encodeURIComponent(serial) + "/status").then((r) => {
    if (gen !== shown || !r.ok) { return; }
    clear(box);
    box.appendChild(el("h3", null, t("证书（尾号 " + tail(serial) + "）", "Certificate ending " + tail(serial))));
    const facts = el("dl", "sg-facts");
    fact(facts, t("状态", "Status"), certStatusLabel(r.data.status));
    fact(facts, t("吊销时间", "Revoked"), formatTime(r.data.revoked_at));
    fact(facts, t("有效期至", "Valid until"), formatTime(r.data.not_after).slice(0, 10));
    box.appendChild(facts);
    box.hidden = false;
  });
}

function enrolForm(ctx, box) {
  box.appendChild(el("h3", null, t("开通电子签名", "Enrol for e-signature")));
  box.appendChild(el("p", "hint", t("设置 6 位签名密码（不能是连续、重复数字或出生日期），并输入发送到您绑定手机的短信验证码。签名密码用于授权每一次签名，请牢记。",
    "Set a 6-digit signing PIN (no runs, repeated digits or your birth date) and enter the SMS code sent to your bound phone. You will authorise every signature with this PIN.")));
  const form = el("form", "sg-enrol");
  form.id = "sg-enrol";
  form.setAttribute("autocomplete", "off");
  const pin = pinField("sg-enrol-pin", t("签名密码（6 位数字）", "Signing PIN (6 digits)"));
  const again = pinField("sg-enrol-pin2", t("再次输入签名密码", "Signing PIN again"));
  const code = field("sg-enrol-code", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                                                                  required: true, autocomplete: "one-time-code" });
  const sendLabel = () => t("获取验证码", "Get code");
  const sendCode = button(sendLabel(), null, "secondary");
  sendCode.id = "sg-enrol-send";
  const dev = el("p", "dev");
  dev.id = "sg-enrol-dev";
  dev.hidden = true;
  const submit = button(t("开通电子签名", "Enrol"), null, null, "submit");
  submit.id = "sg-enrol-submit";
  const note = el("p", "sg-note");
  note.id = "sg-enrol-note";
  note.setAttribute("role", "alert");
  note.hidden = true;
  [pin.wrap, again.wrap, code.wrap, sendCode, dev, note, submit].forEach((n) => form.appendChild(n));
  box.appendChild(form);

  sendCode.addEventListener("click", () => {
    say("");
    sendCode.disabled = true;
    ctx.api.call("POST", "/me/step-up/sms-codes", { purpose: "signing" }).then((r) => {
      sendCode.disabled = false;
      if (!r.ok) {
        trouble(ctx, r, note, t("验证码发送失败。", "The code could not be sent."));
        if (r.data.retry_after) { countdown(sendCode, r.data.retry_after, sendLabel); }
        return;
      }
      note.hidden = true;
      countdown(sendCode, r.data.resend_after, sendLabel);
      say(t("验证码已发送至 " + r.data.phone_masked + "。", "A code has been sent to " + r.data.phone_masked + "."), "info");
      return devCode(ctx, r.data.phone_masked, code.input, dev);
    });
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("");
    note.hidden = true;
    if (!/^\d{6}$/.test(pin.input.value)) { note.textContent = t("签名密码须为 6 位数字。", "The signing PIN must be 6 digits."); note.hidden = false; return; }
    if (pin.input.value !== again.input.value) {
      note.textContent = t("两次输入的签名密码不一致。", "The two PINs are not the same.");
      note.hidden = false;
      return;
    }
    submit.disabled = true;
    ctx.api.call("POST", "/signing/enrol", { pin: pin.input.value, sms_code: code.input.value.trim() }).then((r) => {
      submit.disabled = false;
      if (!r.ok) { trouble(ctx, r, note, t("开通失败。", "Enrolment failed.")); return; }
      pin.input.value = "";
      again.input.value = "";
      ctx.refresh();
      say(t("电子签名已开通，签名证书已签发。", "E-signature is on: your signing certificate has been issued."), "info");
    }, () => { submit.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
  });
}

/* The requests waiting (newest first): single ones as they are, a batch's documents as one item. */
function loadPending(ctx, list) {
  const gen = shown;
  waiting(ctx).then((found) => {
    if (gen !== shown) { return; }
    if (!found.ok) { trouble(ctx, found.r, null); empty(list, $("message").textContent); return; }
    clear(list);
    const entries = [];
    const batches = new Map();
    found.items.forEach((req) => {
      if (!req.batch_id) { entries.push({ req }); return; }
      if (!batches.has(req.batch_id)) { batches.set(req.batch_id, []); entries.push({ batch: req.batch_id, docs: batches.get(req.batch_id) }); }
      batches.get(req.batch_id).unshift(req);  // listed newest first: the batch's own order is the reverse
    });
    entries.forEach(({ req, batch, docs }) => {
      if (req) {
        const li = item(list, req.title, t("发起方：", "Requested by: ") + requester(req) + " · " + t("签署截止 ", "Sign by ") +
          formatTime(req.expires_at), () => ctx.go("signing/requests/" + req.id), "sg-request");
        li.setAttribute("data-request", req.id);
        return;
      }
      const li = item(list, t("批量签署：" + docs.length + " 份文件", "Batch: " + docs.length + " documents"),
        docs.map((d) => "“" + d.title + "”").join(t("、", ", ")) + " · " + t("发起方：", "Requested by: ") + requester(docs[0]),
        () => ctx.go("signing/batches/" + batch), "sg-batch");
      li.setAttribute("data-batch", batch);
    });
    if (!list.firstChild) { empty(list, t("暂无待签署的文件", "Nothing waiting for your signature")); }
  });
}

/* GET /signing/requests?status=pending, a few pages of it: {ok, items} or {ok: false, r}. */
function waiting(ctx) {
  const items = [];
  function page(cursor, left) {
    const q = "/signing/requests?status=pending&limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return ctx.api.call("GET", q).then((r) => {
      if (!r.ok) { return { ok: false, r }; }
      r.data.items.forEach((req) => { if (!expired(req)) { items.push(req); } });
      if (r.data.next_cursor && left > 1) { return page(r.data.next_cursor, left - 1); }
      return { ok: true, items };
    });
  }
  return page(null, PENDING_PAGES);
}

function loadSigned(ctx, list, more, cursor) {
  const gen = shown;
  ctx.api.call("GET", "/signing/signatures?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then((r) => {
    if (gen !== shown) { return; }
    if (!cursor) { clear(list); }
    if (!r.ok) { trouble(ctx, r, null); return; }
    r.data.items.forEach((s) => {
      const li = item(list, s.title, t("签署于 ", "Signed ") + formatTime(s.signed_at) + t(" · 证书尾号 ", " · certificate …") + tail(s.certificate_serial),
        () => ctx.go("signing/requests/" + s.request_id), "sg-signature");
      li.setAttribute("data-signature", s.signature_id);
      li.setAttribute("data-request", s.request_id);
    });
    if (!list.firstChild) { empty(list, t("暂无已签署的文件", "No signed documents yet")); }
    more.hidden = !r.data.next_cursor;
    more.onclick = () => loadSigned(ctx, list, more, r.data.next_cursor);
  });
}

/* --- A request: what will be signed, authorise or refuse ------------------------------------------------ */

function request(ctx, id) {
  const gen = shown;
  const box = el("div", "card sg-detail");
  box.id = "sg-detail";
  box.appendChild(el("p", "hint", t("正在读取签署请求…", "Reading the signing request…")));
  section.appendChild(heading(t("签署请求", "Signing request")));
  section.appendChild(box);
  section.appendChild(backButton(ctx));
  Promise.all([ctx.api.call("GET", "/signing/requests/" + encodeURIComponent(id)), ctx.api.call("GET", "/signing/certificate")])
    .then(([r, c]) => {
      if (gen !== shown) { return; }
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
    if (gen !== shown || !facts || !sig) { return; }
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

  sendCode.addEventListener("click", () => {
    say("");
    sendCode.disabled = true;
    ctx.api.call("POST", path + "/sms-code").then((r) => {
      sendCode.disabled = false;
      if (!r.ok) {
        trouble(ctx, r, note, t("验证码发送失败。", "The code could not be sent."));
        if (r.data.retry_after) { countdown(sendCode, r.data.retry_after, sendLabel); }
        return;
      }
      note.hidden = true;
      countdown(sendCode, 60, sendLabel);
      const user = ctx.user() || {};
      say(t("验证码已发送，请查收短信。", "A code has been sent by SMS."), "info");
      return devCode(ctx, user.phone_masked, code.input, dev);
    });
  });

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

function batch(ctx, id) {
  const gen = shown;
  const box = el("div", "card sg-detail");
  box.id = "sg-detail";
  box.setAttribute("data-batch", id);
  box.appendChild(el("p", "hint", t("正在读取批量签署请求…", "Reading the batch…")));
  section.appendChild(heading(t("批量签署", "Batch signing")));
  section.appendChild(box);
  section.appendChild(backButton(ctx));
  ctx.api.call("GET", "/signing/batches/" + encodeURIComponent(id)).then((r) => {
    if (gen !== shown) { return; }
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

/* --- The view -------------------------------------------------------------------------------------- */

function render(ctx, params) {
  shown += 1;
  clear(section);
  const [what, id] = params;
  here = { screen: what || "home", id: id || null };
  if (what === "requests" && id) { request(ctx, id); } else if (what === "batches" && id) { batch(ctx, id); } else {
    home(ctx, what === "certificate" ? id : null);
  }
}

export default {
  name: "signing",
  mount(ctx, node) { section = node; },
  show(ctx, params) { render(ctx, params || []); },
  hide() { shown += 1; here = { screen: null, id: null }; },
  signedOut() { shown += 1; here = { screen: null, id: null }; if (section) { clear(section); } },
  /* A new request (or a signature made elsewhere) while the signing home is open: show it. */
  onNotice(ctx, notice) {
    const kind = notice && notice.kind;
    if (here.screen === "home" && /^signing_(request|signed|refused)$/.test(kind || "")) { render(ctx, []); }
  },
};
