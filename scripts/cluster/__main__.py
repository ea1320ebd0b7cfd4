"""`python -m scripts.cluster up|down|status`.

`up` starts the cluster in the background (each process in a session of its own), prints its
addresses and writes them to <workdir>/cluster.json; `down` stops what that file names, drops the
database and removes the work directory. `up --foreground` stays until Ctrl-C, then goes down.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from scripts.cluster.cluster import DEFAULT_WORKDIR, STATE_FILE, Cluster, available, stop_recorded


def _print(record: dict) -> None:
    print(f"load balancer   {record['lb_url']}")
    for node in record["nodes"]:
        print(f"{node['name']:<15} {node['api_url']}  (stream {node['stream_url']})")
    print(f"redis cluster   {record['redis_url']}  (nodes {', '.join(map(str, record['redis_ports']))})")
    print(f"database        {record['database_url']}")
    print(f"haproxy stats   {record['haproxy_socket']}")
    print(f"logs            {record['logs']}")
    print(f"record          {os.path.join(record['workdir'], STATE_FILE)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.cluster")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--workdir", default=DEFAULT_WORKDIR)
    parser.add_argument("--database", default="yiwang_cluster")
    parser.add_argument("--api-nodes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--foreground", action="store_true", help="stay until Ctrl-C, then stop everything")
    args = parser.parse_args(argv)

    if args.command == "down":
        record = stop_recorded(args.workdir)
        print("cluster stopped" if record else f"no cluster recorded in {args.workdir}")
        return 0
    if args.command == "status":
        try:
            with open(os.path.join(args.workdir, STATE_FILE), encoding="utf-8") as fh:
                record = json.load(fh)
        except OSError:
            print(f"no cluster recorded in {args.workdir}")
            return 1
        _print(record)
        from scripts.cluster import haproxy
        try:
            for server, status in sorted(haproxy.server_status(record["haproxy_socket"]).items()):
                print(f"  {server:<15} {status}")
        except OSError as exc:
            print(f"haproxy not answering: {exc}")
            return 1
        return 0

    missing = available()
    if missing:
        print(f"cannot start a cluster: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    cluster = Cluster(args.workdir, database=args.database, api_nodes=args.api_nodes, workers=args.workers)
    cluster.up()
    _print(cluster.describe())
    print(f"up in {cluster.started_in:.1f} s; all servers UP: "
          + ", ".join(f"{k} {v}" for k, v in sorted(cluster.haproxy_servers().items())))
    if not args.foreground:
        print("stop it with: make cluster-down")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
