"""The Redis Cluster of the local cluster: six `redis-server --cluster-enabled yes`, three masters
with one replica each (cluster-node-timeout 2000 ms), so a killed master is replaced by its
replica within seconds; and what the tests do to it (kill a slot's master, wait for the failover,
bring the node back as a replica). After tests/fakes/redis_cluster.py, which has no replicas.
"""
from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

import redis
from redis.cluster import ClusterNode, RedisCluster

from scripts.cluster import procs

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


class RedisNodes:
    """Mixed into `Cluster`: uses its `workdir`, keeps `redis_ports`, `redis_procs`, `redis_url`."""

    workdir: str
    redis_ports: list[int]
    redis_procs: dict[int, subprocess.Popen]
    redis_url: str

    def _save(self) -> None:  # Cluster's
        raise NotImplementedError

    def _redis_cluster(self, timeout: float = 30.0) -> None:
        os.makedirs(os.path.join(self.workdir, "redis"), exist_ok=True)
        for _ in range(6):
            self.redis_ports.append(self._start_redis_somewhere())
        subprocess.run([REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.redis_ports),
                        "--cluster-replicas", "1", "--cluster-yes"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        self.wait_redis_ok(timeout)
        # every node as a seed: a process (re)starting while one node is down still finds the cluster
        self.redis_url = "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.redis_ports) + "/"

    def _start_redis_somewhere(self, attempts: int = 5) -> int:
        """A Redis node on a free port; another port when the chosen one (or its bus port) was taken
        meanwhile (a shared machine: other tests start servers too)."""
        for attempt in range(attempts):
            taken = set(self.redis_ports) | {p + 10_000 for p in self.redis_ports}
            port = procs.free_ports(1, with_bus=True, taken=taken)[0]
            self._spawn_redis(port)
            try:
                procs.wait_until(lambda: redis.Redis(port=port, socket_timeout=1).ping(), 15,
                                 f"redis-server {port}", self._redis_failed(port))
                return port
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                dead = self.redis_procs.pop(port)
                procs.stop_group(dead.pid, dead, timeout=2)
        raise AssertionError("unreachable")

    def _spawn_redis(self, port: int) -> None:
        rdir = os.path.join(self.workdir, "redis")
        proc = procs.spawn([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                            "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "2000",
                            "--save", "", "--appendonly", "no", "--dir", rdir],
                           log_path=os.path.join(self.workdir, "logs", f"redis-{port}.log"), cwd=rdir)
        self.redis_procs[port] = proc

    def _redis_failed(self, port: int):
        def failed() -> str | None:
            proc = self.redis_procs.get(port)
            if proc is not None and proc.poll() is not None:
                return f"exited {proc.returncode}\n" + procs.log_tail(
                    os.path.join(self.workdir, "logs", f"redis-{port}.log"))
            return None
        return failed

    def _cluster_nodes(self) -> list[dict[str, Any]]:
        """CLUSTER NODES from the first node that answers: port, role, master id, link state, slots."""
        for port in self.redis_ports:
            client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
            try:
                text = client.execute_command("CLUSTER NODES")
            except redis.RedisError:
                continue
            finally:
                client.close()
            if isinstance(text, dict):  # redis-py may parse it already
                return [{"id": v["node_id"], "port": int(k.split(":")[1].split("@")[0]),
                         "flags": v["flags"].split(","), "master": v["master_id"],
                         "connected": v["connected"], "slots": v.get("slots", [])} for k, v in text.items()]
            nodes = []
            for line in text.splitlines():
                parts = line.split()
                addr = parts[1].split("@")[0]
                nodes.append({"id": parts[0], "port": int(addr.rsplit(":", 1)[1]), "flags": parts[2].split(","),
                              "master": parts[3], "connected": parts[7] == "connected", "slots": parts[8:]})
            return nodes
        raise RuntimeError("no Redis node answers")

    def wait_redis_ok(self, timeout: float = 30.0) -> None:
        """Every live node says cluster_state:ok with 16384 slots, every master has a synced replica."""
        def ok() -> bool:
            for port in self.redis_ports:
                proc = self.redis_procs.get(port)
                if proc is not None and proc.poll() is not None:
                    continue
                client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
                try:
                    info = client.cluster("info")
                    if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != 16384:
                        return False
                    repl = client.info("replication")
                    if repl["role"] == "slave" and repl.get("master_link_status") != "up":
                        return False
                finally:
                    client.close()
            nodes = self._cluster_nodes()
            masters = [n for n in nodes if "master" in n["flags"] and "fail" not in n["flags"]]
            replicas = [n for n in nodes if "slave" in n["flags"] and "fail" not in n["flags"]]
            return len(masters) == 3 and {r["master"] for r in replicas} == {m["id"] for m in masters}
        procs.wait_until(ok, timeout, "redis cluster ok with a replica per master")

    def redis_masters(self) -> list[int]:
        """Ports of the current masters serving slots (CLUSTER NODES)."""
        return sorted(n["port"] for n in self._cluster_nodes()
                      if "master" in n["flags"] and not any(f.startswith("fail") for f in n["flags"]) and n["slots"])

    def _slot_master(self, key: str) -> int:
        for port in self.redis_ports:
            client = redis.Redis(port=port, socket_timeout=1)
            try:
                slot = client.execute_command("CLUSTER KEYSLOT", key)
                for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                    if start <= slot <= end:
                        return int(master[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise LookupError(key)

    def kill_redis_master(self, key: str) -> int:
        """SIGKILL the master serving `key`'s slot; its port."""
        port = self._slot_master(key)
        proc = self.redis_procs.get(port)
        if proc is not None and proc.poll() is None:
            procs.kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
        self._killed_redis = port
        return port

    def wait_redis_failover(self, key: str, timeout: float = 20) -> int:
        """Until a live node other than the killed one serves `key`'s slot as master; its port."""
        killed = getattr(self, "_killed_redis", None)
        found: list[int] = []

        def promoted() -> bool:
            port = self._slot_master(key)
            proc = self.redis_procs.get(port)
            if port == killed or (proc is not None and proc.poll() is not None):
                return False
            client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
            try:
                if client.cluster("info")["cluster_state"] != "ok":
                    return False
            finally:
                client.close()
            found.append(port)
            return True
        procs.wait_until(promoted, timeout, f"failover of {key!r}'s slot")
        return found[-1]

    def restart_redis(self, port: int, timeout: float = 30.0) -> None:
        """Start a killed Redis node again on its port (it rejoins as a replica of its successor)."""
        self._spawn_redis(port)
        procs.wait_until(lambda: redis.Redis(port=port, socket_timeout=1).ping(), 15, f"redis-server {port}",
                         self._redis_failed(port))
        self._save()

    def redis(self) -> RedisCluster:
        """A cluster client on the cluster's Redis (decoded strings)."""
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", p) for p in self.redis_ports],
                            decode_responses=True, socket_timeout=2)
