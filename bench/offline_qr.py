"""Offline QR benchmark (issue 17): offline verifications per second on one core — the verifier
library `wallet.offline.verify` with a parsed trust list, as a counter device runs it — and
encodes per second (payload + SM2 signature + base45), beside `openssl speed sm2` measured in the
same run on the same pinned CPU. Prints the QR's size for a driving licence shown for the vehicle
check (驾驶资格核查) with its fields.

    .venv/bin/python bench/offline_qr.py [--seconds 3] [--warmup 0.5] [--cpu N|-1] [--openssl PATH]
                                         [--json bench/results/offline_qr.json]

Single process, single thread. No database and no key store: the platform key is an in-memory
SM2 key on the same backend (SM2_BACKEND, tongsuo where installed) the key store signs with, so
"encode" is the library's part of POST /wallet/licences/{id}/offline-presentations (the request's
database work is not in it). The issue sets no goal: the figures are reported.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

import qrcode  # noqa: E402

from crypto_cases import measure, openssl_sm2, openssl_version  # noqa: E402

import issuers  # noqa: E402,F401 — the app's feature order: importing wallet first meets the wallet ↔ issuers import cycle
from app.crypto.sm2 import SM2PrivateKey, decode_signature  # noqa: E402
from app.crypto.sm3 import sm3_hex  # noqa: E402
from wallet.offline.format import PREFIX, OfflinePayload, b45decode, encode_payload, to_text  # noqa: E402
from wallet.offline.verify import TrustList, verify  # noqa: E402

IDENTIFIER = "1.2.156.3005.2.11100000000012345D002.91340100MA2TGBKX4Q.00000000000000000042.001.U"
USCC = "91340100MA2TGBKX4Q"


def kid(key: SM2PrivateKey) -> str:
    return sm3_hex(key.public_key().public_bytes_der())[:16]


def driving_vehicle_check(platform: SM2PrivateKey, issuer: SM2PrivateKey, now: int) -> OfflinePayload:
    """A driving licence as the vehicle check (驾驶资格核查) discloses it: the name masked, the class,
    the validity end and the status (wallet/matters.py)."""
    return OfflinePayload(
        kid=kid(platform), issued_at=now, lifetime=180, nonce=secrets.token_bytes(8), issuer_kid=kid(issuer),
        licence_signed_at=now - 86400 * 300, identifier=IDENTIFIER, issuer_uscc=USCC, type_code="driving_licence",
        matter="vehicle_check", holder_name_masked="欧阳**", holder_id_tail4="123X",
        fields=(("name", "masked", "欧阳**"), ("vehicle_class", "full", "A2D"), ("valid_until", "full", "2030-05-01"),
                ("status", "full", "有效")))


def encode(platform: SM2PrivateKey, payload: OfflinePayload) -> str:
    signed = encode_payload(payload)
    r, s = decode_signature(platform.sign(signed))
    return to_text(signed, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def trust_list(platform: SM2PrivateKey, issuer: SM2PrivateKey) -> TrustList:
    def entry(key, **more):
        return {"kid": kid(key), "public_key": base64.b64encode(key.public_key().public_bytes_der()).decode(),
                "status": "active", **more}
    return TrustList.from_dict({"platform_keys": [entry(platform, purpose="presentation")],
                                "issuers": [{"uscc": USCC, "name": "合肥市公安局交通警察支队", "keys": [entry(issuer)]}]})


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    return code.version


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed; -1: no pinning)")
    p.add_argument("--openssl", default="openssl")
    p.add_argument("--json", default=None, help="write the figures here too")
    args = p.parse_args()
    if args.cpu != -1 and hasattr(os, "sched_setaffinity"):
        pinned = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})  # openssl speed, a child, inherits it
    else:
        pinned = None
    platform, issuer = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    trust = trust_list(platform, issuer)
    now = int(time.time())
    text = encode(platform, driving_vehicle_check(platform, issuer, now))
    assert verify(text, trust, now=now, seen=set()).ok
    size = {"bytes": len(b45decode(text[len(PREFIX):])), "chars": len(text), "qr_version": qr_version(text)}
    print(f"QR for a driving licence, vehicle check (name masked, class, valid until, status): {size['bytes']} bytes, "
          f"{size['chars']} characters, version {size['qr_version']} at level M (limit 15)")

    exe = shutil.which(args.openssl) or args.openssl
    o_sec = max(1, round(args.seconds))
    print(f"{openssl_version(exe) or exe}; SM2 backend {platform.backend_name}; CPU {pinned if pinned is not None else 'any'}; "
          f"{args.seconds:g} s per item (+{args.warmup:g} s warm-up)")
    baseline = openssl_sm2(exe, o_sec)

    def one_verify():  # a fresh `seen` per call: the replay set is not what is measured
        verify(text, trust, now=now, seen=set())

    payload = driving_vehicle_check(platform, issuer, now)
    results = {
        "verify": measure(one_verify, args.seconds, args.warmup),
        "encode": measure(lambda: encode(platform, payload), args.seconds, args.warmup),
    }
    o_v, o_s = baseline.get("verify"), baseline.get("sign")
    print(f"offline verify/s (one core): {results['verify']['per_s']:,.0f}   openssl speed sm2 verify/s: "
          f"{o_v if o_v is not None else baseline.get('error')}"
          + (f"   ratio {results['verify']['per_s'] / o_v:.2f}" if o_v else ""))
    print(f"offline encode/s (one core): {results['encode']['per_s']:,.0f}   openssl speed sm2 sign/s:   "
          f"{o_s if o_s is not None else baseline.get('error')}"
          + (f"   ratio {results['encode']['per_s'] / o_s:.2f}" if o_s else ""))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"size": size, "ours": results, "openssl": baseline, "backend": platform.backend_name,
                       "cpu": pinned}, f, indent=2)


if __name__ == "__main__":
    main()
