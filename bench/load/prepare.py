"""Prepare the mixed workload's data inside the app (run by bench/load/mixed.py as its own process).

    python bench/load/prepare.py people DATA_DIR POOL           # citizens, halls, cases, clerk, department
    python bench/load/prepare.py phase DATA_DIR LOGINS FILE     # fresh tokens, LOGINS new SMS codes in FILE

The app is built from the server's own environment (VAR_DIR, DATABASE_URL, REDIS_URL), so what
this writes lands in the server's database and Redis, through the app's own services, as in
bench/scenarios: L2 citizens (development registry entry, account, real-name check), each with a
driving licence and four cases pushed through the department API (their notices delivered to the
inbox by the notify worker), 30 bench halls around central Hefei open round the clock, one
counter clerk and one department client. Before each phase of the run, `phase` issues fresh access
tokens (they live at most 15 minutes, ACCESS_TOKEN_TTL's cap) and one-time SMS codes for new phones.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path[:0] = [os.path.dirname(BENCH), BENCH]  # the repo first, then bench/ (scenarios)

from flask import current_app  # noqa: E402

from app import create_app  # noqa: E402
from app.security.tokens import Principal  # noqa: E402
from identity import service as identity  # noqa: E402
from notify.service import NotifyWorker  # noqa: E402
from scenarios import _wallet, bff_home  # noqa: E402
from scenarios.login import prepare as login_bodies  # noqa: E402


def _write(path: str, rows: list[str]) -> None:
    with open(path, "w") as fh:
        fh.write("\n".join(rows) + "\n")


def people(data_dir: str, pool: int) -> None:
    app = current_app._get_current_object()
    bff_home._halls()
    holders = _wallet.make_holders(pool)
    client, _ = identity.create_client(name=f"压测办件系统-{secrets.token_hex(3)}", scopes=["cases:write"])
    staff = identity.create_staff(username=f"load.clerk.{secrets.token_hex(4)}",
                                  password="Bench-Counter-Pass-2026!", role="counter", hall_code="H1")
    http, run = app.test_client(), secrets.token_hex(4)
    dept = {"Authorization": f"Bearer {_tokens(client_id=client.client_id)['dept']}"}
    rows = []
    for holder in holders:
        licence_id = _wallet.issue_licence(holder)
        bff_home._cases(http, dept, holder, run)
        user_id, name, id_number, _ = holder
        rows.append("\t".join((user_id, licence_id, name, id_number)))
    NotifyWorker(app).drain()
    _write(os.path.join(data_dir, "people.tsv"), rows)
    _write(os.path.join(data_dir, "staff.json"), [json.dumps({"clerk": staff.id, "dept": client.client_id})])


def _tokens(*, client_id: str | None = None, clerk_id: str | None = None, users: list[str] = ()) -> dict:
    issue = current_app.extensions["tokens"].issue
    out: dict = {"users": [issue(Principal("citizen", u))[0] for u in users]}
    if client_id:
        out["dept"] = issue(Principal("client", client_id, scopes=frozenset({"cases:write"})), ttl=900)[0]
    if clerk_id:
        out["clerk"] = issue(Principal("staff", clerk_id, "clerk", hall_code="H1"))[0]
    return out


def phase(data_dir: str, logins: int, login_file: str) -> None:
    with open(os.path.join(data_dir, "people.tsv")) as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip()]
    with open(os.path.join(data_dir, "staff.json")) as fh:
        staff = json.loads(fh.read())
    made = _tokens(client_id=staff["dept"], clerk_id=staff["clerk"], users=[r[0] for r in rows])
    _write(os.path.join(data_dir, "citizens.tsv"),
           ["\t".join((token, licence_id, name, id_number))
            for token, (_, licence_id, name, id_number) in zip(made["users"], rows)])
    _write(os.path.join(data_dir, "clerk.txt"), [made["clerk"]])
    _write(os.path.join(data_dir, "dept.txt"), [made["dept"]])
    _write(login_file, login_bodies(logins))


def main() -> int:
    mode, data_dir = sys.argv[1], sys.argv[2]
    app = create_app({"AUTO_MIGRATE": False, "LOG_LEVEL": "WARNING"})
    started = time.perf_counter()
    with app.test_request_context():
        if mode == "people":
            people(data_dir, int(sys.argv[3]))
        else:
            phase(data_dir, int(sys.argv[3]), sys.argv[4])
    print(f"prepared {mode} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
