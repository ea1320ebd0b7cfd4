/* The wallet's QR panel: a one-time code for a licence (its PNG fetched with the bearer token and
 * shown from a blob: URL), replaced by a new one before it expires, withdrawn when closed. */
import { $ } from "/static/web/dom.js";

/* api: the page's client; signedIn(): whether the withdrawal can still be asked; problem(r, fallback):
 * how the page says a problem. */
export function qrPanel({ api, signedIn, problem }) {
  function idle() { return { timer: null, tick: null, url: null, id: null, licence: null }; }
  let qr = idle();

  function open(licence) {
    stop();
    qr.licence = licence;
    $("qr-title").textContent = licence.type_name + " · 亮证";
    $("qr-panel").hidden = false;
    present();
  }

  function present() {
    const licence = qr.licence;
    if (!licence) { return; }
    api.call("POST", "/wallet/licences/" + encodeURIComponent(licence.id) + "/presentations", { purpose: "H5 亮证" }).then(function (r) {
      if (qr.licence !== licence) { return; }
      if (!r.ok) { problem(r, "二维码生成失败。"); return; }
      const p = r.data;
      qr.id = p.id;
      $("qr-text").textContent = p.qr_text;
      $("qr-manual").textContent = p.manual_code || "";
      $("qr-panel").setAttribute("data-presentation", p.id);
      return api.authed("GET", "/wallet/presentations/" + encodeURIComponent(p.id) + "/qr.png").then(function (response) {
        return response.ok ? response.blob() : null;
      }).then(function (blob) {
        if (!blob || qr.id !== p.id) { return; }
        if (qr.url) { URL.revokeObjectURL(qr.url); }
        qr.url = URL.createObjectURL(blob);
        $("qr-img").src = qr.url;
        schedule(p);
      });
    });
  }

  function schedule(p) {
    const now = Date.now();
    const expires = new Date(p.expires_at).getTime();
    const refreshAt = Math.min(new Date(p.refresh_after).getTime(), expires - 2000);
    clearTimeout(qr.timer);
    clearInterval(qr.tick);
    qr.timer = setTimeout(present, Math.max(1000, refreshAt - now));
    function tick() {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      $("qr-countdown").textContent = "二维码 " + left + " 秒后失效，将自动刷新";
    }
    tick();
    qr.tick = setInterval(tick, 1000);
  }

  function stop() {
    clearTimeout(qr.timer);
    clearInterval(qr.tick);
    if (qr.id && signedIn()) { api.authed("DELETE", "/wallet/presentations/" + encodeURIComponent(qr.id)).catch(function () {}); }
    if (qr.url) { URL.revokeObjectURL(qr.url); }
    qr = idle();
    $("qr-panel").hidden = true;
    $("qr-img").removeAttribute("src");
  }

  return { open, stop };
}
