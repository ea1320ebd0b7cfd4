"""Redis Cluster guard: every Lua script, MULTI/EXEC and multi-key command names keys of one slot.

Redis Cluster refuses (CROSSSLOT) a script, a transaction or a command whose keys hash to different
slots; a standalone Redis runs them happily, so nothing else in the suite would notice a new one.
Here every command the app's connections send during representative flows is recorded at the
connection (single commands and pipelines alike), its keys are asked of the server itself
(`COMMAND GETKEYS`; a script's are its declared KEYS) and each script call, each MULTI … EXEC and
each command must stay within one slot (`redis.crc.key_slot`, the client's own hash). Every Lua
script in the code must also have run in the flows, so a new script without a flow fails too (but
for `*_STANDALONE` ones: the one-round-trip forms a single server or Sentinel takes; the flows
run with the client marked `one_slot_per_call`, as under Cluster).

`Flows` are also run against a real 3-master cluster and a Sentinel by tests/test_redis_cluster.py.
"""
from __future__ import annotations

import ast
import json
import threading
import time
from pathlib import Path

import pytest
import redis
from redis.commands.core import Script
from redis.connection import AbstractConnection
from redis.crc import key_slot

from app import calendar
from app.db import db, unit_of_work
from app.features import FEATURES
from mapsvc import directory, importer, index
from notify.outbox import enqueue
from notify.tasks import NotifyWorker
from tests import vectors
from tests.helpers import assert_problem, bearer, latest_code, rows
from tests.issuers.registry import register_client
from tests.wallet.conftest import MATTER, VERIFY, issue_body, present_url
from wallet.models import Presentation

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", *FEATURES)
CLERK_PASSWORD = "Counter-Pass-2026!"
STREAM = "/api/v1/notifications/stream"
NEARBY = "/api/v1/map/halls/nearby"
# Small limits, so that the flows reach them; a short heartbeat, so that reading the stream never waits long.
FLOW_CONFIG = {"SMS_PER_IP_HOUR": 3, "MAP_PER_IP_MINUTE": 12, "NOTIFY_SSE_HEARTBEAT": 1}


def _hall(code: str, lat: float, lng: float, hall_type: str = "gov_center", items: str = "GA001:居民身份证换领") -> dict:
    return {"code": code, "name": f"测试网点{code}", "type": hall_type, "region_code": "340104",
            "address": "合肥市蜀山区怀宁路1号", "lat": str(lat), "lng": str(lng), "phone": "0551-62000000",
            "hours": json.dumps({"mon-fri": ["09:00-12:00", "13:30-17:00"]}), "holiday_rule": "closed",
            "closures": "", "items": items, "accessibility": "barrier_free"}


class Flows:
    """What citizens, clerks and systems do that touches Redis, each with what they must see."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self.runner = app.test_cli_runner()

    def _from(self, ip: str) -> dict:
        return {"environ_base": {"REMOTE_ADDR": ip}}

    def login(self, phone: str, ip: str = "10.0.0.1") -> dict:
        """SMS code (a second request at once is refused), a wrong code, the right one, used once."""
        send = self.client.post("/api/v1/auth/sms-codes", json={"phone": phone}, **self._from(ip))
        assert send.status_code == 202, send.get_json()
        assert_problem(self.client.post("/api/v1/auth/sms-codes", json={"phone": phone}, **self._from(ip)), 429,
                       "sms_resend_too_soon")
        code = latest_code(self.client, phone)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        assert_problem(self.client.post("/api/v1/auth/login", json={"phone": phone, "code": wrong}, **self._from(ip)),
                       400, "sms_code_invalid")
        answer = self.client.post("/api/v1/auth/login", json={"phone": phone, "code": code}, **self._from(ip))
        assert answer.status_code == 200, answer.get_json()
        assert_problem(self.client.post("/api/v1/auth/login", json={"phone": phone, "code": code}, **self._from(ip)),
                       400, "sms_code_expired")
        return answer.get_json()

    def sessions(self, phone: str) -> None:
        """Refresh rotates; logout revokes the session's access tokens (through Redis) at once."""
        tokens = self.login(phone, ip="10.0.0.2")
        rotated = self.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200, rotated.get_json()
        access = rotated.get_json()["access_token"]
        assert self.client.get("/api/v1/me", headers=bearer(access)).status_code == 200
        assert self.client.post("/api/v1/auth/logout", headers=bearer(access)).status_code == 204
        assert_problem(self.client.get("/api/v1/me", headers=bearer(access)), 401, "token_invalid")

    def sms_ip_limit(self) -> None:
        """The per-IP limit refuses the fourth phone, and that refusal counts nothing against the
        phone (its counters live in another slot and are taken back): elsewhere it gets a code at once."""
        ip, phones = "10.0.0.3", vectors.PHONES[2:6]
        for phone in phones[:3]:
            assert self.client.post("/api/v1/auth/sms-codes", json={"phone": phone}, **self._from(ip)).status_code == 202
        refused = self.client.post("/api/v1/auth/sms-codes", json={"phone": phones[3]}, **self._from(ip))
        assert_problem(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        elsewhere = self.client.post("/api/v1/auth/sms-codes", json={"phone": phones[3]}, **self._from("10.0.0.4"))
        assert elsewhere.status_code == 202, elsewhere.get_json()

    def machine_token(self, scopes: str, halls: str = "") -> dict:
        out = self.runner.invoke(args=["clients", "create", "--name", f"keys {scopes}", "--scopes", scopes,
                                       "--halls", halls]).output
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        if "licences:issue" in scopes.split():  # an issuing client acts for a registered department
            register_client(self.runner, creds["client_id"])
        answer = self.client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **{
            k: creds[k] for k in ("client_id", "client_secret")}})
        assert answer.status_code == 200, answer.get_json()
        return bearer(answer.get_json()["access_token"])

    def clerk(self, username: str = "clerk.keys") -> dict:
        out = self.runner.invoke(args=["staff", "create", "--username", username, "--password", CLERK_PASSWORD,
                                       "--role", "counter", "--hall", "H1"])
        assert "created" in out.output, out.output
        assert_problem(self.client.post("/api/v1/auth/staff-login", json={"username": username, "password": "wrong"}),
                       401)
        answer = self.client.post("/api/v1/auth/staff-login", json={"username": username, "password": CLERK_PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        return bearer(answer.get_json()["access_token"])

    def wallet(self, person=vectors.ZHANG_SAN, phone: str = vectors.PHONES[0]) -> dict:
        """亮证 and 核验: a newer code retires the older one (its QR and manual code die with it); a
        code verifies once, by QR or by manual code; a withdrawn code is refused."""
        self.runner.invoke(args=["registry", "add", "--name", person[0], "--id-number", person[1]])
        tokens = self.login(phone)
        holder = bearer(tokens["access_token"])
        verified = self.client.post("/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                                    headers=holder)
        assert verified.status_code == 200, verified.get_json()
        issued = self.client.post("/api/v1/issuer/licences", json=issue_body(person),
                                  headers=self.machine_token("licences:issue"))
        assert issued.status_code == 201, issued.get_json()
        licence_id, counter = issued.get_json()["id"], self.clerk()

        def present() -> dict:
            answer = self.client.post(present_url(licence_id), json={}, headers=holder)
            assert answer.status_code == 201, answer.get_json()
            return answer.get_json()

        first, second = present(), present()
        assert second["manual_code"] != first["manual_code"]
        assert_problem(self.client.post(VERIFY, json={"qr_text": first["qr_text"], "matter": MATTER}, headers=counter), 409,
                       "presentation_used")
        assert_problem(self.client.post(VERIFY, json={"manual_code": first["manual_code"], "matter": MATTER}, headers=counter), 400,
                       "presentation_invalid")
        ok = self.client.post(VERIFY, json={"qr_text": second["qr_text"], "matter": MATTER}, headers=counter)
        assert ok.status_code == 200, ok.get_json()
        assert_problem(self.client.post(VERIFY, json={"qr_text": second["qr_text"], "matter": MATTER}, headers=counter), 409,
                       "presentation_used")
        third = present()
        by_code = self.client.post(VERIFY, json={"manual_code": third["manual_code"], "matter": MATTER}, headers=counter)
        assert by_code.status_code == 200, by_code.get_json()
        assert_problem(self.client.post(VERIFY, json={"manual_code": third["manual_code"], "matter": MATTER}, headers=counter), 409,
                       "presentation_used")
        fourth = present()
        assert self.client.delete(f"/api/v1/wallet/presentations/{fourth['id']}", headers=holder).status_code == 204
        assert_problem(self.client.post(VERIFY, json={"qr_text": fourth["qr_text"], "matter": MATTER}, headers=counter), 409,
                       "presentation_used")
        statuses = sorted(p.status for p in rows(self.app, Presentation))
        assert statuses == ["retired", "revoked", "used", "used"], statuses
        return tokens

    def halls(self) -> None:
        """就近办: import, nearby (all, by item, by type), detail, a pushed queue length, reindex, an
        index lost with Redis rebuilt on demand, and the per-IP limit (429)."""
        directory.forget()
        calendar.forget()
        records = [_hall("K-1", 31.8205, 117.2299), _hall("K-2", 31.8300, 117.2400, items="RS001:社保卡申领"),
                   _hall("K-3", 31.7900, 117.2000, hall_type="police_station")]
        with self.app.app_context(), db.connection_context():
            importer.import_records(((i + 2, r) for i, r in enumerate(records)), "gcj02")

        def nearby(ip: str = "10.0.1.1", **query) -> list[str]:
            answer = self.client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2299, **query}, **self._from(ip))
            assert answer.status_code == 200, answer.get_json()
            return [h["code"] for h in answer.get_json()["items"]]

        assert nearby() == ["K-1", "K-2", "K-3"]
        assert nearby(item="RS001") == ["K-2"]
        assert nearby(type="police_station") == ["K-3"]
        pushed = self.client.put("/api/v1/map/halls/K-2/queue", json={"length": 7},
                                 headers=self.machine_token("halls:write", halls="K-2"))
        assert pushed.status_code == 200, pushed.get_json()
        hall_id = pushed.get_json()["hall_id"]
        detail = self.client.get(f"/api/v1/map/halls/{hall_id}", **self._from("10.0.1.1"))
        assert detail.status_code == 200 and detail.get_json()["queue"]["length"] == 7
        result = self.runner.invoke(args=["halls", "reindex"])
        assert result.exit_code == 0, result.output
        assert nearby(item="RS001") == ["K-2"]
        self.app.extensions["redis"].delete(index.VERSION, index.KEY_ALL)  # as after a Redis restart
        assert nearby() == ["K-1", "K-2", "K-3"]  # rebuilt from the database on demand
        for _ in range(FLOW_CONFIG["MAP_PER_IP_MINUTE"]):
            nearby(ip="10.0.1.2")
        assert_problem(self.client.get(NEARBY, query_string={"lat": 31.8, "lng": 117.2}, **self._from("10.0.1.2")), 429,
                       "map_rate_limited")

    def live_notification(self, tokens: dict) -> None:
        """A notice queued through the outbox reaches an open stream (Redis pub/sub) once ingested."""
        response = self.client.get(STREAM, headers=bearer(tokens["access_token"]), buffered=False)
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        chunks = iter(response.response)
        try:
            assert next(chunks).startswith(b"retry:")
            with self.app.app_context(), db.connection_context(), unit_of_work():
                assert enqueue(user_id=tokens["user"]["id"], kind="case_status", title="办件进度：已受理",
                               body="您办理的事项状态更新为：已受理。", dedupe_key="redis-keys:1")
            worker = NotifyWorker(self.app, channels={})
            try:
                assert worker.drain() >= 1
            finally:
                worker.pool.shutdown(wait=True)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                chunk = next(chunks).decode()
                if chunk.startswith("id: "):
                    event = json.loads(chunk.split("data: ", 1)[1])
                    if event["title"] == "办件进度：已受理":  # the wallet flow's licence notices come first
                        return
            raise AssertionError("no live event within 10 s")
        finally:
            response.close()

    def run_all(self) -> None:
        self.sessions(vectors.PHONES[1])
        self.sms_ip_limit()
        tokens = self.wallet()
        self.halls()
        self.live_notification(tokens)


# --- The recorder ------------------------------------------------------------------------------

class CommandLog:
    """Everything sent on any redis-py connection while active: units of (transaction?, commands)."""

    def __init__(self) -> None:
        self.units: list[tuple[bool, list[tuple]]] = []
        self.scripts: set[str] = set()  # sources of the Lua scripts called
        self.active = True
        self._lock = threading.Lock()

    def install(self, monkeypatch) -> None:
        send_command, pack_commands, call_script = (AbstractConnection.send_command, AbstractConnection.pack_commands,
                                                    Script.__call__)
        log = self

        def recording_send(conn, *args, **kwargs):
            log._add(False, [args])
            return send_command(conn, *args, **kwargs)

        def recording_pack(conn, commands):
            commands = list(commands)
            names = [_name(c) for c in commands]
            if "MULTI" in names and "EXEC" in names:
                start, end = names.index("MULTI"), names.index("EXEC")
                for c in commands[:start] + commands[end + 1:]:
                    log._add(False, [c])
                log._add(True, commands[start + 1:end])
            else:
                for c in commands:
                    log._add(False, [c])
            return pack_commands(conn, commands)

        def recording_call(script, *args, **kwargs):
            if log.active:
                log.scripts.add(script.script if isinstance(script.script, str) else script.script.decode())
            return call_script(script, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_command", recording_send)
        monkeypatch.setattr(AbstractConnection, "pack_commands", recording_pack)
        monkeypatch.setattr(Script, "__call__", recording_call)

    def _add(self, transaction: bool, commands: list[tuple]) -> None:
        if self.active:
            with self._lock:
                self.units.append((transaction, commands))

    def cross_slot(self, client) -> list[str]:
        """Each script call, MULTI … EXEC or command whose keys span more than one slot."""
        self.active = False
        cache: dict[tuple, list] = {}

        def keys_of(args: tuple) -> list:
            if args not in cache:
                if _name(args) in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"):
                    cache[args] = list(args[3:3 + int(args[2])])
                else:
                    try:
                        cache[args] = client.command_getkeys(*args)
                    except redis.ResponseError:  # a command without keys
                        cache[args] = []
            return cache[args]

        found = []
        for transaction, commands in self.units:
            keys = [k for c in commands for k in keys_of(c)]
            slots = {key_slot(k.encode() if isinstance(k, str) else k) for k in keys}
            if len(slots) > 1:
                what = "MULTI[" + ", ".join(_name(c) for c in commands) + "]" if transaction else _name(commands[0])
                found.append(f"{what} over slots {sorted(slots)}: {sorted(set(map(str, keys)))[:8]}")
        return found

    def counts(self) -> dict[str, int]:
        return {"transactions": sum(1 for t, _ in self.units if t),
                "script calls": sum(1 for t, c in self.units if not t and _name(c[0]).startswith("EVAL"))}


def _name(args: tuple) -> str:
    first = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    return first.split()[0].upper()


def lua_scripts_in_code() -> dict[str, str]:
    """Every module-level string holding Lua that calls Redis (or the rate-limit check):
    {"path:NAME": source}."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str) and any(call in node.value.value for call in ("redis.call(", "check_limits("))):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            found[f"{path.relative_to(ROOT)}:{target.id}"] = node.value.value
    return found


@pytest.fixture
def command_log(monkeypatch) -> CommandLog:
    log = CommandLog()
    log.install(monkeypatch)
    return log


# --- Tests -------------------------------------------------------------------------------------

def test_every_script_transaction_and_command_of_the_flows_stays_in_one_slot(make_app, command_log):
    app = make_app(**FLOW_CONFIG)
    app.extensions["redis"].one_slot_per_call = True  # held to the cluster's rule (app/redis.py)
    Flows(app).run_all()
    crossing = command_log.cross_slot(app.extensions["redis"])
    assert crossing == [], "keys used together need a common {hash tag}:\n" + "\n".join(crossing)
    counts = command_log.counts()
    assert counts["transactions"] >= 3 and counts["script calls"] >= 20, counts  # the recorder saw them
    # *_STANDALONE scripts span slots on purpose and run only on a single server or Sentinel.
    not_run = [name for name, source in lua_scripts_in_code().items() if not name.endswith("_STANDALONE")
               and not any(source in called for called in command_log.scripts)]
    assert not_run == [], f"Lua scripts no flow here runs (add one, so the guard covers them): {not_run}"


def test_the_guard_catches_keys_of_different_slots(app, command_log):
    client = app.extensions["redis"]
    assert key_slot(b"guard:a") != key_slot(b"guard:b") and key_slot(b"{guard}:a") == key_slot(b"{guard}:b")
    client.register_script("return #KEYS")(keys=["guard:a", "guard:b"])
    client.register_script("return #KEYS")(keys=["{guard}:a", "{guard}:b"])
    with client.pipeline(transaction=True) as pipe:
        pipe.set("guard:a", 1)
        pipe.set("guard:b", 2)
        pipe.execute()
    with client.pipeline(transaction=False) as pipe:  # no MULTI: each command on its own, as a cluster client sends it
        pipe.set("guard:a", 1)
        pipe.set("guard:b", 2)
        pipe.execute()
    client.execute_command("RENAME", "guard:a", "guard:c")
    crossing = command_log.cross_slot(client)
    # the script's first EVALSHA may meet NOSCRIPT and be sent again after SCRIPT LOAD
    assert {line.split(" over ")[0] for line in crossing} == {"EVALSHA", "MULTI[SET, SET]", "RENAME"}, crossing


def test_lua_scripts_are_found_in_the_code():
    names = {name.split(":")[1] for name in lua_scripts_in_code()}
    assert {"_CHECK_LIMITS", "_CONSUME", "_REFUND", "_VERIFY", "_PUBLISH", "_SEARCH"} <= names, names
