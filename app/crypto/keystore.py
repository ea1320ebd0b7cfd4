"""Key store: SM2 keys that sign on behalf of someone (the platform CA, issuers, citizens).

`KeyStore` is shaped like a GM/T 0018 (SDF) signature server or HSM: keys are addressed by an id
(its key handle / index), the private key never leaves the store, and callers only ask it to sign,
to export the public key, or to change the key's life-cycle state. `SoftwareKeyStore` implements it
on a database table for deployments without a cryptographic module (GB/T 39786: the private key is
never stored in clear; it is wrapped with SM4-GCM under a key-encryption key (KEK) that lives in
the configuration, not in the database).

Wrapped blob: version byte (1) ‖ SM4-GCM(KEK, PKCS#8 DER) as nonce ‖ ciphertext ‖ tag, with the
associated data binding the blob to its row (id, purpose, owner, SM3 of the public key), so a blob
copied onto another row, or a row whose owner or public key was edited, does not unwrap.
Several KEKs are configured by id; the newest wraps, all unwrap; `rewrap()` moves every key to the
newest so an old KEK can then be removed.

The record logic (this table, the life cycle, the audit) is `WrappedKeyStore`; the wrapping of the
blob is a `Wrapper`: `SoftwareWrapper` (the SM4-GCM KEKs above; `SoftwareKeyStore` is the store built
with it) or `Pkcs11Wrapper` (app/crypto/keystore_pkcs11.py: the wrapping key stays inside a PKCS#11
module). The column `kek_id` holds the id of the wrapping key, whichever wrapper made the blob.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import peewee as pw
from cryptography.hazmat.primitives import hashes

from app import audit
from app.crypto.errors import KeyNotFound, KeyNotUsable, KeyUnavailable
from app.crypto.keystore_models import KeyRecord
from app.crypto.sm2 import DEFAULT_ID, SM2PrivateKey, SM2PublicKey
from app.crypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt
from app.db import execute, new_id, select_one, unit_of_work, utcnow
from app.security.keys import load_keystore_keks

log = logging.getLogger(__name__)

_BLOB_VERSION = 1
_PURPOSE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
Actor = tuple[str, str]  # (actor_kind, actor_id) for the audit row; None → the platform itself


@dataclass(frozen=True)
class KeyInfo:
    """What may be known about a key without touching its private half."""

    key_id: str
    purpose: str
    owner: str
    label: str | None
    algorithm: str
    status: str  # active | retired | disabled
    public_key_der: bytes
    created_at: datetime
    retired_at: datetime | None = None
    disabled_at: datetime | None = None
    reason: str | None = None
    replaced_by: str | None = None

    def public_key(self) -> SM2PublicKey:
        return SM2PublicKey.from_der(self.public_key_der)


class KeyStore(Protocol):
    """Signing keys held by a crypto module. Every state change is audited by the implementation."""

    def generate(self, *, purpose: str, owner: str, label: str | None = None,
                 actor: Actor | None = None) -> KeyInfo:
        """Create an active SM2 key for `owner` used only for `purpose`."""

    def import_private_key(self, private_key: SM2PrivateKey, *, purpose: str, owner: str,
                           label: str | None = None, actor: Actor | None = None) -> KeyInfo:
        """Take custody of an existing key (e.g. the production CA key). Importing the same key for
        the same owner and purpose again returns the existing record."""

    def sign(self, key_id: str, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """SM2 signature (DER) of `message` with Z computed from `uid`. Only active keys sign:
        KeyNotFound, KeyNotUsable otherwise; KeyUnavailable if the key cannot be unwrapped."""

    def sign_digest(self, key_id: str, e: bytes) -> bytes:
        """SM2 signature (DER) of a 32-byte e = SM3(Z ‖ M) computed by the caller."""

    def public_key(self, key_id: str) -> SM2PublicKey:
        """The public key, whatever the key's status (old signatures must stay verifiable)."""

    def rotate(self, key_id: str, *, actor: Actor | None = None) -> KeyInfo:
        """A new active key for the same owner, purpose and label; the old one becomes retired."""

    def disable(self, key_id: str, reason: str, *, actor: Actor | None = None) -> KeyInfo:
        """Withdraw a key (it no longer signs); idempotent."""

    def info(self, key_id: str) -> KeyInfo:
        """Metadata of a key; KeyNotFound if unknown."""

    def find(self, *, purpose: str, owner: str, status: str | None = "active") -> list[KeyInfo]:
        """Keys of `owner` for `purpose` (newest first), with `status` unless None."""

    def newest_active(self, *, purpose: str, owner: str) -> str | None:
        """The id of `owner`'s newest active key for `purpose` (the one to sign with), or None."""


def _info(row: KeyRecord) -> KeyInfo:
    return KeyInfo(key_id=row.id, purpose=row.purpose, owner=row.owner, label=row.label, algorithm=row.algorithm,
                   status=row.status, public_key_der=bytes(row.public_key_der), created_at=row.created_at,
                   retired_at=row.retired_at, disabled_at=row.disabled_at, reason=row.reason,
                   replaced_by=row.replaced_by)


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _associated_data(key_id: str, purpose: str, owner: str, public_key_der: bytes) -> bytes:
    """Binds a wrapped key to its row: moving the blob or editing these columns breaks the tag."""
    return b"\x00".join([b"yiwang/keystore/v1", key_id.encode(), purpose.encode(), owner.encode(),
                         _sm3(public_key_der)])


class WrapperProblem(Exception):
    """What is wrong with a wrapper's keys or module, in a sentence without secrets (for `flask doctor`)."""


class Wrapper(Protocol):
    """Encrypts a key's PKCS#8 DER for storage. `aad` binds the blob to its row; a wrong `aad`, an
    altered blob or an unknown wrapping key raise KeyUnavailable (logged without key material)."""

    @property
    def current_id(self) -> str:
        """The wrapping key new blobs are made under."""

    def ids(self) -> list[str]:
        """Every wrapping key that can unwrap, oldest first (the current one last)."""

    def wrap(self, der: bytes, aad: bytes) -> tuple[str, bytes]:
        """(the wrapping key's id, the blob)."""

    def unwrap(self, wrapping_key_id: str, blob: bytes, aad: bytes) -> bytes:
        """The DER that `wrap` was given."""


class SoftwareWrapper:
    """SM4-GCM under configured KEKs: blob = version byte 1 ‖ nonce ‖ ciphertext ‖ tag."""

    def __init__(self, keks: Sequence[tuple[str, bytes]]) -> None:
        """`keks`: (kek id, 16-byte SM4 key) pairs, newest last; the newest wraps new keys."""
        if not keks:
            raise ValueError("the key store needs at least one key-encryption key")
        for kid, key in keks:
            if len(key) != 16:
                raise ValueError(f"key-encryption key {kid!r} must be 16 bytes (SM4)")
        self._keks = dict(keks)
        self._current = keks[-1][0]

    @property
    def current_id(self) -> str:
        return self._current

    def ids(self) -> list[str]:
        return list(self._keks)

    def wrap(self, der: bytes, aad: bytes) -> tuple[str, bytes]:
        return self._current, bytes([_BLOB_VERSION]) + sm4_gcm_encrypt(self._keks[self._current], der, aad)

    def unwrap(self, wrapping_key_id: str, blob: bytes, aad: bytes) -> bytes:
        kek = self._keks.get(wrapping_key_id)
        if kek is None or not blob or blob[0] != _BLOB_VERSION:
            log.error("key cannot be unwrapped: KEK not configured or unknown format", extra={"kek": wrapping_key_id})
            raise KeyUnavailable()
        try:
            return sm4_gcm_decrypt(kek, blob[1:], aad)
        except ValueError as exc:
            log.error("key unwrap failed: ciphertext altered or moved", extra={"kek": wrapping_key_id})
            raise KeyUnavailable() from exc


def _audit(action: str, actor: Actor | None, key_id: str, details: dict) -> None:
    kind, actor_id = actor if actor else ("system", None)
    audit.record(action, actor_kind=kind, actor_id=actor_id, target=key_id, details=details)


class WrappedKeyStore:
    """`KeyStore` on the `crypto_key` table, the private keys wrapped by `wrapper`. The private key
    is unwrapped in memory for one operation and dropped; nothing is cached (a sign costs one
    primary-key SELECT, one unwrap and a PKCS#8 parse, well under a millisecond next to the SM2
    signature itself with the software wrapper)."""

    def __init__(self, wrapper: Wrapper) -> None:
        self._public_keys: dict[str, SM2PublicKey] = {}  # key id → parsed key (a key id never changes key)
        self.wrapper = wrapper

    @property
    def current_kek_id(self) -> str:
        return self.wrapper.current_id

    # --- life cycle --------------------------------------------------------------------------

    def generate(self, *, purpose: str, owner: str, label: str | None = None,
                 actor: Actor | None = None) -> KeyInfo:
        with unit_of_work():
            row = self._insert(SM2PrivateKey.generate(), purpose=purpose, owner=owner, label=label)
            _audit("key.generate", actor, row.id, {"purpose": purpose, "owner": owner, "label": label})
        return _info(row)

    def import_private_key(self, private_key: SM2PrivateKey, *, purpose: str, owner: str,
                           label: str | None = None, actor: Actor | None = None) -> KeyInfo:
        public_der = private_key.public_key().public_bytes_der()
        with unit_of_work():
            for row in KeyRecord.select().where(KeyRecord.purpose == purpose, KeyRecord.owner == owner):
                if bytes(row.public_key_der) == public_der:
                    return _info(row)
            row = self._insert(private_key, purpose=purpose, owner=owner, label=label)
            _audit("key.import", actor, row.id, {"purpose": purpose, "owner": owner, "label": label})
        return _info(row)

    def rotate(self, key_id: str, *, actor: Actor | None = None) -> KeyInfo:
        with unit_of_work():
            old = self._row(key_id)
            if old.status != "active":
                raise KeyNotUsable()
            new = self._insert(SM2PrivateKey.generate(), purpose=old.purpose, owner=old.owner, label=old.label)
            # Conditional update: of two concurrent rotations of one key, only one retires it.
            retired = (KeyRecord.update(status="retired", retired_at=utcnow(), replaced_by=new.id)
                       .where(KeyRecord.id == key_id, KeyRecord.status == "active").execute())
            if retired != 1:
                raise KeyNotUsable()
            _audit("key.rotate", actor, key_id, {"purpose": old.purpose, "owner": old.owner, "new_key": new.id})
        return _info(new)

    def disable(self, key_id: str, reason: str, *, actor: Actor | None = None) -> KeyInfo:
        reason = reason.strip()[:128] or "unspecified"
        with unit_of_work():
            row = self._row(key_id)
            if row.status == "disabled":
                return _info(row)
            (KeyRecord.update(status="disabled", disabled_at=utcnow(), reason=reason)
             .where(KeyRecord.id == key_id).execute())
            _audit("key.disable", actor, key_id, {"purpose": row.purpose, "owner": row.owner, "reason": reason})
        return self.info(key_id)

    def rewrap(self, *, actor: Actor | None = None) -> int:
        """Re-wrap every key under the newest KEK; returns how many moved. Keys whose KEK is not
        configured are left as they are and reported with KeyUnavailable after the others moved."""
        current = self.wrapper.current_id
        stale = [r.id for r in KeyRecord.select(KeyRecord.id).where(KeyRecord.kek_id != current)]
        moved, stuck = 0, []
        for key_id in stale:
            with unit_of_work():
                row = self._row(key_id)
                if row.kek_id == current:
                    continue  # another process got there first
                try:
                    der = self._unwrap(row)
                except KeyUnavailable:
                    stuck.append(key_id)
                    continue
                kek_id, blob = self._wrap(der, row.id, row.purpose, row.owner, bytes(row.public_key_der))
                moved += (KeyRecord.update(private_key_enc=blob, kek_id=kek_id)
                          .where(KeyRecord.id == key_id, KeyRecord.kek_id == row.kek_id).execute())
        with unit_of_work():
            _audit("key.rewrap", actor, None, {"kek": current, "rewrapped": moved, "failed": len(stuck)})
        if stuck:
            log.error("keys left under an unavailable KEK", extra={"keys": stuck})
            raise KeyUnavailable()
        return moved

    def kek_usage(self) -> dict[str, int]:
        """How many keys each KEK wraps: a KEK with no keys may be removed from the configuration."""
        query = (KeyRecord.select(KeyRecord.kek_id, pw.fn.COUNT(KeyRecord.id))
                 .group_by(KeyRecord.kek_id).tuples())
        return {kek_id: n for kek_id, n in query}

    # --- use ---------------------------------------------------------------------------------

    def sign(self, key_id: str, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        return self._signing_key(key_id).sign(message, uid=uid)

    def sign_digest(self, key_id: str, e: bytes) -> bytes:
        if len(e) != 32:
            raise ValueError("e must be the 32-byte SM3 digest of Z ‖ M")
        return self._signing_key(key_id).sign_digest(e)

    def public_key(self, key_id: str) -> SM2PublicKey:
        key = self._public_keys.get(key_id)
        if key is None:
            key = SM2PublicKey.from_der(bytes(self._row(key_id).public_key_der))
            if len(self._public_keys) >= 4096:  # bounded: drop everything, refill on demand
                self._public_keys.clear()
            self._public_keys[key_id] = key
        return key

    def info(self, key_id: str) -> KeyInfo:
        return _info(self._row(key_id))

    def find(self, *, purpose: str, owner: str, status: str | None = "active") -> list[KeyInfo]:
        query = KeyRecord.select().where(KeyRecord.purpose == purpose, KeyRecord.owner == owner)
        if status is not None:
            query = query.where(KeyRecord.status == status)
        return [_info(r) for r in query.order_by(KeyRecord.created_at.desc(), KeyRecord.id)]

    def newest_active(self, *, purpose: str, owner: str) -> str | None:
        # raw SQL: on every issuance (the newest active issuer key); written once, no per-call query building
        row = execute('SELECT "id" FROM "crypto_key" WHERE "purpose" = ? AND "owner" = ? AND "status" = ? '
                      'ORDER BY "created_at" DESC, "id" LIMIT 1', [purpose, owner, "active"]).fetchone()
        return row[0] if row else None

    # --- internals ---------------------------------------------------------------------------

    def _row(self, key_id: str) -> KeyRecord:
        row = select_one(KeyRecord, KeyRecord.id, key_id)
        if row is None:
            raise KeyNotFound()
        return row

    def _signing_key(self, key_id: str) -> SM2PrivateKey:
        row = self._row(key_id)
        if row.status != "active":
            raise KeyNotUsable()
        return SM2PrivateKey.from_der(self._unwrap(row))

    def _insert(self, private_key: SM2PrivateKey, *, purpose: str, owner: str, label: str | None) -> KeyRecord:
        if not _PURPOSE.fullmatch(purpose):
            raise ValueError("purpose must match [a-z0-9][a-z0-9_.-]{0,31}")
        if not owner or len(owner) > 64 or (label is not None and len(label) > 128):
            raise ValueError("owner must be 1–64 characters, label at most 128")
        key_id = new_id("key")
        public_der = private_key.public_key().public_bytes_der()
        kek_id, blob = self._wrap(private_key.private_bytes_der(), key_id, purpose, owner, public_der)
        return KeyRecord.create(id=key_id, purpose=purpose, owner=owner, label=label, public_key_der=public_der,
                                private_key_enc=blob, kek_id=kek_id)

    def _wrap(self, der: bytes, key_id: str, purpose: str, owner: str, public_der: bytes) -> tuple[str, bytes]:
        return self.wrapper.wrap(der, _associated_data(key_id, purpose, owner, public_der))

    def _unwrap(self, row: KeyRecord) -> bytes:
        aad = _associated_data(row.id, row.purpose, row.owner, bytes(row.public_key_der))
        try:
            return self.wrapper.unwrap(row.kek_id, bytes(row.private_key_enc), aad)
        except KeyUnavailable:
            log.error("key unavailable", extra={"key": row.id, "kek": row.kek_id})
            raise


class SoftwareKeyStore(WrappedKeyStore):
    """The key store with the SM4-GCM KEKs of the configuration (`SoftwareWrapper`)."""

    def __init__(self, keks: Sequence[tuple[str, bytes]]) -> None:
        """`keks`: (kek id, 16-byte SM4 key) pairs, newest last; the newest wraps new keys."""
        super().__init__(SoftwareWrapper(keks))


def build_keystore(config: Any) -> WrappedKeyStore:
    """The store KEYSTORE_BACKEND chooses: software (KEYSTORE_KEKS) or pkcs11 (the PKCS11_* settings).
    Nothing touches the PKCS#11 module here: each process connects on first use (after a fork).
    ValueError names a wrong setting."""
    backend = config.get("KEYSTORE_BACKEND") or "software"
    if backend == "software":
        return SoftwareKeyStore(load_keystore_keks(config))
    if backend == "pkcs11":
        from app.crypto.keystore_pkcs11 import Pkcs11Settings, Pkcs11Wrapper  # python-pkcs11 only when chosen
        return WrappedKeyStore(Pkcs11Wrapper(Pkcs11Settings.from_config(config),
                                             create_first=config.get("APP_ENV") != "production"))
    raise ValueError("KEYSTORE_BACKEND must be software or pkcs11")
