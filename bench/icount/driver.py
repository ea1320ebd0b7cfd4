"""The process bench/icount runs under callgrind (or natively, for the attribution pass).

It builds the app as the benchmarks do (APP_ENV=testing, a SQLite file in WAL mode, the embedded
Redis, INFO request logs written to a file, Prometheus in multi-process mode as under gunicorn), loads
the demo data, prepares every case's requests (N + warm-up WSGI environs each, built before anything
is counted, through the same `prepare` functions as bench/scenarios), then for each case: warm-up
calls, zero the counters, N calls straight into the WSGI callable, dump the counters named after the
case. Every answer's status is checked; a wrong one stops the run (exit 3) with the answer on stderr.

    python bench/icount/driver.py --mode callgrind|profile --cases a,b --n N --warmup W [--profile-out F]

`--mode profile` runs the same batches under cProfile instead (no valgrind) and writes, per case, the
share of time by library (see `group_of`) to --profile-out.
"""
from __future__ import annotations

import argparse
import atexit
import ctypes
import gc
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
# The repository first (bench/identity.py would shadow the `identity` package), bench/ last.
sys.path[:] = [REPO] + [p for p in sys.path if os.path.abspath(p or ".") not in (HERE, BENCH, REPO)] + [BENCH, HERE]

VAR = tempfile.mkdtemp(prefix="icount-")
atexit.register(shutil.rmtree, VAR, True)  # registered first, so it runs last (after the embedded Redis stops)
os.makedirs(os.path.join(VAR, "prometheus"), exist_ok=True)
# As gunicorn.conf.py does: prometheus_client picks its mode when first imported.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(VAR, "prometheus")

from werkzeug.test import EnvironBuilder  # noqa: E402

from attribution import profile  # noqa: E402
from icount_cases import CASES  # noqa: E402

POINT = (31.8206, 117.2272)

SETTINGS = {
    "APP_ENV": "testing", "LOG_LEVEL": "INFO", "AUTO_MIGRATE": False,
    "VAR_DIR": VAR, "DATABASE_URL": f"sqlite:///{VAR}/icount.db", "REDIS_URL": "",
    # every request comes from one address and one client: the limits stay out of the way
    "LOGIN_PER_IP_MINUTE": 10**9, "MAP_PER_IP_MINUTE": 10**9, "SIGNATURE_VERIFY_PER_MINUTE": 10**9,
    "SMS_CODE_TTL": 3600, "PRESENTATION_TTL": 3600, "SIGNING_REQUEST_TTL": 3600,
    # the signatures verified are made before the run by the signing service, without a face check
    "SIGNING_REQUIRE_LIVENESS": False,
    # callgrind runs the code ~50× slower: no home part may miss its time budget for that
    "BFF_PART_BUDGET_MS": 3_600_000,
}


def _env_settings() -> dict:
    """DATABASE_URL / REDIS_URL from the environment (ICOUNT_DATABASE_URL, ICOUNT_REDIS_URL) for a
    PostgreSQL + Redis run; the default is the embedded setup."""
    out = dict(SETTINGS)
    if os.environ.get("ICOUNT_DATABASE_URL"):
        out["DATABASE_URL"] = os.environ["ICOUNT_DATABASE_URL"]
    if os.environ.get("ICOUNT_REDIS_URL"):
        out["REDIS_URL"] = os.environ["ICOUNT_REDIS_URL"]
    return out


def smorest_app():
    """flask-smorest's own floor: one blueprint, a query schema in and a schema out."""
    from flask import Flask
    from flask_smorest import Api, Blueprint
    from marshmallow import Schema, fields

    class In(Schema):
        name = fields.String(required=True)

    class Out(Schema):
        name = fields.String()
        ok = fields.Boolean()

    app = Flask("bare_smorest")
    app.config.update(API_TITLE="bare", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("items", "items", url_prefix="/items")

    @blp.route("", methods=["GET"])
    @blp.arguments(In, location="query")
    @blp.response(200, Out)
    def items(args):
        return {"name": args["name"], "ok": True}

    api.register_blueprint(blp)
    return app


class Request:
    """Prebuilt WSGI environs, one per call (each with its own body stream)."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: str | None):
        builder = EnvironBuilder(path=path, method=method, headers=headers,
                                 data=body.encode() if body else None, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        self.environ = builder.get_environ()
        self.body = body.encode() if body else b""


def _from_line(method: str, scenario, text: str) -> Request:
    headers = dict(scenario.headers)
    if scenario.per_request:
        path, *rest = text.split("\t")
        body = rest.pop() if rest else ""
        headers.update(h.split(": ", 1) for h in rest)
    else:
        path, body = scenario.path, text
    return Request(method, path, headers, body or None)


def prepare(app, names: list[str], count: int) -> dict[str, list[Request]]:
    from scenarios import all_scenarios
    from scenarios import _wallet

    scenarios = all_scenarios()
    out: dict[str, list[Request]] = {}
    with app.test_request_context():
        holder = None
        for name in names:
            module = CASES[name][2]
            if module:
                scenario = scenarios[module]
                if module == "signing_verify":
                    # Every counted request verifies a signature of its own (the scenario cycles over 20): a
                    # third party rarely checks the same signature twice, so nothing memoised per signature
                    # may flatter the count. Only the signers' certificates repeat, as they do in use.
                    module_of = sys.modules[scenario.prepare.__module__]
                    module_of.DOCUMENTS = -(-count // module_of.SIGNERS)
                lines = scenario.prepare(count)
                out[name] = [_from_line(scenario.method, scenario, line) for line in lines]
            elif name in ("me",):
                holder = holder or _wallet.make_holders(1)[0]
                out[name] = [Request("GET", "/api/v1/me", {"Authorization": f"Bearer {holder[3]}"}, None)
                             for _ in range(count)]
            elif name == "nearby":
                # a different point for every request (within ~1 km of central Hefei): phones move, and an
                # answer cached by its query must not flatter the count
                out[name] = [Request("GET", f"/api/v1/map/halls/nearby?lat={POINT[0] + (i % 7) * 0.0013:.6f}"
                                     f"&lng={POINT[1] + (i // 7) * 0.0011:.6f}&limit=20", {}, None)
                             for i in range(count)]
    for name in names:
        if name.startswith("sm2_") or name == "token_first_sight":
            continue
        if name == "bare_flask":
            out[name] = [Request("GET", "/bare", {}, None) for _ in range(count)]
        elif name == "bare_smorest":
            out[name] = [Request("GET", "/items?name=abc", {}, None) for _ in range(count)]
    return out


EXPECT = {"login": 200, "presentation": 201, "case_event": 202}


def caller(app, name: str) -> Callable[[Request], None]:
    expect = EXPECT.get(name, 200)

    def call(req: Request) -> None:
        status: list[str] = []
        environ = req.environ
        environ["wsgi.input"] = io.BytesIO(req.body)
        result = app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        if not status or int(status[0][:3]) != expect:
            sys.stderr.write(f"icount: {name} answered {status} (expected {expect}): {body[:2000]!r}\n")
            raise SystemExit(3)

    return call


def sm2_floors(names: list[str], count: int) -> dict[str, tuple[Callable, list]]:
    """The SM2 floor cases: (call, inputs) — a signature of a new message each call; a verification of
    a signature of its own each call (so nothing memoised per signature counts)."""
    from app.crypto.sm2 import SM2PrivateKey

    key = SM2PrivateKey.generate()
    public = key.public_key()
    out: dict[str, tuple[Callable, list]] = {}
    if "sm2_sign" in names:
        out["sm2_sign"] = (key.sign, [f"document {i}".encode() for i in range(count)])
    if "sm2_verify" in names:
        signed = [(key.sign(f"document {i}".encode()), f"document {i}".encode()) for i in range(count)]

        def verify(item):
            if not public.verify(*item):
                raise SystemExit("icount: sm2_verify refused a good signature")

        out["sm2_verify"] = (verify, signed)
    return out


def token_floor(app, count: int) -> tuple[Callable, list]:
    """Fresh access tokens, each verified once: what a token's first request in a process pays on top."""
    from app.security.tokens import Principal

    service = app.extensions["tokens"]
    tokens = [service.issue(Principal("citizen", f"u{i:06d}"))[0] for i in range(count)]
    return service.verify, tokens


def warm_tokens(app, requests: dict[str, list[Request]]) -> None:
    """Every bearer token a case will send is verified once before counting. app/security/tokens.py keeps a
    verified token for its life, so a citizen's second and later requests to a process skip the Ed25519
    check: the cases count that steady state (a session makes many requests), and `token_first_sight`
    counts what the first request to each process adds."""
    from app.security.tokens import InvalidToken

    service = app.extensions["tokens"]
    for batch in requests.values():
        for req in batch:
            auth = req.environ.get("HTTP_AUTHORIZATION", "")
            if auth.startswith("Bearer "):
                try:
                    service.verify(auth[7:])
                except InvalidToken:  # a token a case means to be refused stays unverified
                    pass


def count(mark, label: str, call, batch, warmup: int) -> None:
    for req in batch[:warmup]:
        call(req)
    # A dump, not CALLGRIND_ZERO_STATS: zeroing resets only this thread's counters, and the home
    # screen's pool threads would carry their warm-up into the batch; a dump resets every thread.
    mark.vg_dump(f"warmup:{label}".encode())
    for req in batch[warmup:]:
        call(req)
    mark.vg_dump(label.encode())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("callgrind", "profile"), default="callgrind")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--n", type=int, default=30)
    # Python 3.11 specialises a function's bytecode after it has run a few times: with fewer warm-up calls
    # the first counted ones are dearer and the figure depends on N (bare Flask: 441k at N=5 after 3
    # warm-up calls, 364k at N=40; after 20 warm-up calls 353k and 351k).
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--profile-out")
    ap.add_argument("--quiet", action="store_true", help="the request log and the metrics hook off")
    args = ap.parse_args()
    names = [c for c in args.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        ap.error(f"unknown cases: {unknown}; known: {list(CASES)}")

    mark = ctypes.CDLL(os.environ["VGMARK"]) if os.environ.get("VGMARK") else None

    from baseline_app import app as bare_app

    from app import create_app
    from app.db import migrate

    app = create_app(_env_settings())
    with app.app_context():
        migrate()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    if result.exit_code != 0:
        sys.stderr.write(result.output)
        return 2
    apps = {"bare_flask": bare_app, "bare_smorest": smorest_app()}
    floors = sm2_floors(names, 2 * (args.n + args.warmup))
    if "token_first_sight" in names:
        floors["token_first_sight"] = token_floor(app, 2 * (args.n + args.warmup))
    per_pass = args.n + args.warmup
    requests = prepare(app, names, per_pass)
    if args.quiet:
        # A run of its own with the request log and the metrics hook off (the same requests on the same
        # state as the counted run): the difference is what logging + metrics cost (the issue's ≤ 4 %).
        logging.disable(logging.CRITICAL)
        hooks = app.after_request_funcs.get(None, [])
        hooks[:] = [f for f in hooks if f.__name__ != "_observe"]

    warm_tokens(app, requests)
    # What setting up left on the heap is not the requests' garbage: frozen, a full collection does not walk
    # it, so a case's count does not depend on how much the other cases prepared.
    gc.collect()
    gc.freeze()
    if mark is not None:
        mark.vg_start()
    shares = {}
    for name in names:
        if name in floors:
            call, batch = floors[name]
            batch = batch[:per_pass]
        else:
            call = caller(apps.get(name, app), name)
            batch = requests[name][:per_pass]
        if args.mode == "profile":
            for req in batch[:args.warmup]:
                call(req)
            shares[name] = profile(call, batch[args.warmup:])
        else:
            count(mark, name, call, batch, args.warmup)
    if args.profile_out:
        with open(args.profile_out, "w") as fh:
            json.dump(shares, fh, indent=1)
    return 0  # the embedded redis-server stops at exit (app/redis.py registers it)


if __name__ == "__main__":
    sys.exit(main())
