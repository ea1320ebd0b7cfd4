"""Canonical encoding of a licence — the exact bytes an issuer signs (证照签名原文).

A third party holding the licence content and the issuer's SM2 public key re-verifies it so:

1. Build this JSON object (all values are strings unless noted):

   ``identifier``    the GB/T 36904 identifier, e.g. ``1.2.156.3005.2.….001.U``
   ``type_code``     the catalogue code of the licence type (e.g. ``driving_licence``)
   ``issuer``        the issuer code (unified social credit code) that appears in the identifier
   ``holder``        ``{"name": …, "id_number": …}`` — the holder's name and resident ID number in full,
                     so a signed licence cannot be moved to another person
   ``data``          the licence fields as normalised by the catalogue (JSON object); a field that
                     repeats a licence fact (catalogue ``same_as``) says the same as the licence:
                     a status field (驾驶证 ``status``) holds the label of this version's status,
                     rewritten when a status change is re-signed (versions signed before 2026-12
                     may still say 有效 there: the wallet serves the live status, see
                     ``derived_fields``)
   ``valid_from``    ``YYYY-MM-DD``
   ``valid_until``   ``YYYY-MM-DD``, or ``null`` for 长期有效 (no end date)
   ``status``        the two-digit status code (01 有效 … 07 吊销, 99 其他)
   ``version``       integer; +1 on every change (a status change is re-signed as a new version)

2. Serialise it as JSON with keys sorted at every level, no insignificant whitespace
   (separators ``,`` and ``:``), non-ASCII characters written as themselves (not ``\\u`` escapes),
   encoded as UTF-8. In Python: ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
   ensure_ascii=False).encode()``.

3. The signature is SM2 with SM3 (GB/T 32918 / GM/T 0003), signer ID ``1234567812345678`` (the
   GM/T 0009 default), DER-encoded ``SEQUENCE {r, s}``, over those bytes.
   ``canonical_sha`` stored with the licence is SM3 of the bytes in lower-case hex.

Floating-point numbers are not allowed in ``data`` (their JSON spelling is not canonical across
languages); the catalogue normalises numbers to integers or strings.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from app.crypto.sm3 import sm3_hex


def _check_values(value: Any) -> None:
    """No float anywhere, string keys only (a walk without recursion: strings, the usual leaves,
    are passed over without a call)."""
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, float):
            raise ValueError("floats are not canonical; use an integer or a string")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueError("object keys must be strings")
                if type(item) is not str:
                    pending.append(item)
        elif isinstance(value, list):
            pending.extend(item for item in value if type(item) is not str)


def licence_document(*, identifier: str, type_code: str, issuer_code: str, holder_name: str, holder_id_number: str,
                     data: dict[str, Any], valid_from: date, valid_until: date | None, status: str,
                     version: int) -> dict[str, Any]:
    """The signed object (step 1 above)."""
    return {
        "identifier": identifier,
        "type_code": type_code,
        "issuer": issuer_code,
        "holder": {"name": holder_name, "id_number": holder_id_number},
        "data": data,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "status": status,
        "version": version,
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """Step 2: sorted keys, no whitespace, UTF-8."""
    _check_values(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def canonical_sha(message: bytes) -> str:
    return sm3_hex(message)
