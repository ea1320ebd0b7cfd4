"""sse_hold.py's data, written inside the app (its own process, the servers' environment).

    python bench/servers/sse_prepare.py citizens N DATA_DIR   # N L1 citizens: citizens.tsv (token, -), users.txt
    python bench/servers/sse_prepare.py notice USER_ID...     # one notice each, through the outbox

Citizens are made as bench/scenarios/map_book.py makes them (an SMS-phone account and an access
token from the app's token service); notices are queued as features queue them (notify.service's
outbox, in a transaction) and delivered by the separate `flask notify worker`, which publishes the
live event the open streams wait for.
"""
from __future__ import annotations

import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path[:0] = [os.path.dirname(BENCH), BENCH]

from flask import current_app  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work  # noqa: E402
from app.security.tokens import Principal  # noqa: E402
from identity import service as identity  # noqa: E402
from notify.service import enqueue  # noqa: E402


def citizens(n: int, data_dir: str) -> None:
    tokens, users = [], []
    with unit_of_work():
        for _ in range(n):
            phone = f"198{secrets.randbelow(10 ** 8):08d}"
            user = identity._create_user(phone=phone, index=identity.phone_index(phone))
            tokens.append(current_app.extensions["tokens"].issue(Principal("citizen", user.id))[0])
            users.append(user.id)
    with open(os.path.join(data_dir, "citizens.tsv"), "w") as fh:
        fh.write("".join(f"{t}\t-\n" for t in tokens))
    with open(os.path.join(data_dir, "users.txt"), "w") as fh:
        fh.write("".join(f"{u}\n" for u in users))


def notices(user_ids: list[str]) -> None:
    run = secrets.token_hex(4)
    with unit_of_work():
        for user_id in user_ids:
            enqueue(user_id=user_id, kind="system", title="压测实时通知", body="SSE 压测：这条通知应实时送达。",
                    dedupe_key=f"sse-hold:{run}:{user_id}")


def main() -> int:
    app = create_app({"AUTO_MIGRATE": False, "LOG_LEVEL": "WARNING"})
    with app.test_request_context():
        if sys.argv[1] == "citizens":
            citizens(int(sys.argv[2]), sys.argv[3])
        else:
            notices(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
