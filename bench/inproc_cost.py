"""Per-request cost in-process, for the checkout in the current directory: Python function calls per
request (cProfile: deterministic, the same on every run) and CPU time per request (process_time, the median
of five batches). Everything goes through the HTTP API (Flask test client, CLI commands), so the same script
measures an older checkout too, which is how issue 15 compared before and after on a noisy machine:

    cd <checkout> && /path/to/.venv/bin/python /path/to/bench/inproc_cost.py OUT.json

Not a substitute for bench/run.py (gunicorn + wrk): no server, no concurrency, SQLite + embedded Redis."""
import cProfile
import json
import os
import pstats
import statistics as st
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())
from app import create_app  # noqa: E402 (the checkout in the current directory first)
from app.db import migrate  # noqa: E402

var = tempfile.mkdtemp(prefix="inproc-")
app = create_app({"APP_ENV": "testing", "VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/t.db", "REDIS_URL": "",
                  "SMS_PER_PHONE_HOUR": 100000, "SMS_PER_PHONE_DAY": 100000, "SMS_PER_IP_HOUR": 10**7,
                  "LOGIN_PER_IP_MINUTE": 10**7, "SMS_RESEND_COOLDOWN": 0, "MAP_PER_IP_MINUTE": 10**7,
                  "PRESENTATION_PER_LICENCE_MINUTE": 10**7, "COUNTER_VERIFY_PER_MINUTE": 10**7})
with app.app_context():
    migrate()
c, runner = app.test_client(), app.test_cli_runner()
def bearer(t): return {"Authorization": f"Bearer {t}"}
def code_for(phone):
    return c.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"][0]["code"]
def login(phone):
    assert c.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    r = c.post("/api/v1/auth/login", json={"phone": phone, "code": code_for(phone)}); assert r.status_code == 200, r.get_json()
    return r.get_json()["access_token"]
out = runner.invoke(args=["demo", "seed"]); assert out.exit_code == 0, out.output
NAME, IDN = "张三", "340102199003071232"
tok = login("13800138000")
r = c.post("/api/v1/me/real-name", json={"name": NAME, "id_number": IDN}, headers=bearer(tok)); assert r.status_code == 200, r.get_json()
o = runner.invoke(args=["clients", "create", "--name", "省公安厅", "--scopes", "licences:issue"])
creds = dict(l.split("=", 1) for l in o.output.splitlines() if "=" in l)
o = runner.invoke(args=["issuers", "list"])  # the demo seed's departments: bind the client to the traffic police's
dept = next(l.split()[0] for l in o.output.splitlines() if "driving_licence" in l)
o = runner.invoke(args=["issuers", "bind-client", dept, creds["client_id"]]); assert o.exit_code == 0, o.output
ctok = c.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
              "client_secret": creds["client_secret"]}).get_json()["access_token"]
body = {"type_code": "driving_licence", "holder": {"name": NAME, "id_number": IDN}, "valid_from": "2020-05-01",
        "valid_until": "2030-05-01", "reference": "ref-1",
        "data": {"name": NAME, "id_number": IDN, "sex": "男", "nationality": "中国", "address": "安徽省合肥市庐阳区长江中路1号",
                 "birth_date": "1990-03-07", "first_issued_on": "2010-05-01", "vehicle_class": "C1",
                 "valid_from": "2020-05-01", "valid_until": "2030-05-01", "status": "有效", "issuing_authority": "合肥市公安局交通警察支队"}}
r = c.post("/api/v1/issuer/licences", json=body, headers=bearer(ctok)); assert r.status_code == 201, r.get_json()
lic = c.get("/api/v1/wallet/licences", headers=bearer(tok)).get_json()["items"][0]["id"]
halls = c.get("/api/v1/halls/nearby?lat=31.8206&lng=117.2272&limit=1").get_json()
hall = halls["items"][0]["code"] if "items" in halls else None
o = runner.invoke(args=["staff", "create", "--username", "clerk.b", "--password", "Counter-Pass-2026!", "--role", "counter", "--hall", hall or "H1"])
stok = c.post("/api/v1/auth/staff-login", json={"username": "clerk.b", "password": "Counter-Pass-2026!"}).get_json()["access_token"]
presented = []
def present():
    r = c.post(f"/api/v1/wallet/licences/{lic}/presentations", json={}, headers=bearer(tok)); assert r.status_code == 201, r.get_json()
    presented.append(r.get_json()["qr_text"])
def verify():
    r = c.post("/api/v1/counter/verifications", json={"qr_text": presented.pop(), "matter": "identity_check"}, headers=bearer(stok)); assert r.status_code == 200, r.get_json()
CASES = {
    "GET /me": lambda: c.get("/api/v1/me", headers=bearer(tok)),
    "GET nearby": lambda: c.get("/api/v1/halls/nearby?lat=31.8206&lng=117.2272"),
    "GET bff/home": lambda: c.get("/api/v1/bff/home?lat=31.8206&lng=117.2272", headers=bearer(tok)),
    "POST presentation": present,
    "present + verify (pair)": lambda: (present(), verify()),
}
results = {}
for name, fn in CASES.items():
    n = 40
    for _ in range(10): fn()  # warm-up
    times = []
    for _ in range(5):
        t = time.process_time()
        for _ in range(n): fn()
        times.append((time.process_time() - t) / n * 1000)
    prof = cProfile.Profile(); prof.enable()
    for _ in range(n): fn()
    prof.disable()
    calls = pstats.Stats(prof).total_calls / n
    results[name] = {"cpu_ms": st.median(times), "calls": calls}
    print(f"{name:28s} {st.median(times):7.3f} ms  {calls:9.0f} calls", flush=True)
results["POST counter verification (pair - present)"] = {k: results["present + verify (pair)"][k] - results["POST presentation"][k] for k in ("cpu_ms", "calls")}
print(results["POST counter verification (pair - present)"])
json.dump(results, open(sys.argv[1], "w"), indent=1)
