/* Where am I, and how a hall reads: the browser's position (wgs84), else central Hefei (gcj02). */

const HEFEI = { lat: 31.8206, lng: 117.2272, coord: "gcj02", label: "未获取到定位，按合肥市中心展示" };
let place = null;            // {lat, lng, coord, label}, asked once per page

export function locate() {
  if (place) { return Promise.resolve(place); }
  return new Promise(function (resolve) {
    let done = false;
    function finish(p) { if (!done) { done = true; place = p; resolve(p); } }
    if (!navigator.geolocation) { finish(HEFEI); return; }
    setTimeout(function () { finish(HEFEI); }, 5000);
    navigator.geolocation.getCurrentPosition(function (pos) {
      finish({ lat: pos.coords.latitude, lng: pos.coords.longitude, coord: "wgs84", label: "按当前位置" });
    }, function () { finish(HEFEI); }, { timeout: 4000, maximumAge: 600000 });
  });
}

/* The query string of a position. */
export function where(p) { return "lat=" + p.lat.toFixed(6) + "&lng=" + p.lng.toFixed(6) + "&coord=" + p.coord; }

export function distance(m) { return m >= 1000 ? (m / 1000).toFixed(1) + " 公里" : Math.round(m) + " 米"; }

/* Open now or not, and today's hours; a day without hours (an empty list) is a closed day. */
export function hallState(h) {
  const today = h.today || {};
  const hours = today.hours || [];
  if (!hours.length) { return "今日休息" + (today.closed_reason ? "（" + today.closed_reason + "）" : ""); }
  return (h.open_now ? "营业中" : "已休息") + " · 今日 " + hours.join("、");
}
