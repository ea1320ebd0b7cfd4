/* 网号/网证 (国家网络身份认证) on the H5 page (issue 19): the login button, and the national app's part
 * that every 网号 flow shares (login, step-up; link and consent use the same hand-off).
 *
 * Every flow is three steps: YiWang opens a session (POST /auth/ncid/sessions {purpose: "login"}, or
 * POST /me/ncid/sessions {purpose} when signed in) → the national app authenticates the person and gives
 * an opaque credential (id_card_auth_data, auth_mode, cert_pwd_data?) → YiWang checks it server-side
 * (POST /auth/ncid/login, /me/ncid/step-up …). The page never sees a face image or an ID number.
 *
 * Production: the WeChat mini-program calls wx.ncidas({orgID: org_id, businessID: business_id, bizSeq:
 * biz_seq, type}) with the session's fields and posts what it returns to the same route; a browser
 * has no wx.ncidas. Development: the "模拟国家网络身份认证" dialog plays the national app — it asks the
 * dev-only POST /dev/ncid/credentials {biz_seq, person, mode}, whose development gateway signs a real
 * 凭据, so the server checks it as it would the platform's. `person` is this tab's development 网络身份
 * 应用标识 (kept in sessionStorage, so the same tab reaches the same account again). A production server
 * has no dev route (404): the dialog then says to use the mini-program. */
import { Store } from "/static/web/api.js";
import { t } from "../i18n.js";
import { button, el, field, say } from "../ui.js";

const device = new Store(sessionStorage, "yiwang.h5.ncid");  // {person}: this tab's development 网号 user
const MODES = [
  ["R02", "网证 + 口令", "Network ID + password"],
  ["R01", "网证", "Network ID"],
  ["R03", "网证 + 人脸", "Network ID + face"],
  ["R04", "网证 + 口令 + 人脸", "Network ID + password + face"],
];

function random(n) {
  const letters = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => letters[b % letters.length]).join("");
}

/* This tab's development 网络身份应用标识 ([A-Za-z0-9]{16,64}). */
export function devPerson() {
  if (!device.data || !device.data.person) { device.save({ person: "h5" + random(22) }); }
  return device.data.person;
}

export function forgetDevPerson() { device.clear(); }

let open = null;  // the dialog on screen: {box, finish}

/* The national app's part: resolves {id_card_auth_data, auth_mode, cert_pwd_data?} or null (cancelled,
 * refused, or no development gateway). `session` is the answer of a sessions route. */
export function nationalApp(ctx, session, purpose) {
  if (open) { open.finish(null); }
  return new Promise((resolve) => {
    const box = el("div", "ncid-app");
    box.id = "ncid-app";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("data-purpose", purpose || "");
    const card = el("div", "card ncid-card");
    const title = el("h2", null, t("模拟国家网络身份认证", "Simulated national network identity app"));
    title.id = "ncid-app-title";
    box.setAttribute("aria-labelledby", title.id);
    card.appendChild(title);
    card.appendChild(el("p", "dev", t("开发环境：此窗口代替国家网络身份认证 App（生产环境由微信小程序调用 wx.ncidas 完成）。",
      "Development: this window plays the national network identity app (in production the WeChat mini-program calls wx.ncidas).")));
    const what = {
      login: t("登录一网", "Sign in to YiWang"), link: t("关联网号", "Link your network ID"),
      step_up: t("验证身份以继续办理", "Verify it is you to go on"), consent: t("提供身份信息", "Share your identity data"),
    }[purpose] || "";
    card.appendChild(el("p", "hint", t("一网请求：", "YiWang asks: ") + what));
    const seq = el("p", "hint ncid-seq", t("业务流水号 ", "Request ") + String(session.biz_seq || ""));
    card.appendChild(seq);
    const person = field("ncid-person", t("网络身份应用标识（开发用户）", "Network identity app ID (development user)"),
      { maxlength: "64", pattern: "[A-Za-z0-9]{16,64}", required: true, autocomplete: "off" });
    person.input.value = devPerson();
    card.appendChild(person.wrap);
    // Development only: what the national platform would release with the person's consent.
    const who = purpose === "consent" ? {
      name: field("ncid-name", t("姓名（平台经同意提供）", "Name (released with consent)"), { maxlength: "64", required: true }),
      id: field("ncid-id-number", t("身份证号（平台经同意提供）", "ID number (released with consent)"),
        { maxlength: "18", pattern: "[0-9]{17}[0-9Xx]", required: true, autocomplete: "off" }),
    } : null;
    if (who) { card.appendChild(who.name.wrap); card.appendChild(who.id.wrap); }
    const mode = field("ncid-mode", t("认证方式", "Method"), {}, "select");
    MODES.forEach(([value, zh, en]) => { const o = el("option", null, t(zh, en)); o.value = value; mode.input.appendChild(o); });
    card.appendChild(mode.wrap);
    const note = el("p", "message");
    note.id = "ncid-app-note";
    note.hidden = true;
    card.appendChild(note);
    const ok = button(t("确认认证", "Authenticate"), null);
    ok.id = "ncid-app-ok";
    const cancel = button(t("取消", "Cancel"), null, "secondary");
    cancel.id = "ncid-app-cancel";
    card.appendChild(ok);
    card.appendChild(cancel);
    box.appendChild(card);
    document.body.appendChild(box);

    function finish(result) {
      if (open && open.box === box) { open = null; }
      box.remove();
      resolve(result);
    }
    open = { box, finish };
    cancel.addEventListener("click", () => finish(null));
    ok.addEventListener("click", () => {
      if (!person.input.reportValidity() || (who && !(who.name.input.reportValidity() && who.id.input.reportValidity()))) { return; }
      ok.disabled = true;
      note.hidden = true;
      const body = { biz_seq: session.biz_seq, person: person.input.value.trim(), mode: mode.input.value };
      if (who) { body.name = who.name.input.value.trim(); body.id_number = who.id.input.value.trim().toUpperCase(); }
      ctx.api.send("POST", "/dev/ncid/credentials", body).then((r) => {
        ok.disabled = false;
        if (r.status === 404 && r.data.code !== "ncid_session_not_found") {  // no development gateway here
          say(t("请在一网微信小程序中使用国家网络身份认证。", "Please use the national network identity service in the YiWang WeChat mini-program."));
          finish(null);
          return;
        }
        if (!r.ok) {
          note.textContent = (r.data && r.data.detail) || t("认证未完成，请重试。", "Not authenticated. Please try again.");
          note.hidden = false;
          return;
        }
        device.save({ person: body.person });
        finish({ id_card_auth_data: r.data.id_card_auth_data, auth_mode: r.data.auth_mode || mode.input.value });
      }, () => { ok.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
    });
    ok.focus();
  });
}

/* Close the dialog (signed out, say): whoever waits gets null. */
export function closeNationalApp() { if (open) { open.finish(null); } }

/* 国家网络身份认证 login: a session, the national app, then the tokens (signIn(r, text) of login.js). */
export function ncidLogin(ctx, b, signIn) {
  say("");
  b.disabled = true;
  return ctx.api.send("POST", "/auth/ncid/sessions", { purpose: "login" }).then((s) => {
    if (!s.ok) { b.disabled = false; ctx.problem(s, t("国家网络身份认证暂时无法使用。", "The national network identity service is unavailable now.")); return null; }
    return nationalApp(ctx, s.data, "login").then((proof) => {
      if (!proof) { b.disabled = false; return null; }
      const body = Object.assign({ biz_seq: s.data.biz_seq }, proof);
      return ctx.api.send("POST", "/auth/ncid/login", body).then((r) => {
        b.disabled = false;
        if (!r.ok) { ctx.problem(r, t("国家网络身份认证登录失败。", "Sign-in with the national network identity failed.")); return null; }
        return signIn(r, r.data.account_created ? t("已通过国家网络身份认证创建账号并登录。", "Your account was created with your national network identity.")
                                                : t("已通过国家网络身份认证登录。", "Signed in with your national network identity."));
      });
    });
  }, () => { b.disabled = false; say(t("网络异常，请稍后再试。", "Network error. Please try again.")); });
}
