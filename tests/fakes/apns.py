"""Fake APNs provider API over HTTP/2 (h2, cleartext with prior knowledge) on 127.0.0.1.

Independent of the adapter: checks what a real APNs checks — the method and path, an ES256
provider JWT whose `kid` and `iss` match and whose `iat` is under an hour old, apns-topic,
apns-push-type, apns-priority, apns-expiration, apns-collapse-id ≤ 64 bytes, a JSON payload
≤ 4 KB with an `aps` dictionary — and answers as APNs does: 200 with apns-id, 400/403/410
{"reason": …} (410 carries a timestamp). Knobs: `dead_tokens` (410 Unregistered), `bad_tokens`
(400 BadDeviceToken), `fail_next` ([(status, reason), …] answered first), `clock`.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events
import jwt


@dataclass
class ApnsRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict | None
    jwt_header: dict | None


class FakeApns:
    def __init__(self, *, team_id: str, key_id: str, public_key_pem: str, topic: str) -> None:
        self.team_id, self.key_id, self.public_key, self.topic = team_id, key_id, public_key_pem, topic
        self.requests: list[ApnsRequest] = []
        self.dead_tokens: set[str] = set()
        self.bad_tokens: set[str] = set()
        self.fail_next: list[tuple[int, str]] = []
        self.clock = time.time
        self.connections = 0
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.url = ""

    def __enter__(self) -> "FakeApns":
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        h2conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        sock.sendall(h2conn.data_to_send())
        streams: dict[int, dict] = {}
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            for event in h2conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    streams[event.stream_id] = {"headers": {k.decode() if isinstance(k, bytes) else k:
                                                            v.decode() if isinstance(v, bytes) else v
                                                            for k, v in event.headers}, "body": b""}
                elif isinstance(event, h2.events.DataReceived):
                    streams[event.stream_id]["body"] += event.data
                    h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    status, headers, body = self._answer(streams.pop(event.stream_id))
                    h2conn.send_headers(event.stream_id, [(":status", str(status))] + list(headers.items()),
                                        end_stream=not body)
                    if body:
                        h2conn.send_data(event.stream_id, body, end_stream=True)
            sock.sendall(h2conn.data_to_send())

    def _answer(self, stream: dict) -> tuple[int, dict[str, str], bytes]:
        headers, body = stream["headers"], stream["body"]
        request = ApnsRequest(headers[":method"], headers[":path"], headers, body, None, None)
        with self._lock:
            self.requests.append(request)
        reason = self._check(request)
        apns_id = headers.get("apns-id") or str(uuid.uuid4())
        if reason is None and self.fail_next:
            status, reason = self.fail_next.pop(0)
        elif reason is not None:
            status = 403 if "ProviderToken" in reason else 400
        else:
            token = request.path.rsplit("/", 1)[-1]
            if token in self.dead_tokens:
                return 410, {"apns-id": apns_id, "content-type": "application/json"}, json.dumps(
                    {"reason": "Unregistered", "timestamp": int(self.clock() * 1000)}).encode()
            if token in self.bad_tokens:
                status, reason = 400, "BadDeviceToken"
            else:
                return 200, {"apns-id": apns_id}, b""
        return status, {"apns-id": apns_id, "content-type": "application/json"}, json.dumps({"reason": reason}).encode()

    def _check(self, request: ApnsRequest) -> str | None:
        h = request.headers
        if request.method != "POST" or not request.path.startswith("/3/device/"):
            return "BadPath" if request.method == "POST" else "MethodNotAllowed"
        auth = h.get("authorization", "")
        if not auth.startswith("bearer "):
            return "MissingProviderToken"
        try:
            request.jwt_header = jwt.get_unverified_header(auth[7:])
            request.claims = jwt.decode(auth[7:], self.public_key, algorithms=["ES256"],
                                        options={"verify_iat": False})
        except jwt.PyJWTError:
            return "InvalidProviderToken"
        if request.jwt_header.get("kid") != self.key_id or request.claims.get("iss") != self.team_id:
            return "InvalidProviderToken"
        if self.clock() - request.claims.get("iat", 0) > 3600:
            return "ExpiredProviderToken"
        if h.get("apns-topic") != self.topic:
            return "BadTopic" if h.get("apns-topic") else "MissingTopic"
        if h.get("apns-push-type") not in ("alert", "background"):
            return "InvalidPushType"
        if h.get("apns-priority") not in (None, "5", "10"):
            return "BadPriority"
        if not h.get("apns-expiration", "0").isdigit():
            return "BadExpirationDate"
        if len(h.get("apns-collapse-id", "").encode()) > 64:
            return "BadCollapseId"
        if len(request.body) > 4096:
            return "PayloadTooLarge"
        try:
            if not isinstance(json.loads(request.body).get("aps"), dict):
                return "PayloadEmpty"
        except ValueError:
            return "PayloadEmpty"
        return None
