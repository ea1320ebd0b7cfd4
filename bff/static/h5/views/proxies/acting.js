/* Acting for someone (代办): POST /proxies/{id}/session gives a short-lived delegated token (no
 * refresh). It lives in its own sessionStorage Store ("yiwang.h5.acting") behind a second API client,
 * handed to the shell with ctx.actAs(...): the banner shows on every screen and delegable calls go
 * through ctx.client(). A reload restores it while the token is still valid; a 401 (expired, or the
 * grant revoked) ends it. While acting for a grant, its page shows the principal's own licences and
 * cases through the delegated client. */
import { Store, createClient } from "/static/web/api.js";
import { t } from "../../i18n.js";
import { button, clear, el, empty, item, problem, say, send } from "../../ui.js";

const ACTING_KEY = "yiwang.h5.acting";
const HEADERS = { "X-Client": "h5", "X-Client-Version": "1.1.0" };

const acting = new Store(sessionStorage, ACTING_KEY);  // {access, grantId, name, scopes, userId, expiresAt}
let lapse = null;  // the timer that ends acting when the token runs out

/* The delegated client. A refusal ends acting only while its token is still the one held (an answer
 * arriving late for an earlier token leaves a newer one alone). */
function actingClient(ctx, token) {
  return createClient({ session: acting, headers: HEADERS, onExpired: () => {
    if (acting.data && acting.data.access === token) { endActing(ctx, true); }
  } });
}

/* The delegated client to the shell: the banner shows, delegable calls go through ctx.client(). The
 * banner goes when the token runs out, even if nothing is asked by then. */
function handOver(ctx, data) {
  ctx.actAs({ client: actingClient(ctx, data.access), name: data.name, grantId: data.grantId, scopes: data.scopes });
  clearTimeout(lapse);
  lapse = setTimeout(() => endActing(ctx, true), Math.max(0, data.expiresAt - Date.now()));
}

function startActing(ctx, data) {
  acting.save(data);
  handOver(ctx, data);
}

/* Forget the delegated token (the shell clears the banner, or endActing does). */
export function forget() {
  clearTimeout(lapse);
  acting.clear();
}

/* End acting here (the token expired or the grant no longer holds: `lapsed`). */
export function endActing(ctx, lapsed) {
  if (!ctx.acting && !acting.data) { return; }
  forget();
  ctx.actAs(null);
  if (lapsed) {
    say(t("代办授权已失效或已到时，已结束代办。", "The proxy authorisation has ended or timed out: you are no longer acting for them."));
  }
  ctx.refresh();
}

/* After a reload: the delegated token of this tab, when it is still valid and this person's. */
export function restoreActing(ctx) {
  const data = acting.data;
  const user = ctx.user();
  if (!data) { return; }
  if (!user || data.userId !== user.id || !(data.expiresAt > Date.now() + 5000)) { acting.clear(); return; }
  handOver(ctx, data);
}

export function actFor(ctx, grant, b) {
  send(b, () => ctx.api.call("POST", "/proxies/" + encodeURIComponent(grant.id) + "/session"),
    t("无法开始代办。", "Could not start acting for them."), (r) => {
      const user = ctx.user();
      startActing(ctx, {
        access: r.data.access_token, grantId: r.data.grant_id, name: (r.data.principal && r.data.principal.name_masked) || "",
        scopes: String(r.data.scope || "").split(" ").filter(Boolean), userId: user && user.id,
        expiresAt: Date.now() + (Number(r.data.expires_in) || 0) * 1000,
      });
      say(t("现在正在代 " + ctx.acting.name + " 办理：下面和证照、办件、预约页面显示的都是对方的信息；办完请点上方的“结束代办”。",
            "You are now acting for " + ctx.acting.name + ": below, and on the licence, case and appointment screens, you see their information. Tap Stop above when you are done."), "info");
      ctx.refresh();
    });
}

/* While acting for this grant: the principal's own licences and cases, through the delegated client. */
export function principalData(ctx) {
  const wrap = el("div", "proxy-acting-data");
  wrap.id = "proxy-acting-data";
  const who = ctx.acting.name;
  const scopes = ctx.acting.scopes || [];
  wrap.appendChild(el("p", "hint", t("以下是 " + who + " 的信息（代办中，每次查看都会记入代办记录）。",
    "This is " + who + "'s information (you are acting for them; every look is recorded).")));
  function block(title, id, path, render, more) {
    wrap.appendChild(el("h3", null, title));
    const list = el("ul", "list");
    list.id = id;
    wrap.appendChild(list);
    ctx.client().call("GET", path).then((r) => {
      if (!list.isConnected) { return; }
      clear(list);
      if (!r.ok) { problem(r); return; }
      r.data.items.forEach((x) => render(list, x));
      if (!list.firstChild) { empty(list, t("暂无", "Nothing yet")); }
    });
    wrap.appendChild(button(more, () => ctx.go(path.split("/")[1] === "wallet" ? "wallet" : "cases"), "secondary"));
  }
  if (scopes.indexOf("licences:view") >= 0) {
    block(t(who + " 的证照", who + "'s licences"), "proxy-principal-licences", "/wallet/licences",
      (list, c) => item(list, c.type_name, c.status_label + (c.valid_until ? t(" · 有效期至 ", " · valid until ") + c.valid_until : "")),
      t("打开证照", "Open the licences"));
  }
  if (scopes.indexOf("cases:follow") >= 0) {
    block(t(who + " 的办件", who + "'s cases"), "proxy-principal-cases", "/cases",
      (list, c) => item(list, c.item_name, c.status_label + " · " + c.case_no), t("打开办件", "Open the cases"));
  }
  return wrap;
}
