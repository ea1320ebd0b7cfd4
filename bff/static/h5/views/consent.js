/* 用证授权 (licence consent): a bank, a hotel or an employer asks to check one of the citizen's
 * licences for a matter. The citizen sees who asks (its registered name), the matter and its legal
 * basis, the fields it will see (names, never values), until when; approves — choosing the licence,
 * proving it is them with an SMS code sent for this one request — or refuses. Answered requests are the
 * record of what went to whom.
 *
 * Routes are the notices' deep links: #/consent, #/consent/<id> (yiwang://consent/<id>). Data from
 * GET /consent/requests[/<id>], POST …/step-up-code, …/approve, …/refuse, and GET /wallet/licences for
 * the licences the request accepts. Always the signed-in person's own (ctx.api). */
import { t } from "../i18n.js";
import { $, button, clear, el, empty, field, formatTime, item, say } from "../ui.js";
import { fact, heading, smsCodeButton, trouble } from "./signing/common.js";

const screen = { shown: 0, section: null };

function statusLabel(s) {
  return { pending: t("待处理", "Waiting"), approved: t("已同意", "Approved"), refused: t("已拒绝", "Refused"),
           expired: t("已过期", "Expired") }[s] || s;
}

function tag(status) {
  const node = el("span", "tag cs-status cs-" + status, statusLabel(status));
  node.id = "cs-status";
  return node;
}

/* --- The list: waiting first, then the record ------------------------------------------------------- */

function list(ctx) {
  const gen = screen.shown;
  screen.section.appendChild(heading(t("用证授权", "Licence consent")));
  screen.section.appendChild(el("p", "hint", t("机构请求核验您的电子证照时，会在这里征求您的同意。",
    "When an organisation asks to check one of your licences, it asks for your consent here.")));
  const waiting = el("ul", "list cs-list");
  waiting.id = "cs-pending";
  screen.section.appendChild(waiting);
  screen.section.appendChild(heading(t("用证记录", "What you have shown")));
  const done = el("ul", "list cs-list");
  done.id = "cs-history";
  screen.section.appendChild(done);
  ctx.api.call("GET", "/consent/requests?limit=50").then((r) => {
    if (gen !== screen.shown) { return; }
    if (!r.ok) { ctx.problem(r); return; }
    const items = r.data.items || [];
    const open = items.filter((x) => x.status === "pending");
    const rest = items.filter((x) => x.status !== "pending");
    if (!open.length) { empty(waiting, t("没有待处理的请求", "No requests waiting")); }
    if (!rest.length) { empty(done, t("暂无记录", "Nothing yet")); }
    open.forEach((x) => entry(ctx, waiting, x));
    rest.forEach((x) => entry(ctx, done, x));
  });
}

/* One request: who asked, for what; an approved one also names the fields shown (never their values). */
function entry(ctx, list, x) {
  const shown = x.status === "approved" ? x.fields.filter((f) => (x.disclosed_fields || []).indexOf(f.key) >= 0)
    .map((f) => f.label).join(t("、", ", ")) : "";
  const li = item(list, x.verifier.name + " · " + x.matter.name,
    statusLabel(x.status) + " · " + formatTime(x.answered_at || x.created_at) + (shown ? " · " + shown : ""),
    () => ctx.go("consent/" + x.id), "cs-" + x.status);
  li.setAttribute("data-request", x.id);
}

/* --- One request ------------------------------------------------------------------------------------ */

function detail(ctx, id) {
  const gen = screen.shown;
  screen.section.appendChild(heading(t("用证授权", "Licence consent")));
  const box = el("div", "card cs-detail");
  box.id = "cs-detail";
  screen.section.appendChild(box);
  screen.section.appendChild(button(t("返回", "Back"), () => ctx.go("consent"), "secondary"));
  ctx.api.call("GET", "/consent/requests/" + encodeURIComponent(id)).then((r) => {
    if (gen !== screen.shown) { return; }
    if (!r.ok) { ctx.problem(r); return; }
    draw(ctx, box, r.data);
  });
}

function draw(ctx, box, req) {
  clear(box);
  box.setAttribute("data-request", req.id);
  box.setAttribute("data-status", req.status);
  const top = el("div", "cs-top");
  top.appendChild(el("h3", null, req.verifier.name));
  top.appendChild(tag(req.status));
  box.appendChild(top);
  const facts = el("dl", "sg-facts cs-facts");
  fact(facts, t("请求方", "Asked by"), req.verifier.name, "cs-verifier");
  fact(facts, t("用证事项", "Matter"), req.matter.name, "cs-matter");
  fact(facts, t("法律依据", "Legal basis"), req.matter.legal_basis, "cs-basis");
  fact(facts, t("证照类型", "Licence"), req.licence_types.map((x) => x.name).join(t("、", ", ")), "cs-types");
  fact(facts, t("对方将看到", "They will see"), req.fields.map((x) => x.label).join(t("、", ", ")), "cs-fields");
  fact(facts, req.status === "pending" ? t("请在此前处理", "Answer by") : t("请求时间", "Asked at"),
       formatTime(req.status === "pending" ? req.expires_at : req.created_at));
  if (req.answered_at) { fact(facts, t("处理时间", "Answered at"), formatTime(req.answered_at)); }
  box.appendChild(facts);
  if (req.status === "approved") {
    box.appendChild(el("p", "hint cs-shown", t("已出示：", "Shown: ") + req.fields.filter((f) =>
      (req.disclosed_fields || []).indexOf(f.key) >= 0).map((f) => f.label).join(t("、", ", "))));
  }
  if (req.status === "pending") { box.appendChild(answer(ctx, box, req)); }
}

/* Approve (the licence, the SMS code for this request) or refuse. */
function answer(ctx, box, req) {
  const form = el("form", "cs-approve");
  form.id = "cs-approve";
  form.setAttribute("autocomplete", "off");
  form.appendChild(el("p", "hint", t("请确认您正在该机构办理“" + req.matter.name + "”。同意后，对方将收到由平台签名的上述信息。",
    "Check that you are dealing with this organisation for “" + req.matter.name + "”. If you approve, it receives the details above, signed by the platform.")));
  const pick = field("cs-licence", t("出示哪张证照", "Licence to show"), {}, "select");
  const code = field("cs-sms", t("短信验证码", "SMS code"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}",
                                                            autocomplete: "one-time-code", required: true });
  const label = () => t("获取短信验证码", "Get SMS code");
  const send = button(label(), null, "secondary");
  send.id = "cs-sms-send";
  const dev = el("p", "dev");
  dev.id = "cs-sms-dev";
  dev.hidden = true;
  const note = el("p", "sg-note");
  note.id = "cs-note";
  note.setAttribute("role", "alert");
  note.hidden = true;
  const yes = button(t("同意出示", "Approve"), null, null, "submit");
  yes.id = "cs-yes";
  const no = button(t("拒绝", "Refuse"), null, "secondary danger");
  no.id = "cs-no";
  [pick.wrap, code.wrap, send, dev, note, yes, no].forEach((n) => form.appendChild(n));
  const path = "/consent/requests/" + encodeURIComponent(req.id);
  const types = req.licence_types.map((x) => x.code);
  ctx.api.call("GET", "/wallet/licences?limit=50").then((r) => {
    const mine = r.ok ? (r.data.items || []).filter((l) => types.indexOf(l.type_code) >= 0) : [];
    mine.forEach((l) => { const o = el("option", null, l.type_name + (l.status === "01" ? "" : " (" + l.status_label + ")")); o.value = l.id; pick.input.appendChild(o); });
    if (!mine.length) { note.textContent = t("您的卡包里没有对方请求的证照。", "Your wallet has no licence of the kind asked for."); note.hidden = false; yes.disabled = true; }
  });
  smsCodeButton(ctx, { button: send, label, note, input: code.input, dev, ask: () => ctx.api.call("POST", path + "/step-up-code") });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("");
    yes.disabled = true;
    ctx.api.call("POST", path + "/approve", { licence_id: pick.input.value, sms_code: code.input.value.trim() }).then((r) => {
      yes.disabled = false;
      if (!r.ok) { trouble(ctx, r, note, t("未能出示。", "Could not show the licence.")); return; }
      draw(ctx, box, r.data);
      say(t("已向 " + req.verifier.name + " 出示。", "Shown to " + req.verifier.name + "."), "info");
    });
  });
  no.addEventListener("click", () => {
    say("");
    ctx.api.call("POST", path + "/refuse").then((r) => {
      if (!r.ok) { trouble(ctx, r, note); return; }
      draw(ctx, box, r.data);
      say(t("已拒绝，对方不会看到您的证照信息。", "Refused: they will not see your licence."), "info");
    });
  });
  return form;
}

function render(ctx, params) {
  screen.shown += 1;
  clear(screen.section);
  say("");
  if (params[0]) { detail(ctx, params[0]); } else { list(ctx); }
}

export default {
  name: "consent",
  mount(ctx, node) { screen.section = node; },
  show(ctx, params) { render(ctx, params || []); },
  hide() { screen.shown += 1; },
  signedOut() { screen.shown += 1; if (screen.section) { clear(screen.section); } },
  /* A new request while the list is open: show it. */
  onNotice(ctx, notice) {
    if (notice && notice.kind === "consent_request" && $("cs-pending")) { render(ctx, []); }
  },
};
