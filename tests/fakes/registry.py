"""Fake population-registry gateway for the signed JSON protocol.

The envelope checks are :class:`tests.fakes.signed_gateway.SignedGateway`'s (stdlib
``hmac``/``hashlib`` SM3, independent from the adapter, which uses ``cryptography``).  Knobs:

* ``mode``: ``"normal"``, ``"hang"`` (sleep ``hang_seconds``), ``"error500"``,
  ``"wrong_key"`` (sign replies with another key), ``"unsigned"``,
  ``"bad_result"`` (correctly signed but unknown result), ``"echo_wrong_id"``.
* ``people``: ``{id_number: name}`` of known residents.

``checked`` lists (name, id_number) pairs that passed authentication.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.signed_gateway import WRONG_KEY, SignedGateway, hmac_sm3, sm3_hex

__all__ = ["PATH", "FakeRegistry", "hmac_sm3", "sm3_hex"]

PATH = "/v1/identity/verify"


class FakeRegistry(SignedGateway):
    """WSGI app emulating the provincial registry gateway."""

    paths = (PATH,)

    def __init__(self, apps: dict[str, str], people: dict[str, str], max_skew: int = 300) -> None:
        super().__init__(apps, max_skew)
        self.people = people
        self.checked: list[tuple[str, str]] = []

    def _verdict(self, name: str, id_number: str) -> str:
        known = self.people.get(id_number)
        if known is None:
            return "not_found"
        return "match" if known == name else "mismatch"

    def _serve(self, request: Request, data: Any, secret: str, nonce: str) -> Response:
        try:
            name, id_number, request_id = data["name"], data["id_number"], data["request_id"]
        except (ValueError, KeyError, TypeError):
            return self._reject(400, "bad_body")
        with self._lock:
            self.checked.append((name, id_number))
        result = "maybe" if self.mode == "bad_result" else self._verdict(name, id_number)
        if self.mode == "echo_wrong_id":
            request_id = "0" * 32
        key = WRONG_KEY if self.mode == "wrong_key" else secret
        headers = {} if self.mode == "unsigned" else {"X-Signature": hmac_sm3(key, f"{request_id}\n{result}")}
        return Response(json.dumps({"request_id": request_id, "result": result}),
                        status=200, mimetype="application/json", headers=headers)
