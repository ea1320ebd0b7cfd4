/* The counter's offline mode (离线核验): an offline QR (YWO1: + base45, wallet/offline/format.py) is checked
 * here, in the browser, with the trust list cached from GET /.well-known/yiwang/issuers — no request is
 * sent for it. SM3 and SM2 verification (GB/T 32905, GB/T 32918, default user id 1234567812345678) are
 * written out below with BigInt: no library. The checks and their codes are wallet/offline/verify.py's:
 * malformed, unknown_key, signature_invalid, not_yet_valid, expired, issuer_unknown, issuer_key_revoked,
 * issuer_type_not_allowed; a code seen before on this device within its lifetime is "seen_before".
 * The trust list is fetched while online and kept in localStorage as served (the exact body, its signature
 * and kid from the headers); its signature is checked with the platform "trust-list" key it names every
 * time it is read (a copy changed at rest is refused). That key is trusted on first use, from the origin
 * that also serves this page's code; checking its certificate against a pinned CA is left to the Python
 * verifier (`flask wallet verify-offline --ca`). */

const P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFFn;
const A = P - 3n;
const B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93n;
const N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123n;
const GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7n;
const GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0n;
const DEFAULT_ID = new TextEncoder().encode("1234567812345678");
export const PREFIX = "YWO1:";
const TRUST_KEY = "yiwang.counter.trust";
const SEEN_KEY = "yiwang.counter.offline-seen";
const CLOCK_SKEW = 60;

/* --- SM3 ------------------------------------------------------------------------------------ */

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
function rotl(x, n) { n %= 32; return ((x << n) | (x >>> (32 - n))) >>> 0; }
function p0(x) { return (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0; }
function p1(x) { return (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0; }

export function sm3(msg) {
  const len = msg.length;
  const padded = new Uint8Array(Math.ceil((len + 9) / 64) * 64);
  padded.set(msg);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
  view.setUint32(padded.length - 4, (len * 8) >>> 0);
  const v = IV.slice();
  const w = new Array(68);
  const w1 = new Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let j = 0; j < 16; j++) { w[j] = view.getUint32(off + j * 4); }
    for (let j = 16; j < 68; j++) {
      w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
    }
    for (let j = 0; j < 64; j++) { w1[j] = (w[j] ^ w[j + 4]) >>> 0; }
    let [a, b, c, d, e, f, g, h] = v;
    for (let j = 0; j < 64; j++) {
      const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
      const ss1 = rotl((rotl(a, 12) + e + rotl(t, j)) >>> 0, 7);
      const ss2 = (ss1 ^ rotl(a, 12)) >>> 0;
      const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
      const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
      const tt1 = ((ff >>> 0) + d + ss2 + w1[j]) >>> 0;
      const tt2 = ((gg >>> 0) + h + ss1 + w[j]) >>> 0;
      d = c; c = rotl(b, 9); b = a; a = tt1; h = g; g = rotl(f, 19); f = e; e = p0(tt2);
    }
    [a, b, c, d, e, f, g, h].forEach((x, i) => { v[i] = (v[i] ^ x) >>> 0; });
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  v.forEach((x, i) => ov.setUint32(i * 4, x));
  return out;
}

/* --- SM2 verification --------------------------------------------------------------------------- */

function mod(x, m = P) { const r = x % m; return r < 0n ? r + m : r; }
function powmod(b, e, m) { let r = 1n; b = mod(b, m); while (e > 0n) { if (e & 1n) { r = r * b % m; } b = b * b % m; e >>= 1n; } return r; }
function inv(x, m = P) { return powmod(x, m - 2n, m); }
function big(bytes) { let x = 0n; for (const byte of bytes) { x = (x << 8n) | BigInt(byte); } return x; }
function be32(x) { const out = new Uint8Array(32); for (let i = 31; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; } return out; }
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  parts.forEach((p) => { out.set(p, o); o += p.length; });
  return out;
}

function onCurve(x, y) { return x < P && y < P && mod(y * y - (x * x * x + A * x + B)) === 0n; }

function affineAdd(p, q) {  // affine points, null = infinity
  if (!p) { return q; }
  if (!q) { return p; }
  if (p[0] === q[0] && mod(p[1] + q[1]) === 0n) { return null; }
  const l = p[0] === q[0] ? mod((3n * p[0] * p[0] + A) * inv(2n * p[1])) : mod((q[1] - p[1]) * inv(q[0] - p[0]));
  const x = mod(l * l - p[0] - q[0]);
  return [x, mod(l * (p[0] - x) - p[1])];
}

function jDouble([x, y, z]) {  // Jacobian, a = -3
  if (z === 0n) { return [x, y, z]; }
  const delta = z * z % P; const gamma = y * y % P; const beta = x * gamma % P;
  const alpha = 3n * mod(x - delta) * (x + delta) % P;
  const x3 = mod(alpha * alpha - 8n * beta);
  const z3 = mod((y + z) * (y + z) - gamma - delta);
  return [x3, mod(alpha * (4n * beta - x3) - 8n * gamma * gamma), z3];
}

function jAddAffine(pj, q) {  // Jacobian + affine
  const [x1, y1, z1] = pj;
  if (z1 === 0n) { return [q[0], q[1], 1n]; }
  const zz = z1 * z1 % P;
  const h = mod(q[0] * zz - x1); const r = mod(q[1] * z1 % P * zz - y1);
  if (h === 0n) { return r === 0n ? jDouble(pj) : [1n, 1n, 0n]; }
  const hh = h * h % P; const hhh = h * hh % P; const v = x1 * hh % P;
  const x3 = mod(r * r - hhh - 2n * v);
  return [x3, mod(r * (v - x3) - y1 * hhh), z1 * h % P];
}

/* True iff (r, s) is a valid SM2 signature of `msg` by the public point (x, y), default user id. */
export function sm2Verify(point, msg, r, s) {
  const [x, y] = point;
  if (r < 1n || r >= N || s < 1n || s >= N || !onCurve(x, y)) { return false; }
  const entl = new Uint8Array([0, DEFAULT_ID.length * 8]);
  const z = sm3(concat(entl, DEFAULT_ID, be32(A), be32(B), be32(GX), be32(GY), be32(x), be32(y)));
  const e = big(sm3(concat(z, msg)));
  const t = (r + s) % N;
  if (t === 0n) { return false; }
  const g = [GX, GY]; const gp = affineAdd(g, point);  // Shamir: s·G + t·P in one pass
  let acc = [1n, 1n, 0n];
  for (let i = 255; i >= 0; i--) {
    acc = jDouble(acc);
    const sb = (s >> BigInt(i)) & 1n; const tb = (t >> BigInt(i)) & 1n;
    const add = sb && tb ? gp : sb ? g : tb ? point : undefined;
    if (add === null) { continue; }  // G + P is infinity: adding nothing
    if (add) { acc = jAddAffine(acc, add); }
  }
  if (acc[2] === 0n) { return false; }
  const zi = inv(acc[2]);
  const x1 = acc[0] * zi % P * zi % P;
  return (e + x1) % N === r;
}

function b64(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }

function pointOfSpki(b64text) {  // SubjectPublicKeyInfo DER: its BIT STRING ends with 04 ‖ X ‖ Y
  const der = b64(b64text);
  const pt = der.slice(der.length - 65);
  if (pt[0] !== 4) { throw new Error("not an uncompressed point"); }
  return [big(pt.slice(1, 33)), big(pt.slice(33))];
}

function derSignature(der) {  // SEQUENCE { INTEGER r, INTEGER s }, short lengths only
  if (der[0] !== 0x30 || der[1] !== der.length - 2) { throw new Error("not DER"); }
  let pos = 2; const out = [];
  for (let i = 0; i < 2; i++) {
    if (der[pos] !== 0x02) { throw new Error("not DER"); }
    const n = der[pos + 1];
    out.push(big(der.slice(pos + 2, pos + 2 + n)));
    pos += 2 + n;
  }
  if (pos !== der.length) { throw new Error("trailing bytes"); }
  return out;
}

/* --- The format ----------------------------------------------------------------------------- */

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const HOWS = ["full", "masked", "tail4"];

export function b45decode(text) {
  if (text.length % 3 === 1) { throw new Error("base45 length"); }
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3).split("").map((c) => B45.indexOf(c));
    if (chunk.some((v) => v < 0)) { throw new Error("not base45"); }
    const n = chunk.reduce((acc, v, k) => acc + v * 45 ** k, 0);
    if (chunk.length === 3) { if (n > 0xffff) { throw new Error("base45 value"); } out.push(n >> 8, n & 0xff); }
    else { if (n > 0xff) { throw new Error("base45 value"); } out.push(n); }
  }
  return new Uint8Array(out);
}

function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }

export function parsePayload(body) {
  if (body.length < 35) { throw new Error("truncated"); }
  const dv = new DataView(body.buffer, body.byteOffset, body.length);
  if (body[0] !== 1) { throw new Error("version"); }
  const lifetime = dv.getUint16(13);
  if (lifetime < 1 || lifetime > 300) { throw new Error("lifetime"); }
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 35;
  const byte = () => { if (pos >= body.length) { throw new Error("truncated"); } return body[pos++]; };
  const s8 = () => {
    const n = byte();
    if (pos + n > body.length) { throw new Error("truncated"); }
    const text = utf8.decode(body.slice(pos, pos + n)); pos += n; return text;
  };
  const [identifier, uscc, typeCode, matter, nameMasked, idTail4] = [s8(), s8(), s8(), s8(), s8(), s8()];
  const count = byte();
  if (count > 32) { throw new Error("fields"); }
  const fields = [];
  for (let i = 0; i < count; i++) {
    const key = s8(); const how = byte();
    if (how >= HOWS.length) { throw new Error("how"); }
    if (fields.some((f) => f.key === key)) { throw new Error("duplicate"); }
    fields.push({ key, how: HOWS[how], value: s8() });
  }
  if (pos !== body.length) { throw new Error("trailing bytes"); }
  const issuedAt = dv.getUint32(9);
  return { kid: hex(body.slice(1, 9)), issuedAt, lifetime, expiresAt: issuedAt + lifetime, nonce: hex(body.slice(15, 23)),
    issuerKid: hex(body.slice(23, 31)), signedAt: dv.getUint32(31), identifier, uscc, typeCode, matter,
    nameMasked, idTail4, fields };
}

/* --- The trust list and the verdict ------------------------------------------------------------ */

function ts(value) {
  if (value === undefined || value === null || value === "") { return null; }
  if (typeof value === "number") { return value; }
  const text = String(value).length === 10 ? value + "T00:00:00+08:00" : String(value);
  return Math.floor(Date.parse(text) / 1000);
}

function key(entry) {
  return { kid: entry.kid, point: pointOfSpki(entry.public_key), status: entry.status || "active",
    notBefore: ts(entry.not_before), notAfter: ts(entry.not_after), revokedSince: ts(entry.revoked_since) };
}

/* The trust list from what GET /.well-known/yiwang/issuers served: its body (the signed bytes, base64 here),
 * the YiWang-Signature header (base64 DER) and YiWang-Signature-Kid; throws unless the signature verifies
 * with the "trust-list" platform key of that kid the list itself names. */
export function openTrustList(bodyB64, signatureB64, kid) {
  const body = b64(bodyB64);
  const doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  const signer = (doc.platform_keys || []).find((k) => k.kid === kid && k.purpose === "trust-list");
  if (!signer) { throw new Error("trust list signer not listed"); }
  const [r, s] = derSignature(b64(signatureB64));
  if (!sm2Verify(pointOfSpki(signer.public_key), body, r, s)) { throw new Error("trust list signature"); }
  const platform = {};
  (doc.platform_keys || []).filter((k) => k.purpose === "presentation").forEach((k) => { platform[k.kid] = key(k); });
  const issuers = {};
  (doc.issuers || []).forEach((i) => {
    const keys = {};
    (i.keys || []).forEach((k) => { keys[k.kid] = key(k); });
    const issuer = { uscc: i.uscc, name: i.name || "", types: i.types || [], keys };
    [i.uscc, i.legacy_code].forEach((code) => { if (code) { issuers[code] = issuer; } });  // legacy: before the registry
  });
  return { platform, issuers, version: doc.version, issuedAt: doc.issued_at };
}

function liveAt(k, moment) {
  return (k.notBefore === null || k.notBefore <= moment) && (k.notAfter === null || moment <= k.notAfter);
}

/* {status: verified | seen_before | refused, reason, payload, issuerName, flags}; `seen` a Set kept by the caller. */
export function verifyOffline(text, trust, now, seen) {
  const refused = (reason, payload) => ({ status: "refused", reason, payload: payload || null, flags: [] });
  let raw; let payload;
  try {
    text = (text || "").trim();
    if (!text.startsWith(PREFIX)) { throw new Error("prefix"); }
    raw = b45decode(text.slice(PREFIX.length));
    if (raw.length <= 64 + 35) { throw new Error("truncated"); }
    payload = parsePayload(raw.slice(0, raw.length - 64));
  } catch (e) { return refused("malformed"); }
  const pk = trust.platform[payload.kid];
  if (!pk || pk.status === "revoked" || !liveAt(pk, payload.issuedAt)) { return refused("unknown_key"); }
  const sig = raw.slice(raw.length - 64);
  if (!sm2Verify(pk.point, raw.slice(0, raw.length - 64), big(sig.slice(0, 32)), big(sig.slice(32)))) {
    return refused("signature_invalid");
  }
  if (payload.issuedAt > now + CLOCK_SKEW) { return refused("not_yet_valid", payload); }
  if (now > payload.expiresAt) { return refused("expired", payload); }
  const issuer = trust.issuers[payload.uscc];
  const ik = issuer ? issuer.keys[payload.issuerKid] : null;
  if (!ik) { return refused("issuer_unknown", payload); }
  if (ik.status === "revoked" && (ik.revokedSince === null || ik.revokedSince <= payload.signedAt)) {
    return refused("issuer_key_revoked", payload);
  }
  if (!liveAt(ik, payload.signedAt)) { return refused("issuer_key_revoked", payload); }
  if (issuer.types.length && !issuer.types.includes(payload.typeCode)) { return refused("issuer_type_not_allowed", payload); }
  const flags = ik.status === "revoked" ? ["issuer_key_revoked_later"] : [];
  const seenKey = payload.kid + ":" + payload.nonce;
  if (seen.has(seenKey)) { return { status: "seen_before", reason: null, payload, issuerName: issuer.name, flags }; }
  seen.add(seenKey);
  return { status: "verified", reason: null, payload, issuerName: issuer.name, flags };
}

/* --- The page's cache (localStorage) ------------------------------------------------------------ */

function toB64(buffer) {
  let text = "";
  new Uint8Array(buffer).forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text);
}

/* The cached trust list (its signature checked again on every read), refreshed from the server when online. */
export async function trustList({ refresh = true } = {}) {
  if (refresh && navigator.onLine !== false) {
    try {
      const response = await fetch("/.well-known/yiwang/issuers", { headers: { Accept: "application/json" } });
      if (response.ok) {
        const saved = { body: toB64(await response.arrayBuffer()), signature: response.headers.get("YiWang-Signature"),
          kid: response.headers.get("YiWang-Signature-Kid"), fetched_at: Date.now() };
        openTrustList(saved.body, saved.signature, saved.kid);  // never cache one that does not verify
        localStorage.setItem(TRUST_KEY, JSON.stringify(saved));
      }
    } catch (e) { /* offline, or a list that does not verify: the cached copy below */ }
  }
  const cached = JSON.parse(localStorage.getItem(TRUST_KEY) || "null");
  if (!cached) { return null; }
  return Object.assign(openTrustList(cached.body, cached.signature, cached.kid), { fetchedAt: cached.fetched_at });
}

/* This device's codes seen within their lifetime (kid:nonce → expiry), pruned when read. */
export function seenOnDevice() {
  const now = Math.floor(Date.now() / 1000);
  const stored = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}");
  const live = new Map(Object.entries(stored).filter(([, exp]) => exp >= now));
  return {
    has: (k) => live.has(k),
    add: (k) => { live.set(k, now + 300); localStorage.setItem(SEEN_KEY, JSON.stringify(Object.fromEntries(live))); },
  };
}
