"""Real Redis Cluster and Sentinel deployments from the system `redis-server`, for the scale-out tests.

`LocalCluster` starts three masters (no replicas) with `--cluster-enabled yes` on free ports in a
private temporary directory and joins them with `redis-cli --cluster create`; `LocalSentinel`
starts one master and one `redis-server --sentinel` watching it. Both speak the real protocols
(MOVED redirections, CLUSTER SLOTS, SENTINEL get-master-addr-by-name), and `close()` kills every
process they started and removes the directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import redis

from scripts.cluster.procs import free_ports  # the same ports helper as `make cluster` (bus: port + 10000)

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


def available() -> bool:
    return os.access(REDIS_SERVER, os.X_OK) and os.access(REDIS_CLI, os.X_OK)


class _Processes:
    def __init__(self, prefix: str) -> None:
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        with open(os.path.join(self.dir, f"{name}.log"), "wb") as log:
            proc = subprocess.Popen(args, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def _wait_ping(self, port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.exceptions.BusyLoadingError):
                    if proc.poll() is not None:
                        break
                    time.sleep(0.02)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on port {port} did not start (logs in {self.dir})")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError


class LocalCluster(_Processes):
    """Three masters, 16384 slots shared by `redis-cli --cluster create`; `url` is the app's REDIS_URL."""

    def __init__(self, masters: int = 3) -> None:
        super().__init__("redis-cluster-")
        self.ports = free_ports(masters, with_bus=True)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports) + "/"

    def start(self, timeout: float = 20.0) -> None:
        for port in self.ports:
            proc = self._spawn([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                                "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "5000",
                                "--save", "", "--appendonly", "no", "--dir", self.dir], f"node-{port}")
            self._wait_ping(port, proc)
        subprocess.run([REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        deadline = time.monotonic() + timeout
        for port in self.ports:  # every node must see the whole cluster, not just the first one
            client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
            try:
                while client.cluster("info")["cluster_state"] != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"cluster not ok on {port} (logs in {self.dir})")
                    time.sleep(0.05)
            finally:
                client.close()

    def node_of(self, key: str) -> int:
        """The port of the master serving `key`'s slot (CLUSTER KEYSLOT + CLUSTER SLOTS)."""
        client = redis.Redis(port=self.ports[0], socket_timeout=2)
        try:
            slot = client.execute_command("CLUSTER KEYSLOT", key)
            for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    return int(master[1])
        finally:
            client.close()
        raise LookupError(slot)


class LocalSentinel(_Processes):
    """One master and one Sentinel monitoring it as `service` (quorum 1); `url` is the app's REDIS_URL."""

    def __init__(self, service: str = "yiwang", db: int = 0) -> None:
        super().__init__("redis-sentinel-")
        self.master_port, self.sentinel_port = free_ports(2)
        self.service, self.db = service, db

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.service}/{self.db}"

    def start(self, timeout: float = 10.0) -> None:
        master = self._spawn([REDIS_SERVER, "--port", str(self.master_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", self.dir], "master")
        self._wait_ping(self.master_port, master)
        conf = os.path.join(self.dir, "sentinel.conf")  # Sentinel rewrites its configuration file
        with open(conf, "w") as out:
            out.write(f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
                      f"sentinel monitor {self.service} 127.0.0.1 {self.master_port} 1\n"
                      f"sentinel down-after-milliseconds {self.service} 5000\n")
        sentinel = self._spawn([REDIS_SERVER, conf, "--sentinel"], "sentinel")
        self._wait_ping(self.sentinel_port, sentinel)
        client = redis.Redis(port=self.sentinel_port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while not client.execute_command("SENTINEL", "get-master-addr-by-name", self.service):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sentinel does not know {self.service} (logs in {self.dir})")
                time.sleep(0.05)
        finally:
            client.close()
