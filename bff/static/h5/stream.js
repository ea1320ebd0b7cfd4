/* The signed-in account's live notifications (Server-Sent Events). EventSource cannot send the
 * Authorization header and the stream takes no token in its URL, so the answer is read as a stream
 * (the shared client's request) and its events are parsed here: Last-Event-ID to resume, at least
 * once (de-duplicated by id), reconnecting until stopped. The state shows in #stream-state and in
 * the body's data-stream (open | closed).
 * The server words each event in the stream's language (the request's Accept-Language, the page's
 * language): when the page's language changes (<html lang>), the stream reconnects from its last
 * event, so the next notices come in the new language. */
import { $ } from "/static/web/dom.js";
import { english, t } from "./i18n.js";

/* The stream's state in words, in the page's language (the line keeps the state in data-state, so a
 * view can say it again after a language change). */
export function describe(state) {
  return {
    connecting: t("○ 实时消息连接中…", "○ Connecting live updates…"),
    open: t("● 实时消息已连接", "● Live updates on"),
    retrying: t("○ 实时消息重连中…", "○ Live updates reconnecting…"),
    limited: t("○ 实时消息已在其他设备或页面打开，10 分钟后重试", "○ Live updates are open on another device or page; retrying in 10 minutes"),
    stopped: "",
  }[state] || "";
}

/* api: the page's client; signedIn(): whether to (re)connect; onNotice(notice): a new notification;
 * onExpired(): the session could not be refreshed. */
export function liveStream({ api, signedIn, onNotice, onExpired }) {
  const stream = { controller: null, lastId: null, retry: null, ended: null, seen: {}, live: [], english: null };

  function state(name) {
    const line = $("stream-state");
    line.setAttribute("data-state", name);
    line.textContent = describe(name);
  }

  function start() {
    if (stream.controller || !signedIn() || !window.ReadableStream) { return; }
    const controller = new AbortController();
    stream.controller = controller;
    stream.english = english();  // the language the server words this connection's events in
    if (!stream.lastId) { state("connecting"); }
    const headers = { "Accept": "text/event-stream" };
    if (stream.lastId) { headers["Last-Event-ID"] = stream.lastId; }
    api.request("GET", "/notifications/stream", { headers, signal: controller.signal }).then(function (response) {
      if (response.status === 401) {
        return api.refresh().then(function (ok) { if (!ok) { onExpired(); } throw new Error("401"); });
      }
      if (!response.ok || !response.body) { throw new Error("stream " + response.status); }
      state("open");
      document.body.setAttribute("data-stream", "open");
      return read(response.body.getReader());
    }).catch(function () { /* reconnect below */ }).then(function () {
      if (stream.controller !== controller) { return; }
      stream.controller = null;
      document.body.setAttribute("data-stream", "closed");
      // a 4th stream of this account closed this one: taking it back would close another, so wait as the server asks
      const limited = stream.ended && stream.ended.indexOf("stream_limit") >= 0;
      stream.ended = null;
      if (signedIn() && limited) { state("limited"); stream.retry = setTimeout(start, 600000); }
      else if (signedIn()) { state("retrying"); stream.retry = setTimeout(start, 3000); }
    });
  }

  function read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { return; }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
        return pump();
      });
    }
    return pump();
  }

  function dispatch(block) {
    let id = null, type = "message";
    const data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") { return; }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") { id = value; } else if (field === "event") { type = value; } else if (field === "data") { data.push(value); }
    });
    if (id) { stream.lastId = id; }
    if (type === "end") { stream.ended = data.join("\n"); return; }  // session_revoked | stream_limit
    if (type !== "notification" || !data.length) { return; }
    let notice;
    try { notice = JSON.parse(data.join("\n")); } catch (e) { return; }
    if (stream.seen[notice.id]) { return; }  // at least once: de-duplicate by id
    stream.seen[notice.id] = true;
    stream.live.unshift(notice);
    onNotice(notice);
  }

  function stop() {
    clearTimeout(stream.retry);
    const controller = stream.controller;
    stream.controller = null;
    if (controller) { controller.abort(); }
    state("stopped");
    stream.lastId = null;
    stream.seen = {};
    stream.live = [];
  }

  /* The page's language changed: an open (or opening) stream reconnects in the new one. */
  function relanguage() {
    const controller = stream.controller;
    if (!controller || stream.english === english()) { return; }
    stream.controller = null;
    controller.abort();
    start();
  }
  new MutationObserver(relanguage).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });

  /* The notifications the stream delivered since it started, newest first. */
  function live() { return stream.live; }

  return { start, stop, live };
}
