/* 离线核验 on the counter page: an offline QR (YWO1:…) scanned into the box is checked here with the cached
 * trust list (offline.js) — no request is sent for it — and its verdict shown on the card. The trust list
 * is refreshed when the page starts and whenever the browser comes back online; the line under the scan
 * box says which copy is in use. All data goes into the page through textContent (never as markup). */
import { $, clear, el, formatTime } from "/static/web/dom.js";
import { PREFIX, seenOnDevice, trustList, verifyOffline } from "./offline.js";

const REFUSALS = {
  malformed: ["不是有效的离线亮证码", "Not a valid offline code"],
  unknown_key: ["签名密钥不在信任列表中", "Signing key not in the trust list"],
  signature_invalid: ["签名验证失败（内容被改动）", "Signature check failed (content altered)"],
  not_yet_valid: ["生成时间晚于本机时间，请校准本机时钟", "Made later than this device's clock: check the clock"],
  expired: ["离线亮证码已过期", "Offline code expired"],
  issuer_unknown: ["发证机关不在信任列表中", "Issuer not in the trust list"],
  issuer_key_revoked: ["发证机关密钥已被吊销", "The issuer's key has been revoked"],
  issuer_type_not_allowed: ["该发证机关无权签发此类证照", "The issuer may not issue this licence type"],
  seen_before: ["本机已扫过此码（重复出示）", "Seen before on this device (shown again)"],
  matter_mismatch: ["该码不是为所选办理事项出示的", "This code was made for another matter"],
  no_trust_list: ["本机没有信任列表，请联网后刷新页面", "No trust list on this device: go online and reload"],
};
const TEXT = {
  ok: ["✔ 离线核验通过", "✔ Verified offline"], fail: ["✘ 离线核验未通过", "✘ Not verified (offline)"],
  holder: ["持证人", "Holder"], tail: ["证件号后4位", "ID number, last 4"], issuer: ["发证机关", "Issuer"],
  identifier: ["证照标识", "Licence identifier"], until: ["码有效至", "Code valid until"],
  compare: ["请核对本人及其身份证件：姓名与证件号后4位须一致。", "Check the person and their ID card: name and last 4 of the ID number must match."],
  state: ["离线核验：信任列表更新于 ", "Offline checks: trust list of "], none: ["离线核验：本机尚无信任列表", "Offline checks: no trust list yet"],
  later: ["（该机关密钥已于其后吊销）", " (the issuer's key was revoked later)"],
};

/* {t, fieldLabel, matterName, chosenMatter, row} from counter.js; answers {handles(text), scan(text), refresh()}. */
export function offlineMode({ t, fieldLabel, matterName, chosenMatter, row }) {
  let trust = null;

  function showState() {
    $("offline-state").textContent = trust ? t(TEXT.state) + formatTime(new Date(trust.fetchedAt)) : t(TEXT.none);
  }

  function refresh() {
    return trustList().then((list) => { trust = list; showState(); }, () => { trust = null; showState(); });
  }

  function card(ok, heading) {
    const node = $("card");
    clear(node);
    node.className = ok ? "card ok" : "card fail";
    node.appendChild(el("p", "verdict", t(ok ? TEXT.ok : TEXT.fail)));
    if (heading) { node.appendChild(el("p", "reason", heading)); }
    node.hidden = false;
    return node;
  }

  function scan(text) {
    if (!trust) { card(false, t(REFUSALS.no_trust_list)); return; }
    const result = verifyOffline(text, trust, Math.floor(Date.now() / 1000), seenOnDevice());
    const p = result.payload;
    if (result.status === "refused") { card(false, t(REFUSALS[result.reason] || REFUSALS.malformed)); return; }
    const chosen = chosenMatter();
    if (chosen && p.matter !== chosen) {
      const node = card(false, t(REFUSALS.matter_mismatch));
      node.appendChild(el("p", "advice", matterName(p.matter)));
      return;
    }
    const node = card(result.status === "verified", result.status === "seen_before" ? t(REFUSALS.seen_before) : "");
    node.appendChild(el("p", "matter-line", matterName(p.matter)));
    const dl = el("dl");
    row(dl, t(TEXT.holder), p.nameMasked);
    row(dl, t(TEXT.tail), p.idTail4);
    p.fields.forEach((f) => { row(dl, fieldLabel(p.typeCode, f.key), f.value); });
    row(dl, t(TEXT.issuer), (result.issuerName || p.uscc) + (result.flags.length ? t(TEXT.later) : ""));
    row(dl, t(TEXT.identifier), p.identifier);
    row(dl, t(TEXT.until), formatTime(new Date(p.expiresAt * 1000), { seconds: true }));
    node.appendChild(dl);
    node.appendChild(el("p", "advice", t(TEXT.compare)));
  }

  window.addEventListener("online", refresh);
  return { handles: (text) => text.startsWith(PREFIX), scan, refresh };
}
