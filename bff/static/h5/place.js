/* Where am I, and how a hall reads: the browser's position (wgs84), else central Hefei (gcj02); a
 * hall's distance, state today and queue in the page's language (the map and the home screen). */
import { t } from "./i18n.js";

const HEFEI = { lat: 31.8206, lng: 117.2272, coord: "gcj02", label: ["未获取到定位，按合肥市中心展示", "Location unavailable: showing central Hefei"] };
let place = null;            // {lat, lng, coord, label: [zh, en]}, asked once per page

/* The position, its label ({…, label}) in the page's language. */
export function locate() {
  const said = (p) => Object.assign({}, p, { label: t(p.label[0], p.label[1]) });
  if (place) { return Promise.resolve(said(place)); }
  return new Promise(function (resolve) {
    let done = false;
    function finish(p) { if (!done) { done = true; place = p; resolve(said(p)); } }
    if (!navigator.geolocation) { finish(HEFEI); return; }
    setTimeout(function () { finish(HEFEI); }, 5000);
    navigator.geolocation.getCurrentPosition(function (pos) {
      finish({ lat: pos.coords.latitude, lng: pos.coords.longitude, coord: "wgs84", label: ["按当前位置", "Near your current location"] });
    }, function () { finish(HEFEI); }, { timeout: 4000, maximumAge: 600000 });
  });
}

/* The query string of a position. */
export function where(p) { return "lat=" + p.lat.toFixed(6) + "&lng=" + p.lng.toFixed(6) + "&coord=" + p.coord; }

export function distance(m) {
  return m >= 1000 ? (m / 1000).toFixed(1) + t(" 公里", " km") : Math.round(m) + t(" 米", " m");
}

/* Open now or not, and today's hours; a day without hours (an empty list) is a closed day. */
export function hallState(h) {
  const today = h.today || {};
  const hours = today.hours || [];
  if (!hours.length) {
    return t("今日休息", "Closed today") + (today.closed_reason ? t("（" + today.closed_reason + "）", " (" + today.closed_reason + ")") : "");
  }
  return (h.open_now ? t("营业中", "Open now") : t("已休息", "Closed now")) + t(" · 今日 ", " · today ") + hours.join(t("、", ", "));
}

/* How long ago a queue length was reported: "3 分钟前更新". */
export function age(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  if (s < 60) { return t("刚刚更新", "updated just now"); }
  if (s < 3600) { const m = Math.floor(s / 60); return t(m + " 分钟前更新", "updated " + m + " min ago"); }
  if (s < 86400) { const h = Math.floor(s / 3600); return t(h + " 小时前更新", "updated " + h + " h ago"); }
  const d = Math.floor(s / 86400);
  return t(d + " 天前更新", "updated " + d + (d === 1 ? " day ago" : " days ago"));
}

/* The queue in words: "排队 5 人 · 3 分钟前更新", stale data said as such; "" without data. */
export function queueText(q) {
  if (!q) { return ""; }
  const line = t("排队 " + q.length + " 人", q.length + (q.length === 1 ? " person" : " people") + " waiting") + " · " + age(q.age_seconds);
  return q.stale ? line + t("（数据可能已过时）", " (may be out of date)") : line;
}
