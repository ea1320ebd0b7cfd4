/* The wallet's QR panel (亮证): a one-time code for a licence (its PNG fetched with the bearer token and
 * shown from a blob: URL, the 8-digit manual code beside it for when scanning fails), a countdown
 * "N 秒后失效", replaced by a new code before it expires, withdrawn (DELETE) when closed.
 *
 * A refusal (a licence suspended or revoked meanwhile: 422 licence_not_valid) closes the panel and is
 * said in words by `problem`; `onRefused(r)` lets the view show the licence's state again. */
import { $, clear, el } from "/static/web/dom.js";
import { t } from "./i18n.js";

/* client(): the API client to use (the acting-for client when acting); signedIn(): whether the
 * withdrawal can still be asked; problem(r, fallback): how the page says a problem; networkError():
 * how it says a failed request; onRefused(r): after the API refused a code. */
export function qrPanel({ client, signedIn, problem, networkError, onRefused }) {
  function idle() { return { timer: null, tick: null, url: null, id: null, licence: null, api: null, expires: 0 }; }
  let qr = idle();

  function open(licence) {
    stop();
    qr.licence = licence;
    qr.api = client();  // the whole showing speaks for the same person, even if acting stops meanwhile
    $("qr-title").textContent = licence.type_name + t(" · 亮证", " · show to the counter");
    $("qr-countdown").textContent = t("正在生成二维码…", "Making the code…");
    $("qr-manual").textContent = "";
    $("qr-text").textContent = "";
    $("qr-panel").removeAttribute("data-presentation");
    $("qr-panel").hidden = false;
    present();
  }

  function refused(r, licence) {
    if (qr.licence !== licence) { return; }
    stop();
    problem(r, t("二维码生成失败。", "The QR code could not be made."));
    if (onRefused) { onRefused(r); }
  }

  function present() {
    const licence = qr.licence;
    const api = qr.api;
    if (!licence) { return; }
    api.call("POST", "/wallet/licences/" + encodeURIComponent(licence.id) + "/presentations", { purpose: "H5 亮证" }).then((r) => {
      if (qr.licence !== licence) { return; }
      if (!r.ok) { refused(r, licence); return; }
      const p = r.data;
      qr.id = p.id;
      $("qr-text").textContent = p.qr_text;
      $("qr-manual").textContent = p.manual_code || "";
      $("qr-panel").setAttribute("data-presentation", p.id);
      schedule(p);
      return api.authed("GET", "/wallet/presentations/" + encodeURIComponent(p.id) + "/qr.png").then((response) => {
        return response.ok ? response.blob() : null;
      }).then((blob) => {
        if (!blob || qr.id !== p.id) { return; }
        if (qr.url) { URL.revokeObjectURL(qr.url); }
        qr.url = URL.createObjectURL(blob);
        $("qr-img").src = qr.url;
      });
    }).catch(() => {
      // A failed request: the code on screen lives on until it expires; try again shortly.
      if (qr.licence !== licence) { return; }
      if (networkError) { networkError(); }
      clearTimeout(qr.timer);
      qr.timer = setTimeout(present, 3000);
    });
  }

  function countdown() {
    const left = Math.max(0, Math.round((qr.expires - Date.now()) / 1000));
    $("qr-countdown").textContent = left > 0
      ? t("二维码 " + left + " 秒后失效，将自动刷新", "The code expires in " + left + " s and renews itself")
      : t("二维码已失效，正在刷新…", "The code has expired; renewing…");
    $("qr-countdown").setAttribute("data-left", String(left));
  }

  function schedule(p) {
    const now = Date.now();
    qr.expires = new Date(p.expires_at).getTime();
    const refreshAt = Math.min(new Date(p.refresh_after).getTime(), qr.expires - 2000);
    clearTimeout(qr.timer);
    clearInterval(qr.tick);
    qr.timer = setTimeout(present, Math.max(1000, refreshAt - now));
    countdown();
    qr.tick = setInterval(countdown, 1000);
  }

  function stop() {
    clearTimeout(qr.timer);
    clearInterval(qr.tick);
    if (qr.id && qr.api && signedIn()) {
      qr.api.authed("DELETE", "/wallet/presentations/" + encodeURIComponent(qr.id)).catch(() => {});
    }
    if (qr.url) { URL.revokeObjectURL(qr.url); }
    qr = idle();
    $("qr-panel").hidden = true;
    $("qr-panel").removeAttribute("data-presentation");
    $("qr-img").removeAttribute("src");
  }

  return { open, stop, showing: () => !!qr.licence };
}

/* The offline QR (离线亮证码): for one matter the citizen chooses (GET /wallet/licences/{id}/matters), signed
 * by the platform and checked by the counter with no network; it lives at most five minutes and is not
 * renewed by itself (a new one is asked for with the button). Its PNG comes in the answer (qr_png). The
 * panel is built here under the licence's detail, after `anchor`. */
export function offlinePanel({ client, problem, networkError, anchor }) {
  let tick = null;
  const box = el("div", "card qr offline-qr");
  box.id = "offline-panel";
  box.hidden = true;
  const title = el("h3", null, "");
  const select = document.createElement("select");
  select.id = "offline-matter";
  const make = el("button", null, "");
  make.type = "button";
  make.id = "offline-make";
  const img = el("img");
  img.id = "offline-img";
  img.width = 280; img.height = 280;
  const fields = el("p", "hint", "");
  const countdown = el("p", "hint", "");
  countdown.id = "offline-countdown";
  const text = el("code");
  text.id = "offline-text";
  const close = el("button", "secondary", "");
  close.type = "button";
  [title, select, make, img, fields, countdown, text, close].forEach((node) => box.appendChild(node));
  anchor.insertAdjacentElement("afterend", box);
  let licence = null;
  let api = null;
  let matters = {};

  function words() {
    title.textContent = t("离线亮证码（无需联网核验）", "Offline QR (checked without network)");
    make.textContent = t("生成离线码", "Make the offline code");
    close.textContent = t("关闭", "Close");
  }

  function open(shown) {
    stop();
    licence = shown;
    api = client();
    words();
    clear(select);
    box.hidden = false;
    img.hidden = true;
    api.call("GET", "/wallet/licences/" + encodeURIComponent(licence.id) + "/matters").then((r) => {
      if (!r.ok) { problem(r); return; }
      matters = {};
      r.data.items.forEach((m) => {
        matters[m.code] = m;
        const option = el("option", null, m.name);
        option.value = m.code;
        select.appendChild(option);
      });
      make.disabled = !r.data.items.length;
      if (!r.data.items.length) { countdown.textContent = t("此类证照暂无可离线出示的事项。", "No matter takes this licence offline yet."); }
    }, () => networkError());
  }

  function generate() {
    if (!licence || !select.value) { return; }
    const matter = matters[select.value];
    api.call("POST", "/wallet/licences/" + encodeURIComponent(licence.id) + "/offline-presentations", { matter: select.value }).then((r) => {
      if (!r.ok) { problem(r, t("离线码生成失败。", "The offline code could not be made.")); return; }
      img.src = "data:image/png;base64," + r.data.qr_png;
      img.hidden = false;
      text.textContent = r.data.qr_text;
      box.setAttribute("data-expires", r.data.expires_at);
      fields.textContent = t("码中包含：", "The code holds: ") + (matter.fields || []).map((f) => f.label).join(t("、", ", "));
      const expires = new Date(r.data.expires_at).getTime();
      clearInterval(tick);
      const show = () => {
        const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
        countdown.textContent = left > 0 ? t("离线码 " + left + " 秒后失效", "The offline code expires in " + left + " s")
          : t("离线码已失效，请重新生成", "The offline code has expired: make a new one");
        if (!left) { clearInterval(tick); img.hidden = true; }
      };
      show();
      tick = setInterval(show, 1000);
    }, () => networkError());
  }

  function stop() {
    clearInterval(tick);
    licence = null;
    box.hidden = true;
    img.removeAttribute("src");
    text.textContent = "";
    countdown.textContent = "";
  }

  make.addEventListener("click", generate);
  close.addEventListener("click", stop);
  return { open, stop };
}
