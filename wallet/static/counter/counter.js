/* 柜台亮证核验: clerk login, an always-focused scan box, one result card, today's list.
 * All data goes into the page through textContent (never as markup); no inline script (CSP). */
(function () {
  "use strict";

  var API = "/api/v1";
  var STORE = "yiwang.counter";
  var RESULT_LABELS = {
    verified: "核验通过", presentation_used: "已被使用", presentation_expired: "已过期",
    presentation_invalid: "无效二维码", licence_not_valid: "证照无效", rate_limited: "操作过于频繁"
  };
  var session = load();          // {access, refresh, staff}
  var labels = {};               // type_code -> {name, fields: {key: label}}
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE)) || null; } catch (e) { return null; }
  }
  function save() {
    if (session) { sessionStorage.setItem(STORE, JSON.stringify(session)); } else { sessionStorage.removeItem(STORE); }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function formatTime(value) {
    if (!value) { return ""; }
    var d = new Date(value);
    if (isNaN(d.getTime())) { return String(value); }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  /* --- HTTP -------------------------------------------------------------------------------- */

  function request(method, path, body, auth) {
    // The page is written in Chinese: ask for the API's messages in the page's language, not the browser's.
    var headers = { "Accept": "application/json, application/problem+json",
                    "Accept-Language": document.documentElement.lang || "zh-CN" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (auth && session) { headers["Authorization"] = "Bearer " + session.access; }
    return fetch(API + path, {
      method: method, headers: headers, credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data || {} };
      });
    });
  }

  var refreshing = null;
  function refreshTokens() {
    if (!session || !session.refresh) { return Promise.resolve(false); }
    if (!refreshing) {
      refreshing = request("POST", "/auth/refresh", { refresh_token: session.refresh }, false).then(function (r) {
        refreshing = null;
        if (r.ok && r.data.access_token) {
          session.access = r.data.access_token;
          if (r.data.refresh_token) { session.refresh = r.data.refresh_token; }
          save();
          return true;
        }
        return false;
      }, function () { refreshing = null; return false; });
    }
    return refreshing;
  }

  /* An authenticated call: on 401 token_invalid, refresh once and retry; if that fails, log out. */
  function call(method, path, body) {
    return request(method, path, body, true).then(function (r) {
      if (r.status !== 401 || r.data.code !== "token_invalid") { return r; }
      return refreshTokens().then(function (fresh) {
        if (!fresh) { logout("登录已失效，请重新登录。"); return r; }
        return request(method, path, body, true);
      });
    });
  }

  /* --- Login ------------------------------------------------------------------------------- */

  function showLogin(message) {
    $("scan-view").hidden = true;
    $("who").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("password").value = "";
    $("username").focus();
  }

  function showScan() {
    $("login-view").hidden = true;
    $("scan-view").hidden = false;
    var staff = session.staff || {};
    $("who-text").textContent = (staff.username || "") + (staff.hall_code ? "（大厅 " + staff.hall_code + "）" : "");
    $("who").hidden = false;
    focusScan();
    loadToday();
  }

  function logout(message) {
    var old = session;
    session = null;
    save();
    if (old && old.access) {
      fetch(API + "/auth/logout", { method: "POST", headers: { "Authorization": "Bearer " + old.access },
        credentials: "omit" }).catch(function () {});
    }
    clear($("card")); $("card").hidden = true;
    clear($("today-list")); $("today").hidden = true;
    showLogin(message);
  }

  function onLogin(event) {
    event.preventDefault();
    var button = $("login-button");
    button.disabled = true;
    $("login-error").textContent = "";
    request("POST", "/auth/staff-login", { username: $("username").value.trim(), password: $("password").value }, false)
      .then(function (r) {
        if (r.ok && r.data.access_token) {
          session = { access: r.data.access_token, refresh: r.data.refresh_token, staff: r.data.staff || {} };
          save();
          showScan();
        } else {
          $("login-error").textContent = r.data.detail || "登录失败，请重试。";
        }
      }, function () { $("login-error").textContent = "网络异常，请稍后重试。"; })
      .then(function () { button.disabled = false; $("password").value = ""; });
  }

  /* --- Licence type labels (fetched once) -------------------------------------------------- */

  function loadLabels() {
    return request("GET", "/licence-types", undefined, false).then(function (r) {
      (r.data.items || []).forEach(function (type) {
        var fields = {};
        (type.fields || []).forEach(function (f) { fields[f.key] = f.label; });
        labels[type.code] = { name: type.name, fields: fields };
      });
    }, function () {});
  }

  function fieldLabel(typeCode, key) {
    var type = labels[typeCode];
    return (type && type.fields[key]) || key;
  }

  /* --- Scanning ---------------------------------------------------------------------------- */

  function focusScan() {
    var scan = $("scan");
    if (!$("scan-view").hidden && document.activeElement !== $("manual")) { scan.focus(); }
  }

  function verify(body) {
    if (busy) { return; }
    busy = true;
    $("status").textContent = "正在核验…";
    $("manual-button").disabled = true;
    call("POST", "/counter/verifications", body).then(function (r) {
      if (!session) { return; }
      if (r.ok && r.data.result === "verified") { showVerified(r.data); } else { showRefused(r); }
      loadToday();
    }, function () {
      showRefused({ status: 0, data: { detail: "网络异常，请稍后重试。" } });
    }).then(function () {
      busy = false;
      $("status").textContent = "";
      $("manual-button").disabled = false;
      focusScan();
    });
  }

  function onScanKey(event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    var text = $("scan").value.trim();
    $("scan").value = "";
    if (text) { verify({ qr_text: text }); }
  }

  function onManual(event) {
    event.preventDefault();
    var code = $("manual").value.replace(/\s+/g, "");
    if (!/^[0-9]{8}$/.test(code)) { showRefused({ status: 0, data: { detail: "请输入 8 位数字核验码。" } }); return; }
    $("manual").value = "";
    $("manual").blur();
    verify({ manual_code: code });
  }

  function row(dl, term, value) {
    if (value === undefined || value === null || value === "") { return; }
    dl.appendChild(el("dt", null, term));
    dl.appendChild(el("dd", null, value));
  }

  function showVerified(data) {
    var card = $("card");
    var licence = data.licence || {};
    var holder = data.holder || {};
    clear(card);
    card.className = "card ok";
    card.appendChild(el("p", "verdict", "✔ 核验通过"));
    card.appendChild(el("p", "type", licence.type_name || (labels[licence.type_code] || {}).name || licence.type_code));
    // One row per fact: the server merges the licence fields that repeat the holder's name and ID
    // number, the status and the validity end into holder/licence (licence.merged_fields).
    var dl = el("dl");
    row(dl, "持证人", holder.name || holder.name_masked);
    row(dl, "证件号码", holder.id_number || holder.id_number_masked);
    var fields = licence.fields || {};
    Object.keys(fields).forEach(function (key) { row(dl, fieldLabel(licence.type_code, key), fields[key]); });
    row(dl, "证照签发方", licence.issuer);  // the issuing system; 驾驶证 has a field 发证机关 of its own
    row(dl, "证照状态", licence.status_label || licence.status);
    row(dl, "有效期至", licence.valid_until || "长期");
    row(dl, "亮证用途", data.purpose);  // 不动产权证书 has a field 用途 (the property's use)
    row(dl, "核验时间", formatTime(data.checked_at));
    card.appendChild(dl);
    card.hidden = false;
  }

  function showRefused(r) {
    var card = $("card");
    clear(card);
    card.className = "card fail";
    card.appendChild(el("p", "verdict", "✘ 核验未通过"));
    var detail = (r.data && r.data.detail) || ("核验失败（" + r.status + "），请重试。");
    card.appendChild(el("p", "detail", detail));
    card.hidden = false;
  }

  /* --- Today's scans ----------------------------------------------------------------------- */

  function loadToday() {
    call("GET", "/counter/verifications").then(function (r) {
      var list = $("today-list");
      clear(list);
      var items = (r.ok && r.data.items) || [];
      items.forEach(function (item) {
        var li = el("li");
        var ok = item.result === "verified";
        li.appendChild(el("span", "time", formatTime(item.checked_at)));
        li.appendChild(el("span", ok ? "ok" : "fail", RESULT_LABELS[item.result] || item.result));
        if (item.type_name) { li.appendChild(el("span", null, item.type_name)); }
        var name = item.holder_name_masked || (item.holder && item.holder.name_masked);
        if (name) { li.appendChild(el("span", null, name)); }
        var fields = item.fields;
        if (fields && !Array.isArray(fields)) { fields = Object.keys(fields); }
        if (fields && fields.length) {
          li.appendChild(el("span", null, "出示：" + fields.map(function (k) {
            var code = item.type_code || Object.keys(labels).filter(function (c) { return labels[c].name === item.type_name; })[0];
            return fieldLabel(code, k);
          }).join("、")));
        }
        list.appendChild(li);
      });
      $("today").hidden = items.length === 0;
    }, function () { $("today").hidden = true; });
  }

  /* --- Start ------------------------------------------------------------------------------- */

  function start() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", function () { logout(""); });
    $("scan").addEventListener("keydown", onScanKey);
    $("scan").addEventListener("blur", function () { setTimeout(focusScan, 150); });
    $("manual").addEventListener("blur", function () { setTimeout(focusScan, 150); });
    $("manual-form").addEventListener("submit", onManual);
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (target && (target.tagName === "INPUT" || target.tagName === "BUTTON")) { return; }
      setTimeout(focusScan, 0);
    });
    window.addEventListener("focus", focusScan);
    loadLabels();
    if (session && session.access) { showScan(); } else { showLogin(""); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
