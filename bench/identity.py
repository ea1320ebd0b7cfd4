"""Identity benchmark (issue 19): 网号 login, SMS-code login and an enterprise agent's delegated request,
in-process through the Flask test client, each beside a baseline measured in the same run. Prints a
Markdown table.

    .venv/bin/python bench/identity.py [-n 300] [--rounds 3] [--warmup 30] [--seconds 3] [--cpu N|-1] [--openssl PATH]

What is timed (wall clock around the requests only; each item `n` times per round after `warmup`
unmeasured calls; each figure is its best round, as in bench/crypto.py: on a shared machine a busy
spell only ever slows a round down):

- 网号 login, returning account: POST /api/v1/auth/ncid/sessions, then POST /api/v1/auth/ncid/login with
  `identity.ncid.dev_auth_data(...)` for a person who has logged in before. The login verifies one SM2
  signature (the platform's 凭据). The development gateway (NCID_BACKEND=dev) answers in-process and
  SIGNS that 凭据 with SM2 inside the request, standing in for the national platform's HTTP call; that
  signature is timed apart (`dev platform sign`) so it can be told from the app's own work.
- The bare 凭据 verification is not timed on its own: identity/ncid.py exposes no function for it (the
  check is inline in the private `_verify`, which also spends the session and writes an audit row);
  `openssl speed sm2` verify/s is printed as the reference for the one verification a login makes.
- SMS-code login, returning phone: POST /api/v1/auth/login (a fresh code is written through
  `identity.service.new_sms_code` before each call, untimed).
- GET /api/v1/wallet/licences by 李四 as himself (citizen token) and by 李四 as an agent of an enterprise
  (registered by its LR through the development business registry, agent invited and accepted, token
  from POST /api/v1/enterprises/{id}/sessions): the grant check, the action log and `acting_for` are
  the difference. Both wallets are empty.
- Baselines: a bare Flask app (bench/baseline_app.py, GET /bare -> {"ok": true}) through its own test
  client in the same process, and `openssl speed -seconds S sm2` on the same pinned CPU each round.

The app runs with APP_ENV=testing, SQLite and the embedded Redis in a temporary directory, LOG_LEVEL
WARNING (no access-log lines, as in bench/signature_evidence.py) and LOGIN_PER_IP_MINUTE=10**9 (every
request comes from 127.0.0.1). The process is pinned after the app is set up, so the embedded
redis-server (started before) is free to run on any CPU; `openssl` inherits the pin.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# This file's name is the `identity` package's: the repository must come before bench/ on the path
# (where Python put bench/ first), and bench/ is needed only for its helper modules.
sys.path[:] = [REPO] + [x for x in sys.path if os.path.abspath(x or ".") not in (HERE, REPO)] + [HERE]

from baseline_app import app as bare_app  # noqa: E402
from crypto_cases import openssl_sm2, openssl_version  # noqa: E402

from app import create_app  # noqa: E402
from app.db import db, migrate, unit_of_work  # noqa: E402
from app.redis import stop_embedded_server  # noqa: E402
from identity import ncid  # noqa: E402
from identity import service as identity  # noqa: E402
from orgs import service as orgs  # noqa: E402

ZHANG_SAN = ("张三", "340102199003071232")  # the enterprise's legal representative
LI_SI = ("李四", "340102198512154314")  # the agent
PHONES = {"lr": "13800138000", "agent": "13900139000", "sms": "13700137000"}
USCC = "91340100MA2RX7K01F"
PERSON = "BenchNcidPerson0123456789"  # 网络身份应用标识 as the development platform gives it
WALLET = "/api/v1/wallet/licences"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def expect(response, status: int):
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.path}: {response.status_code}, "
                         f"expected {status}: {response.get_data(as_text=True)[:300]}")
    return response.get_json()


class Bench:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def sms_login(self, phone: str) -> dict:
        with self.app.app_context():
            code = identity.new_sms_code(identity.phone_index(phone))
        return expect(self.client.post("/api/v1/auth/login", json={"phone": phone, "code": code}), 200)

    def verified(self, person: tuple[str, str], phone: str) -> dict:
        """A citizen at L2: in the development registry, logged in by SMS, real name verified."""
        out = self.app.test_cli_runner().invoke(args=["registry", "add", "--name", person[0], "--id-number", person[1]])
        assert out.exit_code == 0, out.output
        tokens = self.sms_login(phone)
        expect(self.client.post("/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                                headers=bearer(tokens["access_token"])), 200)
        return tokens

    def fresh_l3(self, user_id: str) -> None:
        """A face check just now (what POST /me/liveness/{id}/confirm records)."""
        with self.app.app_context(), db.connection_context(), unit_of_work():
            identity.record_assurance(user_id=user_id, level=3, method="face")

    def enterprise_agent(self) -> tuple[dict, dict]:
        """(李四's own headers, 李四's headers acting for the enterprise 张三 registered)."""
        lr = self.verified(ZHANG_SAN, PHONES["lr"])
        agent = self.verified(LI_SI, PHONES["agent"])
        lr_h, agent_h = bearer(lr["access_token"]), bearer(agent["access_token"])
        with self.app.app_context():
            orgs.add_dev_registry_entry(uscc=USCC, name="示例科技有限公司", lr_name=ZHANG_SAN[0], lr_id_number=ZHANG_SAN[1])
        self.fresh_l3(lr["user"]["id"])
        enterprise = expect(self.client.post("/api/v1/enterprises", json={"uscc": USCC}, headers=lr_h), 201)["id"]
        self.fresh_l3(lr["user"]["id"])
        until = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
        grant = expect(self.client.post(f"/api/v1/enterprises/{enterprise}/agents", headers=lr_h, json={
            "phone": PHONES["agent"], "name": LI_SI[0], "scopes": ["licences:view"], "expires_at": until}), 201)
        expect(self.client.post(f"/api/v1/enterprise-grants/{grant['id']}/accept", headers=agent_h), 200)
        session = expect(self.client.post(f"/api/v1/enterprises/{enterprise}/sessions", headers=agent_h), 200)
        return agent_h, bearer(session["access_token"])

    def ncid_login(self, auth_data: str) -> dict:
        seq = expect(self.client.post("/api/v1/auth/ncid/sessions", json={"purpose": "login"}), 201)["biz_seq"]
        return expect(self.client.post("/api/v1/auth/ncid/login", json={
            "biz_seq": seq, "id_card_auth_data": auth_data, "auth_mode": "R02"}), 200)


def timed(call, n: int, warmup: int, prepare=None) -> float:
    """Calls per second of `call(prepare())`, only `call` timed."""
    for _ in range(warmup):
        call(prepare() if prepare else None)
    gc.collect()
    took = 0.0
    for _ in range(n):
        arg = prepare() if prepare else None
        t0 = time.perf_counter()
        call(arg)
        took += time.perf_counter() - t0
    return n / took


def load_note() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=300, help="measured calls per item and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=30, help="unmeasured calls per item before each round's measurement")
    p.add_argument("--seconds", type=int, default=3, help="openssl speed -seconds")
    p.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed; -1: no pinning)")
    p.add_argument("--openssl", default="openssl")
    args = p.parse_args()

    var = tempfile.mkdtemp(prefix="bench-identity-")
    app = create_app({"APP_ENV": "testing", "VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/b.db", "REDIS_URL": "",
                      "LOG_LEVEL": "WARNING", "LOGIN_PER_IP_MINUTE": 10**9, "SMS_CODE_TTL": 3600})
    with app.app_context():
        migrate()
    bench = Bench(app)
    bare = bare_app.test_client()

    # --- setup, checked -----------------------------------------------------------------------------
    with app.app_context():
        auth_data = ncid.dev_auth_data(PERSON, mode="R02")  # deterministic for a person: made once
        gateway = ncid._gateway()
    first = bench.ncid_login(auth_data)
    again = bench.ncid_login(auth_data)
    assert first["account_created"] and not again["account_created"] and again["user"]["id"] == first["user"]["id"]
    bench.sms_login(PHONES["sms"])  # the phone's account exists: every timed SMS login is a returning one
    own_h, agent_h = bench.enterprise_agent()
    own, acting = (expect(bench.client.get(WALLET, headers=h), 200) for h in (own_h, agent_h))
    assert "acting_for" not in own and acting["acting_for"]["kind"] == "enterprise", acting
    assert own["items"] == [] and acting["items"] == []
    assert expect(bare.get("/bare"), 200) == {"ok": True}

    pinned = None
    if args.cpu != -1 and hasattr(os, "sched_setaffinity"):
        pinned = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})  # openssl speed, a child, inherits it
    exe = shutil.which(args.openssl) or args.openssl
    started = datetime.now(timezone.utc)
    print(f"{started:%Y-%m-%d %H:%M} UTC; {openssl_version(exe) or exe}; Python {platform.python_version()}; "
          f"CPU {pinned if pinned is not None else 'any'} of {os.cpu_count()}; {load_note()}")
    print(f"{args.n} calls per item and round after {args.warmup} warm-up, {args.rounds} rounds, best round; "
          f"openssl speed -seconds {args.seconds} sm2 each round")

    def sms_code():
        with app.app_context():
            return identity.new_sms_code(identity.phone_index(PHONES["sms"]))

    def platform_sign(_):
        gateway.authenticate(biz_seq="00000000-0000-4000-8000-000000000000", auth_mode="R02",
                             id_card_auth_data=auth_data, cert_pwd_data=None)

    items = {
        "bare": lambda _: bare.get("/bare"),
        "ncid": lambda _: bench.ncid_login(auth_data),
        "dev_sign": platform_sign,
        "sms": lambda code: expect(bench.client.post("/api/v1/auth/login",
                                                     json={"phone": PHONES["sms"], "code": code}), 200),
        "wallet_own": lambda _: expect(bench.client.get(WALLET, headers=own_h), 200),
        "wallet_agent": lambda _: expect(bench.client.get(WALLET, headers=agent_h), 200),
    }
    prepares = {"sms": sms_code}
    best: dict[str, float] = {}
    ossl: dict[str, float] = {}
    for r in range(args.rounds):
        found = openssl_sm2(exe, args.seconds)
        if "error" in found:
            print(f"round {r + 1}: openssl: {found['error']}")
        for k in ("sign", "verify"):
            if k in found:
                ossl[k] = max(ossl.get(k, 0.0), found[k])
        got = {name: timed(call, args.n, args.warmup, prepares.get(name)) for name, call in items.items()}
        for name, rate in got.items():
            best[name] = max(best.get(name, 0.0), rate)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in got.items())
              + f", openssl sm2 sign {found.get('sign', 0):,.0f}/s verify {found.get('verify', 0):,.0f}/s")

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}×" if a and b else "—"

    def us(rate: float) -> str:
        return f"{1e6 / rate:,.0f}"

    b = best["bare"]
    rows = [
        ("bare Flask GET /bare → {\"ok\": true} (same process)", b, "—", None),
        ("网号 login, returning account (POST ncid/sessions + POST ncid/login)", best["ncid"], "bare", b),
        ("  of which: dev platform signs the 凭据 (stands in for the platform's HTTP call)", best["dev_sign"],
         "openssl sm2 sign/s", ossl.get("sign")),
        ("bare 凭据 verification — not measured: identity/ncid.py exposes no function for it", None,
         "openssl sm2 verify/s", ossl.get("verify")),
        ("SMS-code login, returning phone (POST auth/login)", best["sms"], "bare", b),
        ("GET wallet/licences, citizen token (李四 as himself)", best["wallet_own"], "bare", b),
        ("GET wallet/licences, enterprise agent's delegated token", best["wallet_agent"], "bare", b),
        ("  delegated vs citizen (grant check + action log + acting_for)", best["wallet_agent"], "citizen token",
         best["wallet_own"]),
    ]
    print()
    print("| operation | per second | µs per call | baseline | baseline per second | ratio |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for name, ours, label, base in rows:
        print(f"| {name} | {f'{ours:,.0f}' if ours else '—'} | {us(ours) if ours else '—'} | {label} | "
              f"{f'{base:,.0f}' if base else '—'} | {ratio(ours, base)} |")
    own_us, agent_us = 1e6 / best["wallet_own"], 1e6 / best["wallet_agent"]
    print(f"\nDelegation adds {agent_us - own_us:,.0f} µs per request ({own_us:,.0f} → {agent_us:,.0f} µs); "
          f"a 网号 login costs {1e6 / best['ncid'] - 1e6 / best['sms']:,.0f} µs more than an SMS login "
          f"(its own session request and the dev platform's signature included). {load_note()} at the end.")
    stop_embedded_server(app.extensions["redis"])  # this process started it (a no-op otherwise)
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
