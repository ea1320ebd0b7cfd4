/* The wallet's QR panel (亮证): a one-time code for a licence (its PNG fetched with the bearer token and
 * shown from a blob: URL, the 8-digit manual code beside it for when scanning fails), a countdown
 * "N 秒后失效", replaced by a new code before it expires, withdrawn (DELETE) when closed.
 *
 * A refusal (a licence suspended or revoked meanwhile: 422 licence_not_valid) closes the panel and is
 * said in words by `problem`; `onRefused(r)` lets the view show the licence's state again. */
import { $ } from "/static/web/dom.js";
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
