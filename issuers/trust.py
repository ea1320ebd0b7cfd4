"""The published trust list (信任列表): GET /.well-known/yiwang/issuers.

Everything a verifier needs to check licences and offline QR codes without asking YiWang: the
departments (USCC, name, region, licence types, status) with every signing key they have had
(public key, certificate chained to the platform CA, validity, status, revocation date), the
platform's own signing keys and the platform CA certificate; signed by the platform "trust-list" key.

The body served is exactly the signed bytes (canonical JSON: keys sorted, no spaces, UTF-8); the
detached SM2 signature travels in headers. A version is kept (table issuer_trust_list) and served
again, with the same ETag, until the content changes or half of its validity has passed; then the
next version is signed. `FORMAT`, `OPENSSL_EXAMPLE` and `PYTHON_EXAMPLE` are the route's OpenAPI
description; tests/issuers/test_trust_list.py runs both examples as written.
"""
from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from app.clock import rfc3339
from app.crypto import platform_keys
from app.crypto.ca import keystore, platform_ca
from app.crypto.sm3 import sm3_hex
from app.db import unit_of_work, utcnow
from issuers import models
from issuers.keys import key_status

log = logging.getLogger(__name__)

TTL = timedelta(hours=24)  # next_update = issued_at + TTL; re-signed after TTL / 2 even without a change
MAX_AGE = 300  # Cache-Control: a revocation reaches verifiers that poll within five minutes
ALG = "SM2-with-SM3"
SIGNATURE_HEADER, KID_HEADER, ALG_HEADER = "YiWang-Signature", "YiWang-Signature-Kid", "YiWang-Signature-Alg"


def canonical(value: Any) -> bytes:
    """Canonical JSON: keys sorted, no insignificant spaces, UTF-8 (no \\u escapes for non-ASCII)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def _key(row: models.IssuerKey, public_key_der: bytes, now: datetime) -> dict[str, Any]:
    entry = {"kid": row.kid, "public_key": base64.b64encode(public_key_der).decode(),
             "certificate": row.certificate_pem, "not_before": _time(row.not_before),
             "not_after": _time(row.not_after), "status": key_status(row, now)}
    if row.status == "revoked":
        entry["revoked_since"] = _time(row.revoked_since)
        entry["revocation_reason"] = row.revoked_reason
    return entry


def content(now: datetime | None = None) -> dict[str, Any]:
    """What the list says, without its version and times."""
    now = now or utcnow()
    issuers = models.list_issuers(active_only=False)
    keys = models.keys_by_issuer([i.id for i in issuers])
    listed = []
    for issuer in issuers:
        entry = {"uscc": issuer.uscc, "name": issuer.name, "region": issuer.region,
                 "types": list(issuer.type_codes), "status": issuer.status,
                 "keys": [_key(k, keystore().public_key(k.key_id).public_bytes_der(), now) for k in keys[issuer.id]]}
        if issuer.legacy_code:  # the issuer segment of licences issued before the registry
            entry["legacy_code"] = issuer.legacy_code
        listed.append(entry)
    listed.sort(key=lambda e: (e["uscc"] or "~", e.get("legacy_code") or ""))
    return {"issuers": listed, "platform_keys": platform_keys.published(),
            "ca_certificate": platform_ca().certificate_pem()}


_MEMO = timedelta(seconds=10)
_memo: tuple[datetime, models.TrustListVersion] | None = None  # (when checked, the version then current)


def forget() -> None:
    """Drop this process's memo: after a change made here, the next request rebuilds the list."""
    global _memo
    _memo = None


def current() -> models.TrustListVersion:
    """The version to serve. Building the content costs ~20 ms for 50 departments (measured): a
    process keeps the version it last found current for 10 s while it is still the newest stored
    (one query), so a change made through another process shows within 10 s plus the clients'
    max-age; changes made here (keys rotated, revoked, made) drop the memo at once."""
    global _memo
    now = utcnow()
    if _memo is not None and _memo[0] <= now < _memo[0] + _MEMO:
        latest = models.latest_trust_list()
        if latest is not None and latest.version == _memo[1].version:
            return _memo[1]
    row = _current()
    _memo = (now, row)
    return row


def _current() -> models.TrustListVersion:
    """The stored version while its content is current and it is younger than TTL / 2, else a newly
    signed one."""
    now = utcnow().replace(microsecond=0)
    body = content(now)
    digest = sm3_hex(canonical(body))
    latest = models.latest_trust_list()
    if latest is not None and latest.content_sha == digest and now < latest.issued_at + TTL / 2:
        return latest
    version = (latest.version + 1) if latest else 1
    document = {"version": version, "issued_at": rfc3339(now), "next_update": rfc3339(now + TTL), **body}
    payload = canonical(document)
    kid, signature = platform_keys.sign("trust-list", payload)
    try:
        with unit_of_work():
            row = models.insert_trust_list(version=version, content_sha=digest, issued_at=now,
                                           next_update=now + TTL, body=payload, kid=kid, signature=signature)
    except pw.IntegrityError:  # another process signed this version first: serve theirs
        return models.latest_trust_list()
    log.info("trust list signed", extra={"version": version, "kid": kid, "bytes": len(payload)})
    return row


def etag(row: models.TrustListVersion) -> str:
    return sm3_hex(bytes(row.body))[:32]


def signer_certificate(kid: str) -> str | None:
    """The certificate (PEM) of a platform key or an issuer key by kid, for verifiers with the CLI."""
    key = platform_keys.by_kid(kid)
    if key is not None:
        return key.certificate_pem
    row = models.issuer_key(kid)
    return row.certificate_pem if row is not None else None


FORMAT = f"""\
信任列表（公开，无需认证）。Published trust list: every issuing department, its signing keys and
the platform keys, signed by the platform so that a verifier can check licences and offline QR codes
without calling YiWang.

**Format.** The body is exactly the signed bytes: canonical JSON (keys sorted, no spaces, UTF-8,
non-ASCII written as is). Save it byte for byte (`curl -o`); do not re-serialise it before checking.

    {{"version": int (increases), "issued_at": RFC 3339, "next_update": RFC 3339 (refetch before),
     "issuers": [{{"uscc", "name", "region", "types": [licence type codes], "status": active|suspended,
                  "legacy_code"? (issuer segment of licences issued before the registry),
                  "keys": [{{"kid", "public_key" (SPKI DER, base64), "certificate" (PEM, issued by the
                           platform CA: O/CN = the department, serialNumber = its USCC),
                           "not_before", "not_after" (the key's signing period),
                           "status": active|retired|expired|revoked, "revoked_since"?, "revocation_reason"?}}]}}],
     "platform_keys": [{{"kid", "purpose": trust-list|presentation|disclosure, "public_key", "certificate",
                        "not_before", "not_after", "status": active|retired|revoked}}],
     "ca_certificate": PEM (the platform CA; pin your own copy, obtained out of band)}}

**Signature** (detached, in headers): `{SIGNATURE_HEADER}`: base64 of the DER SM2 signature
(SEQUENCE {{r, s}}); `{KID_HEADER}`: the signing platform key's kid; `{ALG_HEADER}`: `{ALG}` (SM3,
signer ID `1234567812345678`, GM/T 0009). The signer's certificate: `GET /.well-known/yiwang/keys/{{kid}}.pem`
(also in `platform_keys`); it must chain to the platform CA and name `OU = trust-list`.
A kid is the first 16 hex digits of SM3 over the key's SubjectPublicKeyInfo (DER).

Why body + headers and not a JSON envelope: the signed bytes are the response body itself, so the
OpenSSL CLI verifies the downloaded file directly; an envelope would carry the payload in base64 inside
JSON, which OpenSSL cannot take apart (a JSON tool would be needed), and ordinary JSON clients
would have to decode it. The signature is one base64 header line.

**Checking a licence or QR code with it.** Find the issuer by USCC (or `legacy_code`) and the key by
kid; the licence version's signing time must lie within [not_before, not_after] and, for a revoked
key, before `revoked_since` (a version signed at or after it is not to be trusted). Keys stay listed
after rotation and expiry: old licences stay verifiable with the key that signed them.

**Caching.** `ETag` + `If-None-Match` → 304; `Cache-Control: public, max-age={MAX_AGE}`. A version is
re-signed when anything in it changes (a new, rotated or revoked key, a department suspended) and at
least every {int(TTL.total_seconds() // 7200)} hours; stop trusting a copy after its `next_update`.
"""

OPENSSL_EXAMPLE = """\
BASE=https://yiwang.example
# once, out of band: the platform CA certificate to pin (also GET /api/v1/signing/ca.pem)
curl -sf -o ca.pem "$BASE/api/v1/signing/ca.pem"
# the list: the body is the signed bytes; the signature and its kid are headers
curl -sf -D headers.txt -o issuers.json "$BASE/.well-known/yiwang/issuers"
kid=$(tr -d '\\r' < headers.txt | grep -i '^yiwang-signature-kid:' | cut -d' ' -f2)
tr -d '\\r' < headers.txt | grep -i '^yiwang-signature:' | cut -d' ' -f2 | openssl base64 -d -A -out issuers.sig
# the signer: a platform certificate for the trust list, issued by the pinned CA
curl -sf -o signer.pem "$BASE/.well-known/yiwang/keys/$kid.pem"
openssl verify -vfyopt distid:1234567812345678 -CAfile ca.pem signer.pem
openssl x509 -in signer.pem -noout -subject | grep -q 'OU = trust-list'
openssl x509 -in signer.pem -noout -pubkey -out signer.pub
# the signature: SM2 with SM3 and the standard signer ID over the exact bytes served
openssl pkeyutl -verify -pubin -inkey signer.pub -rawin -digest sm3 \\
    -pkeyopt distid:1234567812345678 -in issuers.json -sigfile issuers.sig
"""

PYTHON_EXAMPLE = '''\
# pip install gmssl asn1crypto   (pure Python; gmssl 3.2.2 checks neither the DER form nor the
# range of r and s, and mangles public keys given with their 04 prefix: both handled here)
import base64, json, urllib.request
from datetime import datetime, timezone
from asn1crypto import algos, pem, x509
from gmssl import func, sm2, sm3

BASE = "https://yiwang.example"
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def sm2_verify(point: bytes, signature: bytes, message: bytes) -> bool:
    """SM2-with-SM3, signer ID 1234567812345678; `point` = 04 || x || y."""
    try:
        sig = algos.DSASignature.load(signature)
        r, s = sig["r"].native, sig["s"].native
    except ValueError:
        return False
    if algos.DSASignature({"r": r, "s": s}).dump() != signature or not (0 < r < N and 0 < s < N):
        return False  # not strict DER, or r / s out of range
    verifier = sm2.CryptSM2(private_key=None, public_key="")
    verifier.public_key = point[1:].hex()  # set directly: the constructor strips leading 0/4 digits
    return bool(verifier.verify_with_sm3(f"{r:064x}{s:064x}", message))


def load_cert(text: str) -> x509.Certificate:
    return x509.Certificate.load(pem.unarmor(text.encode())[2])


def checked_signer(cert_pem: str, ca: x509.Certificate, kid: str) -> bytes:
    """The signer's public point, once its certificate is shown to come from the pinned CA."""
    cert = load_cert(cert_pem)
    now = datetime.now(timezone.utc)
    assert cert.issuer == ca.subject and not cert.ca, "not issued by the platform CA"
    assert sm2_verify(ca.public_key["public_key"].native, cert["signature_value"].native,
                      cert["tbs_certificate"].dump()), "certificate signature"
    assert cert.not_valid_before <= now <= cert.not_valid_after, "certificate not valid now"
    assert cert.subject.native.get("organizational_unit_name") == "trust-list", "not a trust-list key"
    assert sm3.sm3_hash(func.bytes_to_list(cert.public_key.dump()))[:16] == kid, "kid"
    return cert.public_key["public_key"].native


def fetch_trust_list(ca_pem: str) -> dict:
    with urllib.request.urlopen(BASE + "/.well-known/yiwang/issuers") as answer:
        body = answer.read()  # the exact signed bytes
        signature = base64.b64decode(answer.headers["YiWang-Signature"])
        kid = answer.headers["YiWang-Signature-Kid"]
    with urllib.request.urlopen(f"{BASE}/.well-known/yiwang/keys/{kid}.pem") as answer:
        signer_pem = answer.read().decode()
    point = checked_signer(signer_pem, load_cert(ca_pem), kid)
    if not sm2_verify(point, signature, body):
        raise ValueError("trust list signature does not verify")
    trust_list = json.loads(body)
    if datetime.fromisoformat(trust_list["next_update"]) < datetime.now(timezone.utc):
        raise ValueError("trust list out of date")
    return trust_list


if __name__ == "__main__":
    trust_list = fetch_trust_list(open("ca.pem").read())
    print("trust list", trust_list["version"], "verified:", len(trust_list["issuers"]), "issuers")
'''

DESCRIPTION = (FORMAT + "\n**Verify with the OpenSSL CLI** (OpenSSL 3; bash):\n\n```sh\n" + OPENSSL_EXAMPLE
               + "```\n\n**Verify in Python** (gmssl, pure Python; `cryptography` cannot load SM2 keys):\n\n"
               "```python\n" + PYTHON_EXAMPLE + "```\n")
