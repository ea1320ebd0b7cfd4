"""A TCP proxy on 127.0.0.1 (ephemeral port) that can drop every connection through it at once.

Usage::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        ...  # point the client at proxy.port
        proxy.cut()  # every open connection: reset on both sides, as when a network path dies
        proxy.pause(); proxy.resume()  # hold traffic (a stalled network), then let it flow again
        proxy.refuse(); proxy.allow()  # reset new connections (the server is down), then accept them

Threads, not asyncio: two pumps per connection, which is plenty for a test's few dozen.
"""
from __future__ import annotations

import socket
import struct
import threading
from typing import Self


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._refusing = threading.Event()
        self.accepted = 0
        self.cuts = 0  # connections dropped by cut()
        self._acceptor = threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self._acceptor.start()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def cut(self) -> int:
        """Reset every open connection on both sides at once; the number dropped."""
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                _reset(sock)
        self.cuts += len(pairs)
        return len(pairs)

    def pause(self) -> None:
        """Stop forwarding (bytes wait in the pumps; new connections wait to be connected)."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def refuse(self) -> None:
        """Reset every new connection at once, as a host whose server is down does."""
        self._refusing.set()

    def allow(self) -> None:
        self._refusing.clear()

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self.cut()
        self._acceptor.join(5)

    # --- inside -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self._refusing.is_set():
                _reset(client)
                continue
            self._flowing.wait()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, server)
            with self._lock:
                if self._closed.is_set():
                    _reset(client), _reset(server)
                    return
                self._pairs.add(pair)
                self.accepted += 1
            threading.Thread(target=self._pump, args=(pair, client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, server, client), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket], source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            mine = pair in self._pairs
            self._pairs.discard(pair)
        if mine:  # an orderly end from one side: pass it on (a cut already reset both)
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a RST, not an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)  # wakes a pump blocked in recv() on it; sends nothing
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
