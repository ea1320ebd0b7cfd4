"""Prepare a scenario's request bodies inside the app (run by run.py as its own process).

    python bench/prepare.py SCENARIO COUNT OUTFILE

The app is built with `create_app(settings)` from the same environment as the
server under test (VAR_DIR, DATABASE_URL, REDIS_URL, ...), so what it writes
lands in the server's database and Redis. With the embedded Redis it joins the
redis-server the gunicorn master started (same VAR_DIR). Bodies are written one
per line.
"""
from __future__ import annotations

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]  # the repo, then bench/ (scenarios)

from app import create_app  # noqa: E402
from scenarios import all_scenarios  # noqa: E402


def main() -> int:
    name, count, outfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    scenario = all_scenarios()[name]
    # create_app reads (and type-converts) every setting from the environment, which is the server's;
    # passing them again as overrides would leave them strings (PRESENTATION_TTL + int fails).
    app = create_app({"AUTO_MIGRATE": False, "LOG_LEVEL": "WARNING"})
    started = time.perf_counter()
    with app.test_request_context():
        bodies = scenario.prepare(count)
    with open(outfile, "w") as fh:
        for body in bodies:
            if "\n" in body:
                raise ValueError("a prepared body must fit on one line")
            fh.write(body + "\n")
    print(f"prepared {len(bodies)} bodies in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
