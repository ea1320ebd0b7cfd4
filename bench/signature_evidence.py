"""Signature evidence benchmark (issue 18): on one core, sign + timestamp per second (the key store's
SM2 signature in a detached GM/T 0010 SignedData, the platform TSA's RFC 3161 token over its
signature value, added as an unsigned attribute — what signing/evidence.py does at authorisation,
without the request's database rows) and verify-with-report per second (`signing.verification.verify`
on that SignedData: CMS checks, the timestamp, revocation, article 13, the report signed by the
platform "report" key and stored), beside `openssl speed -seconds N sm2` in the same run on the
same pinned CPU. Prints a table.

    .venv/bin/python bench/signature_evidence.py [--seconds 3] [--warmup 0.5] [--cpu N|-1] [--openssl PATH]

In-process, SQLite and the embedded Redis in a temporary directory, one thread. A report is three
SM2 signatures (the TSA token checked, the SignedData checked, the report signed) plus reads and
one insert; sign + timestamp is two SM2 signatures (the citizen's, the TSA's)."""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

from crypto_cases import measure, openssl_sm2, openssl_version  # noqa: E402

from app import create_app  # noqa: E402
from app.crypto import cms, tsa, x509  # noqa: E402
from app.crypto.ca import keystore, platform_ca  # noqa: E402
from app.crypto.sm3 import sm3  # noqa: E402
from app.db import db, migrate  # noqa: E402
from signing import verification  # noqa: E402

DOCUMENT = "租赁合同：甲方、乙方，月租金三千元。".encode() * 40


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed; -1: no pinning)")
    p.add_argument("--openssl", default="openssl")
    args = p.parse_args()
    pinned = None
    if args.cpu != -1 and hasattr(os, "sched_setaffinity"):
        pinned = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})  # openssl speed, a child, inherits it
    var = tempfile.mkdtemp(prefix="bench-evidence-")
    app = create_app({"APP_ENV": "testing", "VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/b.db", "REDIS_URL": "",
                      "LOG_LEVEL": "WARNING", "SIGNATURE_VERIFY_PER_MINUTE": 10**9,
                      "SIGNING_REQUIRE_LIVENESS": False})  # the signature's cost, not the face check's
    with app.app_context():
        migrate()
    with app.test_request_context(), db.connection_context():
        key = keystore().generate(purpose="signing", owner="u_bench")
        cert = platform_ca().issue_certificate(key.public_key(), {"C": "CN", "O": "YiWang", "OU": "bench", "CN": "Bench"},
                                               days=30, key_usage={"digitalSignature"})
        signer = cms.Signer.from_key_store(x509.load_certificate(cert.pem.encode()).dump(), keystore(), key.key_id)

        def sign_and_stamp() -> bytes:
            der = cms.sign(DOCUMENT, signer=signer, detached=True, profile=cms.PROFILE_GM)
            return cms.add_unsigned_attribute(der, cms.OID_TIMESTAMP_TOKEN, tsa.timestamp(sm3(cms.parse(der).signature)))

        body = {"cms_b64": base64.b64encode(sign_and_stamp()).decode(),
                "document_b64": base64.b64encode(DOCUMENT).decode()}
        assert verification.verify(client_id="c_bench", body=body)["indication"] == "TOTAL_PASSED"
        exe = shutil.which(args.openssl) or args.openssl
        print(f"{openssl_version(exe) or exe}; CPU {pinned if pinned is not None else 'any'}; "
              f"{args.seconds:g} s per item (+{args.warmup:g} s warm-up); document {len(DOCUMENT)} bytes")
        baseline = openssl_sm2(exe, max(1, round(args.seconds)))
        signed = measure(sign_and_stamp, args.seconds, args.warmup)
        verified = measure(lambda: verification.verify(client_id="c_bench", body=body), args.seconds, args.warmup)
    rows = [("sign + timestamp (CMS GM/T 0010 + RFC 3161)", signed["per_s"], baseline.get("sign"), "openssl sign/s"),
            ("verify with signed report", verified["per_s"], baseline.get("verify"), "openssl verify/s")]
    print(f"{'operation':<46}{'per s':>10}{'openssl sm2':>14}  ratio")
    for name, ours, theirs, label in rows:
        ratio = f"{ours / theirs:.3f}" if theirs else baseline.get("error", "n/a")
        print(f"{name:<46}{ours:>10,.0f}{(theirs or 0):>14,.0f}  {ratio}   ({label})")


if __name__ == "__main__":
    main()
