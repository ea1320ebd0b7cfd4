"""Processes of the local cluster: free ports, spawning into a session of their own, stopping by
process group, waiting for a port.

Every process starts in a new session (`start_new_session`), so it outlives `python -m
scripts.cluster up` and its whole tree (granian's workers, uvicorn) goes with one `killpg`: the
pids written to cluster.json are process-group ids, and `down` needs nothing else to clean up.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable

_BUS_OFFSET = 10_000  # a Redis Cluster node's bus listens on port + 10000


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, with_bus: bool = False, taken: set[int] | None = None) -> list[int]:
    """`count` distinct free ports (and, `with_bus`, port + 10000 free too, so below 55000); none in `taken`."""
    taken = set(taken or ())
    found: list[int] = []
    for _ in range(1000):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port in found or port in taken or (port + _BUS_OFFSET) in taken:
            continue
        if with_bus and (port >= 55_000 or not _bindable(port + _BUS_OFFSET)):
            continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError("no free ports")


def spawn(args: list[str], *, log_path: str, env: dict[str, str] | None = None,
          cwd: str | None = None) -> subprocess.Popen:
    """Start `args` in a session of its own, stdout and stderr appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# What the cluster starts: `down` from another process signals a recorded process group only
# while its leader still runs one of these (a pid reused since then is left alone).
OWN_PROGRAMS = ("redis-server", "haproxy", "serve.py", "notify")


def runs_our_program(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    return any(name in cmdline for name in OWN_PROGRAMS)


def our_group_alive(pgid: int) -> bool:
    """Some process of group `pgid` still runs one of OWN_PROGRAMS (granian's workers outlive a
    leader that died first)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and runs_our_program(int(entry)):
            return True
    return False


def kill_group(pid: int, sig: int = signal.SIGTERM) -> None:
    """Signal the process group `pid` leads (its own session); a group already gone is fine."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(pid: int, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    """SIGTERM the group, then SIGKILL what is left of it after `timeout`; reap `proc` when it is ours.

    A group is signalled only while its leader is ours and unreaped (its pid cannot be reused) or
    one of its processes still runs a program of ours, never on a pid that may since name another's."""
    def ours() -> bool:
        return (proc is not None and proc.poll() is None) or our_group_alive(pid)

    if not ours():
        return
    kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ours():
            return
        time.sleep(0.1)
    if ours():
        kill_group(pid, signal.SIGKILL)
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               failed: Callable[[], str | None] | None = None) -> None:
    """Poll `predicate` until true; `failed` may name a reason to give up early (a process exited)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # a port not yet listening, a cluster not yet formed: keep polling
            pass
        if failed is not None:
            reason = failed()
            if reason:
                raise RuntimeError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


def log_tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""
