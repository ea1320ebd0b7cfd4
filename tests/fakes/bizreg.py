"""Fake business-registry gateway ("BIZREG gateway v1", orgs/adapters/bizreg.py).

The envelope checks are :class:`tests.fakes.signed_gateway.SignedGateway`'s (stdlib ``hmac``/``hashlib``
SM3, independent from the adapter): it refuses what it should: an unknown app, a stale timestamp, a
reused nonce, a wrong signature, a body that is not the protocol's. Knobs:

* ``entities``: ``{uscc: {"name", "entity_type", "status", "region_code", "lr_name", "lr_id_number"}}``;
* ``mode``: ``"normal"``, ``"hang"`` (waits ``hang_seconds``), ``"error500"``, ``"wrong_key"`` (replies signed
  with another key), ``"unsigned"``, ``"echo_wrong_id"``, ``"other_uscc"`` (answers for another code),
  ``"bad_status"`` (status "7"), ``"bad_flag"`` (a match flag "1" as a string).

``calls`` lists ``(path, payload)`` of every authenticated request; ``rejections`` the reasons refused.
"""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.signed_gateway import WRONG_KEY, SignedGateway, hmac_sm3, sm3_hex

LOOKUP = "/v1/market-entities/lookup"
VERIFY = "/v1/market-entities/legal-representative/verify"


class FakeBizreg(SignedGateway):
    paths = (LOOKUP, VERIFY)

    def __init__(self, apps: dict[str, str], entities: dict[str, dict[str, str]] | None = None,
                 max_skew: int = 300) -> None:
        super().__init__(apps, max_skew)
        self.entities = dict(entities or {})
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _lookup(self, data: dict[str, Any]) -> dict[str, Any]:
        uscc = data["uscc"]
        found = self.entities.get(uscc)
        if found is None:
            return {"found": False}
        entity = {"uscc": "91110000600037341L" if self.mode == "other_uscc" else uscc, "name": found["name"],
                  "entity_type": found.get("entity_type", "有限责任公司"),
                  "status": "7" if self.mode == "bad_status" else found.get("status", "1"),
                  "region_code": found.get("region_code", uscc[2:8]), "established_on": "2019-05-20",
                  "legal_representative": {"name": found["lr_name"]}, "updated_at": "2026-12-01T08:00:00+08:00"}
        return {"found": True, "entity": entity}

    def _verify(self, data: dict[str, Any]) -> dict[str, Any]:
        found = self.entities.get(data["uscc"])
        if found is None:
            return {"uscc_match": 0, "name_match": -1, "lr_name_match": -1, "lr_id_match": -1}
        flags = {"uscc_match": 1, "name_match": int(found["name"] == data["name"]),
                 "lr_name_match": int(found["lr_name"] == data["lr_name"]),
                 "lr_id_match": int(found["lr_id_number"] == data["id_number"])}
        if self.mode == "bad_flag":
            flags["lr_id_match"] = "1"
        return flags

    def _serve(self, request: Request, data: Any, secret: str, nonce: str) -> Response:
        try:
            request_id = data["request_id"]
            needed = ("uscc",) if request.path == LOOKUP else ("uscc", "name", "lr_name", "id_number")
            if not all(isinstance(data[k], str) and data[k] for k in needed) or set(data) != {*needed, "request_id"}:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self._reject(400, "bad_body")
        with self._lock:
            self.calls.append((request.path, data))
        answer = self._lookup(data) if request.path == LOOKUP else self._verify(data)
        if self.mode == "echo_wrong_id":
            request_id = "a" * 24
        reply = json.dumps({"request_id": request_id, **answer}, ensure_ascii=False).encode()
        key = WRONG_KEY if self.mode == "wrong_key" else secret
        headers = {} if self.mode == "unsigned" else {"X-Signature": hmac_sm3(key, f"{request_id}\n{sm3_hex(reply)}")}
        return Response(reply, status=200, mimetype="application/json", headers=headers)
