/* The web pages' one HTTP client (ES module, no build step): the H5 demo (/m/) and the counter page
 * (/counter/) import it from /static/web/api.js.
 *
 * - requests to this origin's API only: JSON in and out, the bearer token, no cookies, never cached;
 * - problem+json answers made readable (detail, then the field errors);
 * - one token refresh on 401 token_invalid (a single refresh in flight), then the call again;
 * - Accept-Language from the page's language setting (a stored preference, else <html lang>);
 * - the tokens in a Storage the page chooses (the pages use sessionStorage: gone with the tab) and the
 *   display preferences (language, elderly mode) beside them.
 * Tokens never go into a URL. */

export const API = "/api/v1";
const ACCEPT = "application/json, application/problem+json";
const PREFERENCES = "yiwang.preferences";

/* A JSON value kept under `key` in a Storage (sessionStorage for the pages' tokens). */
export class Store {
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
    this.data = this.load();
  }

  load() {
    try { return JSON.parse(this.storage.getItem(this.key)) || null; } catch (e) { return null; }
  }

  /* Keep `data` (the current value when omitted); null forgets it. */
  save(data = this.data) {
    this.data = data || null;
    if (this.data) { this.storage.setItem(this.key, JSON.stringify(this.data)); } else { this.storage.removeItem(this.key); }
  }

  clear() { this.save(null); }
}

/* Display preferences of this tab: the language of the API's messages and elderly mode (大字版). The
 * server keeps the account's own setting (/bff/preferences); this copy lets a reload start in it. */
const preferenceStore = new Store(sessionStorage, PREFERENCES);

export const preferences = {
  language() {
    return (preferenceStore.data && preferenceStore.data.lang) || document.documentElement.lang || "zh-CN";
  },
  setLanguage(lang) { preferenceStore.save(Object.assign({}, preferenceStore.data, { lang: lang || undefined })); },
  elderly() { return !!(preferenceStore.data && preferenceStore.data.elderly); },
  setElderly(on) {
    preferenceStore.save(Object.assign({}, preferenceStore.data, { elderly: !!on }));
    applyElderly();
  },
};

/* The page in large type (the `elderly` class on <html>) when elderly mode is on. */
export function applyElderly() {
  document.documentElement.classList.toggle("elderly", preferences.elderly());
}

/* An answer as {status, ok, data}: data is the JSON body ({} when there is none or it is not JSON). */
export function parse(response) {
  return response.text().then((text) => {
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    return { status: response.status, ok: response.ok, data: data || {} };
  });
}

function reasons(errors) {
  if (errors === null || errors === undefined) { return []; }
  if (typeof errors !== "object") { return [String(errors)]; }
  const values = Array.isArray(errors) ? errors : Object.keys(errors).map((k) => errors[k]);
  return values.reduce((all, value) => all.concat(reasons(value)), []);
}

/* A problem+json body in words for a person: its detail and the reasons of its field errors
 * (`errors`: field → reasons, possibly nested; the API words both in the page's language), else
 * `fallback`. */
export function problemMessage(data, fallback) {
  const detail = (data && data.detail) || "";
  const why = reasons(data && data.errors).filter((r, i, all) => r && all.indexOf(r) === i && r !== detail);
  if (!detail && !why.length) { return fallback || "请求失败，请稍后再试。"; }
  if (!why.length) { return detail; }
  const zh = /^zh\b/i.test(preferences.language());
  const list = why.join(zh ? "；" : "; ");
  return detail ? detail + (zh ? "（" + list + "）" : " (" + list + ")") : list;
}

/* A client of this origin's API.
 *   session   a Store of {access, refresh, …} (the page's other fields are kept as they are);
 *   headers   sent on every call (the H5 page identifies itself: X-Client, X-Client-Version);
 *   onExpired called with "expired" when a refresh failed, "rejected" on any other 401;
 *   onStepUp  (optional) called with a 403 problem that names a `step_up_url` (step_up_required,
 *             assurance_level_insufficient, liveness_required: issue 19) or a `consent_url`
 *             (identity_consent_required); it runs the step-up (or the consent) and resolves true
 *             when done, and the request is then asked once more, unchanged. Concurrent refusals share
 *             one prompt; a second 403 after it is answered as it is (no loop). */
export function createClient({ session, headers = {}, onExpired = () => {}, onStepUp = null }) {
  let refreshing = null;
  let steppingUp = null;

  function headersFor(extra, json, auth) {
    const h = Object.assign({ "Accept": ACCEPT, "Accept-Language": preferences.language() }, headers);
    if (json) { h["Content-Type"] = "application/json"; }
    const tokens = session.data;
    if (auth && tokens && tokens.access) { h["Authorization"] = "Bearer " + tokens.access; }
    return Object.assign(h, extra || {});
  }

  /* One request, as it is: `auth` (default true) sends the bearer token when signed in. */
  function request(method, path, { body, headers: extra, auth = true, signal } = {}) {
    return fetch(API + path, {
      method, headers: headersFor(extra, body !== undefined, auth), credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body), signal,
    });
  }

  /* A new token pair from the refresh token; false when there is none or it was refused. */
  function refresh() {
    const tokens = session.data;
    if (!tokens || !tokens.refresh) { return Promise.resolve(false); }
    if (!refreshing) {
      refreshing = request("POST", "/auth/refresh", { body: { refresh_token: tokens.refresh }, auth: false })
        .then(parse)
        .then((r) => {
          const current = session.data;
          if (!r.ok || !r.data.access_token || !current) { return false; }
          current.access = r.data.access_token;
          if (r.data.refresh_token) { current.refresh = r.data.refresh_token; }
          if (r.data.user) { current.user = r.data.user; }
          session.save(current);
          return true;
        }, () => false)
        .then((ok) => { refreshing = null; return ok; });
    }
    return refreshing;
  }

  /* A signed-in request (the raw Response): on 401 token_invalid, refresh once and ask again. A 401
   * to a token that is no longer the session's ends nothing: signed out meanwhile, it is answered as
   * it is; refreshed (or another person signed in) meanwhile, the call is asked again with the new one. */
  function authed(method, path, options) {
    const sent = session.data && session.data.access;
    return request(method, path, options).then((response) => {
      if (response.status !== 401) { return response; }
      if (!session.data) { return response; }
      if (session.data.access !== sent) { return request(method, path, options); }  // refreshed meanwhile
      return parse(response.clone()).then((r) => {
        if (r.data.code !== "token_invalid") { onExpired("rejected"); return response; }
        return refresh().then((ok) => {
          if (!ok) { onExpired("expired"); return response; }
          return request(method, path, options);
        });
      });
    });
  }

  /* One step-up for all the requests refused meanwhile (the prompt shows once). */
  function stepUp(problem) {
    if (!steppingUp) {
      steppingUp = Promise.resolve().then(() => onStepUp(problem)).then((ok) => !!ok, () => false)
        .then((ok) => { steppingUp = null; return ok; });
    }
    return steppingUp;
  }

  /* authed(), and a 403 naming a step_up_url or consent_url (a path of this API only) caught once per
   * code: the step-up, then the same request again (a step-up followed by a consent refusal is two
   * prompts; the same code twice is answered as it is, so it never loops). */
  function stepped(method, path, options, seen = []) {
    return authed(method, path, options).then((response) => {
      if (response.status !== 403 || !onStepUp) { return response; }
      return parse(response.clone()).then((r) => {
        const url = r.data && (r.data.step_up_url || (r.data.code === "identity_consent_required" && r.data.consent_url));
        if (typeof url !== "string" || url.indexOf(API + "/") !== 0 || seen.indexOf(r.data.code) >= 0) { return response; }
        return stepUp(r.data).then((ok) => (ok ? stepped(method, path, options, seen.concat([r.data.code])) : response));
      });
    });
  }

  return {
    request,
    refresh,
    authed,
    /* A signed-in call with a JSON body, answered as {status, ok, data} (a step-up asked on the way
     * when the client has onStepUp). */
    call: (method, path, body) => stepped(method, path, { body }).then(parse),
    /* A call without the token (login, public catalogues), answered as {status, ok, data}. */
    send: (method, path, body) => request(method, path, { body, auth: false }).then(parse),
  };
}
