"""Key store wrapping inside a PKCS#11 module: the key-encryption key never leaves the module.

`Pkcs11Wrapper` is the `Wrapper` of app/crypto/keystore.py for KEYSTORE_BACKEND=pkcs11. The wrapping
keys are secret keys inside the token labelled `<PKCS11_KEY_LABEL><n>` (`yiwang-kek-1`, `-2`, …),
generated there as sensitive, non-extractable token objects; the highest n present is the current
one (re-read every PKCS11_REFRESH_SECONDS and whenever a blob names a key not yet seen, so every
process picks up a new key without a restart), all of them unwrap.

The SM2 private key (PKCS#8 DER) is encrypted and decrypted by the module with C_Encrypt/C_Decrypt
and an AEAD mechanism whose associated data is the row binding of the key store (id, purpose, owner,
SM3 of the public key). C_WrapKey/C_UnwrapKey would need the SM2 key to be an object of the module;
SoftHSM2 cannot sign with SM2 (it has no SM2 mechanism at all), so the key has to come back to the
process for the signature anyway, and an unwrapped generic secret would have to be readable
(CKA_SENSITIVE false) to be used — C_Decrypt gives the same result without leaving objects behind.
The clear key lives in process memory for one signature, as with the software wrapper.

Blob: version byte 2 ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.

Mechanism: SoftHSM2 (the test module) has no SM4 mechanism, so PKCS11_MECHANISM defaults to AES_GCM
with AES-256 keys. A production deployment in China would use a GM/T 0018 cryptographic module or a
PKCS#11 module with the vendor's SM4 mechanisms (SM4-GCM or SM4-CBC with a MAC); those mechanism
numbers and parameter encodings are vendor-specific, so each needs an entry in `_MECHANISMS` (and
python-pkcs11 support for its parameters) before it can be chosen.

Sessions: PKCS#11 login belongs to the application (the process), and closing a logged-in session
logs every session out. So each process keeps one logged-in session open for its life and gives each
thread its own session besides (no two threads share a session). python-pkcs11 initialises the
library without locking callbacks, so calls into the library are also serialised per process (one
encryption of a key is microseconds in SoftHSM2; a network HSM would want the library initialised
with CKF_OS_LOCKING_OK, which python-pkcs11 does not offer). Nothing is opened before first use,
so gunicorn's workers each connect after the fork; a process that finds itself forked re-initialises
the library. A session that fails (device removed, session closed, not logged in) is dropped and the
operation retried once on a new connection. Every failure reaches callers as KeyUnavailable; logs
name the kind of error, never the PIN.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.mechanisms import GCMParams

from app import audit
from app.crypto.errors import KeyUnavailable
from app.crypto.keystore import WrapperProblem
from app.db import unit_of_work

log = logging.getLogger(__name__)

_BLOB_VERSION = 2
_NONCE = 12
_LABEL_PREFIX = re.compile(r"[A-Za-z0-9._-]{1,24}")
# name → (key type, key bits, AEAD mechanism). A vendor SM4 mechanism would be added here.
_MECHANISMS = {"AES_GCM": (KeyType.AES, 256, Mechanism.AES_GCM)}
_RECONNECT = (p11e.SessionHandleInvalid, p11e.SessionClosed, p11e.DeviceRemoved, p11e.DeviceError,
              p11e.TokenNotPresent, p11e.TokenNotRecognised, p11e.UserNotLoggedIn, p11e.ObjectHandleInvalid,
              p11e.KeyHandleInvalid)


class Pkcs11Problem(WrapperProblem):
    """What is wrong with the module, the token or the login, in a secret-free sentence."""


@dataclass(frozen=True)
class Pkcs11Settings:
    module: str
    token_label: str
    pin: str = field(repr=False)
    key_label: str = "yiwang-kek-"
    mechanism: str = "AES_GCM"
    refresh_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: Any) -> Pkcs11Settings:
        """The PKCS11_* settings; ValueError names the setting that is wrong (never its value if secret)."""
        missing = [k for k in ("PKCS11_MODULE", "PKCS11_TOKEN_LABEL", "PKCS11_PIN") if not config.get(k)]
        if missing:
            raise ValueError(f"KEYSTORE_BACKEND=pkcs11 needs {', '.join(missing)}")
        if not _LABEL_PREFIX.fullmatch(config["PKCS11_KEY_LABEL"]):
            raise ValueError("PKCS11_KEY_LABEL must be 1–24 characters of [A-Za-z0-9._-]")
        if config["PKCS11_MECHANISM"] not in _MECHANISMS:
            raise ValueError(f"PKCS11_MECHANISM must be one of {', '.join(_MECHANISMS)}")
        return cls(module=config["PKCS11_MODULE"], token_label=config["PKCS11_TOKEN_LABEL"], pin=config["PKCS11_PIN"],
                   key_label=config["PKCS11_KEY_LABEL"], mechanism=config["PKCS11_MECHANISM"],
                   refresh_seconds=float(config["PKCS11_REFRESH_SECONDS"]))


_lib_pid: dict[str, int] = {}  # module path → the process that initialised it (python-pkcs11 caches libs)
# python-pkcs11 initialises the library with C_Initialize(NULL): no locking callbacks, which in PKCS#11
# means the application promises not to call the library from two threads at once (SoftHSM2 then
# fails with CKR_GENERAL_ERROR or crashes). So every call into one library is serialised here.
_lib_locks: dict[str, threading.RLock] = {}


class _Connection:
    """One per process and (module, token, PIN): the token, its logged-in session, a session per thread."""

    def __init__(self, settings: Pkcs11Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._pid = 0
        self._token: Any = None
        self._anchor: Any = None  # the logged-in session; kept open (closing it would log out)
        self._local = threading.local()
        self._generation = 0

    def session(self) -> Any:
        with self._lock:
            if self._pid != os.getpid() or self._anchor is None:
                self._connect()
            generation, token = self._generation, self._token
        if getattr(self._local, "generation", None) != generation:
            self._local.session = token.open(rw=True)  # logged in through the anchor
            self._local.generation = generation
        return self._local.session

    def reset(self) -> None:
        """Forget every session: the next use re-initialises the library and logs in again."""
        with self._lock:
            self._anchor, self._token = None, None
            self._generation += 1
            _lib_pid.pop(self._settings.module, None)

    def _connect(self) -> None:
        s = self._settings
        self._generation += 1
        self._anchor = None
        try:
            lib = pkcs11.lib(s.module)
        except p11e.PKCS11Error:
            raise Pkcs11Problem(f"PKCS#11 module cannot be loaded: {s.module}") from None
        try:
            if _lib_pid.get(s.module) != os.getpid():
                if s.module in _lib_pid or self._pid:  # forked, or reconnecting: start the library afresh
                    lib.reinitialize()
                _lib_pid[s.module] = os.getpid()
            token = lib.get_token(token_label=s.token_label)
        except (p11e.NoSuchToken, p11e.MultipleTokensReturned):
            raise Pkcs11Problem(f"token {s.token_label!r} not found (or not unique) in the module") from None
        except p11e.PKCS11Error as exc:
            raise Pkcs11Problem(f"PKCS#11 module does not answer: {type(exc).__name__}") from None
        try:
            anchor = token.open(rw=True, user_pin=s.pin)
        except p11e.UserAlreadyLoggedIn:  # another connection of this process logged in already
            anchor = token.open(rw=True)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange):
            raise Pkcs11Problem("login refused: PKCS11_PIN is wrong") from None
        except (p11e.PinLocked, p11e.PinExpired, p11e.UserPinNotInitialized) as exc:
            raise Pkcs11Problem(f"login refused: {type(exc).__name__} (the token's user PIN needs attention)") \
                from None
        except p11e.PKCS11Error as exc:
            raise Pkcs11Problem(f"cannot open a session on the token: {type(exc).__name__}") from None
        self._pid, self._token, self._anchor = os.getpid(), token, anchor


_connections: dict[tuple[str, str, str], _Connection] = {}
_connections_lock = threading.Lock()


def _connection(settings: Pkcs11Settings) -> _Connection:
    pin_digest = hashlib.sha256(settings.pin.encode()).hexdigest()  # a map key only; never logged
    key = (settings.module, settings.token_label, pin_digest)
    with _connections_lock:
        if key not in _connections:
            _connections[key] = _Connection(settings)
        return _connections[key]


def _after_fork_in_child() -> None:
    """A lock held by another thread at the fork stays held for ever in the child: start with new ones."""
    global _connections_lock
    _connections_lock = threading.Lock()
    for module in _lib_locks:
        _lib_locks[module] = threading.RLock()
    for connection in _connections.values():
        connection._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Pkcs11Wrapper:
    """`Wrapper` whose key-encryption keys live in a PKCS#11 token."""

    def __init__(self, settings: Pkcs11Settings, *, create_first: bool = False) -> None:
        """`create_first` (development, tests): make `<prefix>1` when the token has no wrapping key
        yet; production makes it by command (`flask keys rotate-wrapping-key`)."""
        self.settings = settings
        self._create_first = create_first
        self._key_type, self._key_bits, self._mechanism = _MECHANISMS[settings.mechanism]
        self._conn = _connection(settings)
        with _connections_lock:
            _lib_locks.setdefault(settings.module, threading.RLock())
        self._label = re.compile(re.escape(settings.key_label) + r"([1-9][0-9]{0,6})")
        self._labels: list[str] | None = None
        self._read_at = 0.0

    # --- Wrapper ---------------------------------------------------------------------------

    @property
    def current_id(self) -> str:
        labels = self.ids()
        if not labels and self._create_first:
            labels = [self.create_next()]
        if not labels:
            log.error("no wrapping key in the PKCS#11 token", extra={"label_prefix": self.settings.key_label})
            raise KeyUnavailable()
        return labels[-1]

    def ids(self) -> list[str]:
        if self._labels is None or time.monotonic() - self._read_at > self.settings.refresh_seconds:
            self.refresh()
        return list(self._labels or ())

    def wrap(self, der: bytes, aad: bytes) -> tuple[str, bytes]:
        kid, nonce = self.current_id, secrets.token_bytes(_NONCE)
        sealed = self._call(lambda s: self._key(s, kid).encrypt(der, mechanism=self._mechanism,
                                                                  mechanism_param=GCMParams(nonce, aad, 128)))
        return kid, bytes([_BLOB_VERSION]) + nonce + sealed

    def unwrap(self, wrapping_key_id: str, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < 1 + _NONCE + 16 or blob[0] != _BLOB_VERSION or not self._label.fullmatch(wrapping_key_id):
            log.error("key cannot be unwrapped: not a PKCS#11 blob", extra={"kek": wrapping_key_id})
            raise KeyUnavailable()
        if wrapping_key_id not in self.ids():
            self.refresh()  # made by another process since the last look
        nonce, sealed = blob[1:1 + _NONCE], blob[1 + _NONCE:]
        try:
            return self._call(lambda s: self._key(s, wrapping_key_id).decrypt(
                sealed, mechanism=self._mechanism, mechanism_param=GCMParams(nonce, aad, 128)))
        except KeyUnavailable:
            log.error("key unwrap failed in the PKCS#11 module: altered, moved or its wrapping key is gone",
                      extra={"kek": wrapping_key_id})
            raise

    # --- wrapping keys -----------------------------------------------------------------------

    def refresh(self) -> list[str]:
        """Re-read the wrapping keys present in the token (oldest first)."""
        def labels(session: Any) -> list[str]:
            found = {o[Attribute.LABEL] for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})}
            return sorted((x for x in found if self._label.fullmatch(x)),
                          key=lambda x: int(self._label.fullmatch(x).group(1)))  # type: ignore[union-attr]
        self._labels, self._read_at = self._call(labels), time.monotonic()
        return list(self._labels)

    def create_next(self) -> str:
        """Generate `<prefix><n+1>` inside the module (sensitive, not extractable); it becomes current."""
        present = self.refresh()
        n = int(self._label.fullmatch(present[-1]).group(1)) + 1 if present else 1  # type: ignore[union-attr]
        label = f"{self.settings.key_label}{n}"
        template = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
                    Attribute.WRAP: False, Attribute.UNWRAP: False, Attribute.SIGN: False, Attribute.VERIFY: False,
                    Attribute.DERIVE: False}
        self._call(lambda s: s.generate_key(self._key_type, self._key_bits, label=label, store=True,
                                            template=template))
        self.refresh()
        return label

    def destroy(self, wrapping_key_id: str) -> None:
        """Delete a wrapping key from the module (callers check first that no blob uses it)."""
        self._call(lambda s: self._key(s, wrapping_key_id).destroy())
        self.refresh()

    def attributes(self, wrapping_key_id: str) -> dict[str, bool]:
        """The protection attributes as the module reports them."""
        names = {"sensitive": Attribute.SENSITIVE, "extractable": Attribute.EXTRACTABLE,
                 "always_sensitive": Attribute.ALWAYS_SENSITIVE, "never_extractable": Attribute.NEVER_EXTRACTABLE}
        return self._call(lambda s: {n: bool(self._key(s, wrapping_key_id)[a]) for n, a in names.items()})

    def check(self) -> str:
        """Doctor: module, token, login, current key and its attributes, a round trip. Raises
        Pkcs11Problem naming what is wrong; returns a one-line summary."""
        try:
            with _lib_locks[self.settings.module]:
                self._conn.session()
        except Pkcs11Problem:
            raise
        except p11e.PKCS11Error as exc:
            raise Pkcs11Problem(f"cannot open a session: {type(exc).__name__}") from None
        try:
            labels = self.refresh()
            if not labels and self._create_first:  # development: as on first use
                labels = [self.current_id]
        except KeyUnavailable:
            raise Pkcs11Problem("cannot list the token's keys") from None
        if not labels:
            raise Pkcs11Problem(f"no wrapping key {self.settings.key_label}<n> in the token "
                                f"(flask keys rotate-wrapping-key makes one)")
        current = labels[-1]
        try:
            attrs = self.attributes(current)
        except KeyUnavailable:
            raise Pkcs11Problem(f"cannot read the attributes of {current}") from None
        if not attrs["sensitive"] or attrs["extractable"]:
            raise Pkcs11Problem(f"wrapping key {current} is extractable or not sensitive: replace it")
        probe, aad = secrets.token_bytes(48), b"yiwang/keystore/doctor"
        try:
            kid, blob = self.wrap(probe, aad)
            ok = self.unwrap(kid, blob, aad) == probe
        except KeyUnavailable:
            ok = False
        if not ok:
            raise Pkcs11Problem(f"wrap/unwrap round trip with {current} failed ({self.settings.mechanism})")
        return (f"pkcs11 token {self.settings.token_label!r}: current wrapping key {current} "
                f"({self.settings.mechanism}, sensitive, not extractable), {len(labels)} key(s), round trip ok")

    # --- internals ---------------------------------------------------------------------------

    def _key(self, session: Any, label: str) -> Any:
        try:
            return session.get_key(object_class=ObjectClass.SECRET_KEY, label=label)
        except (p11e.NoSuchKey, p11e.MultipleObjectsReturned):
            log.error("wrapping key missing or not unique in the token", extra={"kek": label})
            raise KeyUnavailable() from None

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        for attempt in (1, 2):
            try:
                with _lib_locks[self.settings.module]:
                    return operation(self._conn.session())
            except KeyUnavailable:
                raise
            except Pkcs11Problem as problem:
                log.error("PKCS#11 key store unavailable", extra={"problem": str(problem)})
                raise KeyUnavailable() from None
            except _RECONNECT as exc:
                log.warning("PKCS#11 session lost", extra={"error": type(exc).__name__, "attempt": attempt})
                self._conn.reset()
            except p11e.PKCS11Error as exc:
                log.error("PKCS#11 operation failed", extra={"error": type(exc).__name__})
                raise KeyUnavailable() from None
        raise KeyUnavailable()


# --- rotation of the wrapping key (flask keys rotate-wrapping-key / retire-wrapping-key) ----------

class WrappingKeyInUse(Exception):
    """The wrapping key still wraps keys (or is the current one): rewrap first."""


def _record(action: str, actor: tuple[str, str] | None, details: dict, outcome: str = "success") -> None:
    kind, actor_id = actor if actor else ("system", None)
    with unit_of_work():
        audit.record(action, outcome=outcome, actor_kind=kind, actor_id=actor_id, target=details["wrapping_key"],
                     details=details)


def _pkcs11_wrapper(store: Any) -> Pkcs11Wrapper:
    wrapper = getattr(store, "wrapper", None)
    if not isinstance(wrapper, Pkcs11Wrapper):
        raise TypeError("the key store is not the pkcs11 one")
    return wrapper


def rotate_wrapping_key(store: Any, *, actor: tuple[str, str] | None = None) -> str:
    """Generate the next wrapping key in the module; every process takes it as current within
    PKCS11_REFRESH_SECONDS (at once on a blob that names it). Audited."""
    wrapper = _pkcs11_wrapper(store)
    label = wrapper.create_next()
    _record("key.wrapping_key.create", actor,
            {"backend": "pkcs11", "wrapping_key": label, "mechanism": wrapper.settings.mechanism})
    return label


def retire_wrapping_key(store: Any, wrapping_key_id: str, *, actor: tuple[str, str] | None = None) -> None:
    """Delete an old wrapping key from the module, only when it is not current and no row uses it.
    KeyUnavailable if the module has no such key. Audited (the refusal too)."""
    wrapper = _pkcs11_wrapper(store)
    labels = wrapper.refresh()
    if wrapping_key_id not in labels:
        raise KeyUnavailable()
    in_use = store.kek_usage().get(wrapping_key_id, 0)
    if in_use or wrapping_key_id == labels[-1]:
        _record("key.wrapping_key.retire", actor, {"backend": "pkcs11", "wrapping_key": wrapping_key_id,
                                                   "keys": in_use}, outcome="refused")
        raise WrappingKeyInUse(f"{wrapping_key_id} " + ("is the current wrapping key" if wrapping_key_id == labels[-1]
                                                        else f"still wraps {in_use} key(s): run flask keys rewrap first"))
    wrapper.destroy(wrapping_key_id)
    _record("key.wrapping_key.retire", actor, {"backend": "pkcs11", "wrapping_key": wrapping_key_id})
