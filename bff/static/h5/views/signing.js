/* 电子签名 (cloud signing): the certificate or enrolment, the requests waiting for the citizen, a
 * request's detail (what will be signed: its SM3 digests, who signs, who asked, until when) with
 * authorise (PIN, and the SMS code when the server asks for one) and refuse (with an optional
 * reason), a batch with its documents, and the signed documents.
 *
 * Routes are the signing notices' deep links: #/signing, #/signing/requests/<id>,
 * #/signing/batches/<id>, #/signing/certificate/<serial>; the PIN's change and reset (and the locked
 * state's way out): #/signing/pin/change, #/signing/pin/reset (views/signing/pin.js). The waiting ones come from
 * GET /signing/requests?status=pending (a batch's documents grouped under their batch_id), a batch's
 * documents from GET /signing/batches/<id>.
 *
 * Signing is always the signed-in person's own (ctx.api, never the acting-for client). A wrong PIN's
 * answer is shown inline next to the PIN too (the wrong-PIN security notice arriving on the live
 * stream takes over the message line). */
import { t } from "../i18n.js";
import { $, button, clear, el, empty, field, formatTime, item, say } from "../ui.js";
import {
  certStatusLabel, expired, fact, grouped, heading, pinField, requester, screen, smsCodeButton, tail, trouble,
} from "./signing/common.js";
import { batch, request } from "./signing/detail.js";
import { lockedHelp, pinActions, pinScreen } from "./signing/pin.js";

const PENDING_PAGES = 3;  // pages of 50 waiting requests read (a batch's documents count one each)
let here = { screen: null, id: null };

/* --- The signing home ------------------------------------------------------------------------------ */

function home(ctx, serial) {
  const gen = screen.shown;
  screen.section.appendChild(heading(t("电子签名", "E-signature")));
  if (ctx.acting) {
    screen.section.appendChild(el("p", "hint sg-own", t("电子签名只能本人办理：以下是您本人的签名。", "Signing is always your own: this is your own e-signature.")));
  }
  const cert = el("div", "card sg-cert");
  cert.id = "sg-cert";
  cert.appendChild(el("p", "hint", t("正在读取签名证书…", "Reading your signing certificate…")));
  screen.section.appendChild(cert);
  const other = el("div", "card sg-other");
  other.id = "sg-other";
  other.hidden = true;
  screen.section.appendChild(other);

  screen.section.appendChild(heading(t("待签署", "Waiting for your signature")));
  const pending = el("ul", "list sg-pending");
  pending.id = "sg-pending";
  screen.section.appendChild(pending);
  screen.section.appendChild(heading(t("已签署的文件", "Signed documents")));
  const signed = el("ul", "list sg-signed");
  signed.id = "sg-signed";
  screen.section.appendChild(signed);
  const more = button(t("加载更多", "Load more"), null, "secondary");
  more.id = "sg-more";
  more.hidden = true;
  screen.section.appendChild(more);

  ctx.api.call("GET", "/signing/certificate").then((r) => {
    if (gen !== screen.shown) { return; }
    clear(cert);
    if (r.ok) {
      certificateCard(ctx, cert, r.data);
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

function certificateCard(ctx, box, c) {
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
  if (c.locked_until && new Date(c.locked_until).getTime() > Date.now()) { box.appendChild(lockedHelp(ctx, c.locked_until)); }
  box.appendChild(pinActions(ctx));
}

/* A certificate a notice linked to that is not the current one (revoked, say): its public status. */
function otherCertificate(ctx, box, serial) {
  const gen = screen.shown;
  ctx.api.send("GET", "/signing/certificates/" + encodeURIComponent(serial) + "/status").then((r) => {
    if (gen !== screen.shown || !r.ok) { return; }
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

  smsCodeButton(ctx, { button: sendCode, label: sendLabel, note, input: code.input, dev,
                       ask: () => ctx.api.call("POST", "/me/step-up/sms-codes", { purpose: "signing" }) });

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
  const gen = screen.shown;
  waiting(ctx).then((found) => {
    if (gen !== screen.shown) { return; }
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
  const gen = screen.shown;
  ctx.api.call("GET", "/signing/signatures?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then((r) => {
    if (gen !== screen.shown) { return; }
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

/* --- The view -------------------------------------------------------------------------------------- */

function render(ctx, params) {
  screen.shown += 1;
  clear(screen.section);
  const [what, id] = params;
  here = { screen: what || "home", id: id || null };
  if (what === "requests" && id) { request(ctx, id); } else if (what === "batches" && id) { batch(ctx, id); } else if (what === "pin") {
    pinScreen(ctx, id);
  } else {
    home(ctx, what === "certificate" ? id : null);
  }
}

export default {
  name: "signing",
  mount(ctx, node) { screen.section = node; },
  show(ctx, params) { render(ctx, params || []); },
  hide() { screen.shown += 1; here = { screen: null, id: null }; },
  signedOut() { screen.shown += 1; here = { screen: null, id: null }; if (screen.section) { clear(screen.section); } },
  /* A new request (or a signature made elsewhere) while the signing home is open: show it. */
  onNotice(ctx, notice) {
    const kind = notice && notice.kind;
    if (here.screen === "home" && /^signing_(request|signed|refused)$/.test(kind || "")) { render(ctx, []); }
  },
};
