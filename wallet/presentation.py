"""Showing a licence at a counter (亮证): one-time, short-lived QR texts and manual codes.

QR text: ``YW1.`` + base64url(nonce (12 random bytes) ‖ expiry (4-byte big-endian unix time) ‖
HMAC-SM3(key, "YW1" ‖ nonce ‖ expiry)[:16]) — 47 characters, opaque. What it shows (the licence,
the disclosed fields) is bound to it through the server-side record keyed by the nonce: in Redis
while live (``wallet:pres:{p<shard>}:<nonce>``, SET EX) and in the `Presentation` row (the usage
record and the backstop that makes a code one-time even across a Redis restart).

The manual code (8 digits, for when scanning fails) maps to the same nonce in Redis with the
same lifetime (``wallet:pres-code:{p<shard>}:<code>``).

Redis Cluster: a presentation's two keys are written together by one script, so they share a
hash tag that each lookup can derive from what it holds. The shard is the nonce modulo 1000, and
a manual code is drawn to end in those three digits: the counter gets the tag from the code, the
QR scan from the nonce. A nonce is drawn in its licence's shard (`new_nonce`), so one script
retires a licence's old code and publishes the new one. 1000 tags spread presentations over the
cluster's masters.
"""
from __future__ import annotations

import base64
import json
import logging
import secrets
import struct
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from typing import Any

import peewee as pw
from flask import current_app

from app import audit
from app.clock import CHINA_TZ
from app.db import new_id, unit_of_work
from app.errors import ValidationFailed
from app.i18n import N_
from app.redis import get_redis
from app.security.pii import constant_time_equal, derive_key, hmac_sm3
from wallet import models
from wallet.catalogue import LicenceDataError, disclose, get_type
from wallet.errors import LicenceNotFound, LicenceNotValid, PresentationInvalid, PresentationNotFound
from wallet.holder import live_data, require_verified
from wallet.issuance import decrypt_data
from wallet.models import Licence, Presentation

log = logging.getLogger(__name__)

PREFIX = "YW1."
SHARDS = 1000  # manual codes end in the shard's three digits
REFRESH_MARGIN = 15  # seconds before expiry the app should fetch a new code
REDIS_GRACE = 5  # the Redis record outlives the MAC'd expiry a little: the expiry check decides
CHINA = CHINA_TZ  # app.clock: the one China time
_MAC_LEN = 16


def today() -> date:
    """The calendar date in China (licence validity dates are local dates)."""
    return datetime.now(CHINA).date()


def licence_valid_now(licence: Licence) -> bool:
    day = today()
    return (licence.status == "01" and licence.valid_from <= day
            and (licence.valid_until is None or day <= licence.valid_until))


def _mac_key() -> bytes:
    key = current_app.extensions.get("wallet_presentation_key")
    if key is None:
        key = derive_key(current_app.extensions["keys"].data_master_key, "wallet/presentation-mac")
        current_app.extensions["wallet_presentation_key"] = key
    return key


def _mac(nonce: bytes, expiry: int) -> bytes:
    return hmac_sm3(_mac_key(), b"YW1" + nonce + struct.pack(">I", expiry))[:_MAC_LEN]


def encode_qr(nonce: bytes, expiry: int) -> str:
    raw = nonce + struct.pack(">I", expiry) + _mac(nonce, expiry)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_qr(text: str) -> tuple[bytes, int]:
    """(nonce, expiry) of a QR text whose MAC checks; PresentationInvalid otherwise.

    Only the canonical base64url spelling is accepted (a changed trailing character that decodes
    to the same bytes is still a different text, and refused)."""
    text = (text or "").strip()
    if not text.startswith(PREFIX) or len(text) != len(PREFIX) + 43:
        raise PresentationInvalid()
    body = text[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=")
    except (ValueError, TypeError):
        raise PresentationInvalid() from None
    if len(raw) != 32 or base64.urlsafe_b64encode(raw).decode().rstrip("=") != body:
        raise PresentationInvalid()
    nonce, (expiry,), mac = raw[:12], struct.unpack(">I", raw[12:16]), raw[16:]
    if not constant_time_equal(mac, _mac(nonce, expiry)):
        raise PresentationInvalid()
    return nonce, expiry


def _shard(nonce_hex: str) -> int:
    return int(nonce_hex, 16) % SHARDS


def nonce_key(nonce_hex: str) -> str:
    return f"wallet:pres:{{p{_shard(nonce_hex):03d}}}:{nonce_hex}"


def code_key(code: str) -> str:
    """The key of an 8-digit manual code (its last three digits are its presentation's shard)."""
    return f"wallet:pres-code:{{p{code[-3:]}}}:{code}"


def _drop_redis(nonce_hex: str) -> None:
    """Kill a live nonce (and its manual code)."""
    redis = get_redis()
    raw = redis.getdel(nonce_key(nonce_hex))
    if raw:
        code = json.loads(raw).get("code")
        if code:
            redis.delete(code_key(code))


# One round trip publishes a new presentation: the licence's retired nonces and their manual codes
# are deleted, a free 8-digit manual code is claimed (SET NX over a few random candidates) and the
# nonce record is written with that code in it, both with the same TTL. Every key is in the
# licence's shard (one hash slot): KEYS[1] the new nonce key, KEYS[2 .. 1+R] the retired nonce keys,
# then the candidates' code keys. A retired code's key is built here from its record (same shard:
# a code ends in its shard's digits). ARGV: record JSON object (without "code"), TTL, code record,
# R, the code-key prefix of the shard, candidates...
_PUBLISH = """
local retired = tonumber(ARGV[4])
for i = 2, 1 + retired do
  local old = redis.call('GETDEL', KEYS[i])
  if old then
    local ok, rec = pcall(cjson.decode, old)
    if ok and type(rec) == 'table' and rec.code then redis.call('DEL', ARGV[5] .. rec.code) end
  end
end
for i = 2 + retired, #KEYS do
  local code = ARGV[i - retired + 4]
  if redis.call('SET', KEYS[i], ARGV[3], 'EX', ARGV[2], 'NX') then
    redis.call('SET', KEYS[1], string.sub(ARGV[1], 1, -2) .. ',"code":"' .. code .. '"}', 'EX', ARGV[2])
    return code
  end
end
return false
"""
_scripts: dict[int, Any] = {}


def _publish(nonce_hex: str, record: dict[str, Any], ttl: int, retired: list[str]) -> str:
    """Retire old nonces (each with its manual code) and write the live record of a new
    presentation in Redis, in one script: there is no moment at which the old and the new code are
    both live. Answers the manual code. A retired nonce of another shard (made before nonces were
    placed by licence) is dropped on its own first."""
    shard = _shard(nonce_hex)
    same = [old for old in retired if _shard(old) == shard]
    for old in retired:
        if _shard(old) != shard:
            _drop_redis(old)
    redis = get_redis()
    script = _scripts.get(id(redis))
    if script is None:
        script = _scripts[id(redis)] = redis.register_script(_PUBLISH)
    code_record = json.dumps({"nonce": nonce_hex, "exp": record["exp"]})
    prefix = code_key(f"{shard:03d}")[:-3]  # wallet:pres-code:{pNNN}:
    # 10^5 codes per shard, 4 candidates a try (each one a key and an argument to send): with even 10 %
    # of a shard's codes live a try misses once in 10^4, five tries in a row once in 10^20.
    for _ in range(5):
        candidates = [f"{secrets.randbelow(10 ** 8 // SHARDS) * SHARDS + shard:08d}" for _ in range(4)]
        code = script(keys=[nonce_key(nonce_hex), *(nonce_key(n) for n in same), *(code_key(c) for c in candidates)],
                      args=[json.dumps(record), ttl, code_record, len(same), prefix, *candidates])
        if code:
            return code.decode() if isinstance(code, bytes) else code
        same = []
    raise RuntimeError("no free manual code")


def new_nonce(licence_id: str) -> bytes:
    """96 bits for the QR text, placed in the licence's shard (nonce mod SHARDS), so that a
    licence's presentations share a hash slot and one script retires the old and publishes the new.
    log2(2^96 / 1000) ≈ 86 random bits remain, and the QR text is MAC'd besides."""
    shard = zlib.crc32(licence_id.encode()) % SHARDS
    return (secrets.randbelow(2 ** 96 // SHARDS) * SHARDS + shard).to_bytes(12, "big")


def create(*, user_id: str, licence_id: str, fields: list[str] | None, purpose: str | None,
           shown_by: str | None = None) -> dict[str, Any]:
    """A new presentation of one of the holder's licences; any live one of that licence is retired.
    `shown_by`: the person acting under a delegated token (an enterprise's LR or agent, issue 19),
    named to the counter on an enterprise's card."""
    require_verified(user_id)
    licence = models.holder_licence(licence_id, user_id)
    if licence is None:
        raise LicenceNotFound()
    if not licence_valid_now(licence):
        raise LicenceNotValid()
    licence_type = get_type(licence.type_code)
    data = decrypt_data(licence)  # the holder's name and ID number are not shown here (the counter decrypts them)
    try:
        shown = disclose(licence_type, live_data(licence, data), fields)
    except LicenceDataError as exc:
        raise ValidationFailed(errors={f"fields.{k}": v for k, v in exc.errors.items()}) from None
    keys = list(shown)
    ttl = current_app.config["PRESENTATION_TTL"]
    nonce = new_nonce(licence.id)
    nonce_hex = nonce.hex()
    expiry = int(time.time()) + ttl
    expires_at = datetime.fromtimestamp(expiry, timezone.utc)
    presentation_id = new_id("prs")
    for attempt in range(3):  # another request of the holder may take the live slot concurrently
        try:
            retired = _store(licence, user_id, presentation_id, nonce_hex, keys, fields is not None, purpose,
                             expires_at, shown_by)
            break
        except pw.IntegrityError:
            if attempt == 2:
                raise
    record = {"id": presentation_id, "licence": licence.id, "user": user_id, "fields": keys,
              "explicit": fields is not None, "purpose": purpose, "exp": expiry}
    # Published after `_store`'s unit has committed, not as an after_commit callback: the manual code
    # it claims is part of this answer.
    code = _publish(nonce_hex, record, ttl + REDIS_GRACE, retired)
    # A concurrent request may have retired this one between our commit and the publication (its
    # own clean-up then found nothing to delete): leave no live key for a retired row. (The
    # counter's conditional UPDATE live → used would refuse it anyway; this keeps Redis tidy.)
    if models.presentation_status(presentation_id) != "live":
        _drop_redis(nonce_hex)
    return {"id": presentation_id, "qr_text": encode_qr(nonce, expiry), "expires_at": expires_at,
            "refresh_after": expires_at - timedelta(seconds=REFRESH_MARGIN), "fields": keys, "manual_code": code}


def _store(licence: Licence, user_id: str, presentation_id: str, nonce_hex: str, keys: list[str], explicit: bool,
           purpose: str | None, expires_at: datetime, shown_by: str | None = None) -> list[str]:
    """Retire the licence's live presentation and insert the new one, in one transaction; the
    retired presentations' nonces."""
    with unit_of_work():
        models.lock_licence(licence.id)  # concurrent presentations of the licence queue here
        old = models.live_presentations(licence.id)
        for old_id, _ in old:
            models.retire_presentation(old_id)
        models.insert_live_presentation(presentation_id=presentation_id, nonce=nonce_hex, licence_id=licence.id,
                                        user_id=user_id, fields=json.dumps(keys), explicit=explicit, purpose=purpose,
                                        expires_at=expires_at, shown_by=shown_by)
        audit.record("wallet.presentation_created", actor_kind="citizen", actor_id=user_id, target=presentation_id,
                     details={"licence": licence.id, "fields": keys, "retired": [old_id for old_id, _ in old]})
    return [nonce for _, nonce in old]


def _own(user_id: str, presentation_id: str) -> Presentation:
    presentation = models.holder_presentation(presentation_id, user_id)
    if presentation is None:
        raise PresentationNotFound()
    return presentation


def revoke(*, user_id: str, presentation_id: str) -> None:
    """The holder withdraws a code (e.g. shown by mistake); a used or expired one stays as it is."""
    require_verified(user_id)
    presentation = _own(user_id, presentation_id)
    with unit_of_work() as uow:
        if models.revoke_live_presentation(presentation.id):
            audit.record("wallet.presentation_revoked", actor_kind="citizen", actor_id=user_id,
                         target=presentation.id)
        uow.after_commit(_drop_redis, presentation.nonce)


def qr_text_of(*, user_id: str, presentation_id: str) -> str:
    """The QR text of the holder's live presentation (for rendering)."""
    require_verified(user_id)
    presentation = _own(user_id, presentation_id)
    expiry = int(presentation.expires_at.timestamp())
    if presentation.status != "live" or expiry < time.time():
        raise PresentationNotFound(N_("亮证码已失效，请重新生成。"))
    return encode_qr(bytes.fromhex(presentation.nonce), expiry)

