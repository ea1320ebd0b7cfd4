"""SM2 key objects: import/export, Z and e computation, signing and strict verification.

Keys are immutable. Each holds its backend's loaded key object, built once, so
repeated signatures or verifications never re-parse or re-load the key.
"""
from __future__ import annotations

import hmac
import secrets
from functools import lru_cache
from typing import Any

from asn1crypto import pem as asn1_pem

from app.business_metrics import sm2 as count_operation
from app.crypto.sm2 import der
from app.crypto.sm2.backends import SM2Backend, get_backend
from app.crypto.sm2.curve import DEFAULT_ID, MAX_ID_BYTES, N, check_private_scalar, compute_e, compute_z, decode_point

_BytesLike = (bytes, bytearray, memoryview)
DIGEST_SIZE = 32
# OpenSSL 3.0 labels SEC1 SM2 keys "SM2 PRIVATE KEY" (`openssl ec`), others "EC PRIVATE KEY".
_PRIVATE_PEM_TYPES = ("PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY")


# Private key DERs whose embedded public point was checked against d·G: HMAC-SHA256 under a per-process
# random key (a one-way tag, never the key itself) → that point. The key store unwraps a key for every
# signature; loading the same bytes again trusts the point already checked and skips the scalar
# multiplication. Bounded: cleared when full.
_POINT_TAG_KEY = secrets.token_bytes(32)
_checked_points: dict[bytes, bytes] = {}
_CHECKED_MAX = 4096
# Verification is a pure function of (point, e, signature): a signature checked again (a relying party
# re-verifying a document, the same certificate's CA signature) gets the answer already computed.
# Public data only; bounded: cleared when full.
_verified: dict[tuple[bytes, bytes, bytes, bool, str], bool] = {}
_VERIFIED_MAX = 4096


def _require_bytes(**values: Any) -> None:
    """TypeError for anything that is not bytes-like (str included: encodings are the caller's call)."""
    for name, value in values.items():
        if not isinstance(value, _BytesLike):
            raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


def _unarmor(pem: bytes | str, accepted: tuple[str, ...]) -> tuple[str, bytes]:
    """(PEM type, DER) of the first block whose type is in `accepted`; ValueError otherwise.

    Other blocks are skipped because `openssl ecparam -genkey` writes an
    EC PARAMETERS block before the key. Encrypted PEM (with headers) is refused.
    """
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    _require_bytes(pem=pem)
    try:
        blocks = list(asn1_pem.unarmor(bytes(pem), multiple=True))
    except ValueError as exc:
        raise ValueError("not PEM") from exc
    for kind, headers, body in blocks:
        if kind in accepted:
            if headers:
                raise ValueError("encrypted PEM keys are not supported")
            return kind, body
    raise ValueError(f"no {' / '.join(accepted)} block in PEM")


class SM2PublicKey:
    """An SM2 public key: a finite point of sm2p256v1."""

    __slots__ = ("_point", "_backend", "_handle")

    def __init__(self, point: bytes, backend: str | None = None) -> None:
        """Prefer the from_* constructors. ValueError if `point` is not a finite curve point."""
        _require_bytes(point=point)
        point = bytes(point)
        decode_point(point)
        self._point = point
        self._backend: SM2Backend = get_backend(backend)
        self._handle = self._backend.load_public(point)

    @classmethod
    def from_point(cls, point: bytes, backend: str | None = None) -> "SM2PublicKey":
        """From 65 bytes 04 ‖ x ‖ y; ValueError if off-curve or malformed."""
        return cls(point, backend)

    @classmethod
    def from_der(cls, der_bytes: bytes, backend: str | None = None) -> "SM2PublicKey":
        """From a DER SubjectPublicKeyInfo (id-ecPublicKey + sm2 curve); ValueError otherwise."""
        _require_bytes(der=der_bytes)
        return _public_from_der(bytes(der_bytes), get_backend(backend).NAME)

    @classmethod
    def from_pem(cls, pem: bytes | str, backend: str | None = None) -> "SM2PublicKey":
        """From a PEM "PUBLIC KEY" block."""
        return cls.from_der(_unarmor(pem, ("PUBLIC KEY",))[1], backend)

    @property
    def backend_name(self) -> str:
        return self._backend.NAME

    def point(self) -> bytes:
        """65-byte uncompressed point."""
        return self._point

    def public_bytes_der(self) -> bytes:
        """DER SubjectPublicKeyInfo, as X.509 certificates embed it."""
        return der.encode_spki(self._point)

    def public_bytes_pem(self) -> bytes:
        """PEM "PUBLIC KEY"."""
        return asn1_pem.armor("PUBLIC KEY", self.public_bytes_der())

    def z(self, uid: bytes = DEFAULT_ID) -> bytes:
        """Z_A for this key and ID (32 bytes); ValueError if the ID exceeds 8191 bytes."""
        _require_bytes(uid=uid)
        return compute_z(self._point, bytes(uid))

    def digest(self, message: bytes, uid: bytes = DEFAULT_ID) -> bytes:
        """e = SM3(Z_A ‖ M), the 32 bytes that sign_digest/verify_digest work on."""
        _require_bytes(message=message, uid=uid)
        return compute_e(self._point, message, bytes(uid))

    def verify(self, signature: bytes, message: bytes, *, uid: bytes = DEFAULT_ID,
               allow_raw: bool = False) -> bool:
        """True iff `signature` is a valid strict-DER SM2 signature of `message` under `uid`.

        Never raises for malformed values (only TypeError for non-bytes arguments).
        """
        _require_bytes(signature=signature, message=message, uid=uid)
        if len(uid) > MAX_ID_BYTES:
            return False
        return self.verify_digest(signature, compute_e(self._point, message, bytes(uid)),
                                  allow_raw=allow_raw)

    def verify_digest(self, signature: bytes, e: bytes, *, allow_raw: bool = False) -> bool:
        """True iff `signature` is valid over the precomputed 32-byte e (see `digest`)."""
        _require_bytes(signature=signature, e=e)
        if len(e) != DIGEST_SIZE:
            return False
        signature, e = bytes(signature), bytes(e)
        memo = (self._point, e, signature, allow_raw, self._backend.NAME)
        known = _verified.get(memo)
        if known is not None:
            return known
        try:
            r, s = der.decode_signature(signature, allow_raw=allow_raw)
        except ValueError:
            return False
        ok = bool(self._backend.verify_digest(self._handle, e, r, s))
        count_operation("verify")  # yiwang_sm2_operations_total: a computed verification (not a memoised one)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[memo] = ok
        return ok

    def with_backend(self, backend: str | None) -> "SM2PublicKey":
        """The same key loaded into another backend."""
        return SM2PublicKey(self._point, backend)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other._point == self._point

    def __hash__(self) -> int:
        return hash(self._point)

    def __repr__(self) -> str:
        return f"<SM2PublicKey {self._point[1:9].hex()}… {self._backend.NAME}>"


class SM2PrivateKey:
    """An SM2 private key d in [1, n-2] with its public key."""

    __slots__ = ("_d", "_backend", "_handle", "_public")

    def __init__(self, d: int, backend: str | None = None) -> None:
        """Prefer generate / from_*. TypeError/ValueError if d is not an int in [1, n-2]."""
        self._d = check_private_scalar(d)
        self._backend: SM2Backend = get_backend(backend)
        self._handle = self._backend.load_private(d)
        self._public = SM2PublicKey(self._backend.public_point(d, self._handle), self._backend.NAME)

    @classmethod
    def generate(cls, backend: str | None = None) -> "SM2PrivateKey":
        """A new key with d uniform in [1, n-2] from `secrets`."""
        return cls(secrets.randbelow(N - 2) + 1, backend)

    @classmethod
    def from_int(cls, d: int, backend: str | None = None) -> "SM2PrivateKey":
        """From the scalar; ValueError unless 1 <= d <= n-2."""
        return cls(d, backend)

    @classmethod
    def from_der(cls, der_bytes: bytes, backend: str | None = None) -> "SM2PrivateKey":
        """From unencrypted PKCS#8 or SEC1 ECPrivateKey DER.

        ValueError if malformed, d out of range, or the embedded public key is not d·G.
        """
        _require_bytes(der=der_bytes)
        der_bytes = bytes(der_bytes)
        d, point = der.decode_private_key(der_bytes)
        d = check_private_scalar(d)
        if point is None:
            return cls(d, backend)
        tag = hmac.digest(_POINT_TAG_KEY, der_bytes, "sha256")
        if _checked_points.get(tag) == point:
            return cls._with_checked_point(d, point, backend)
        key = cls(d, backend)
        if point != key._public.point():
            raise ValueError("embedded public key does not match the private key")
        if len(_checked_points) >= _CHECKED_MAX:
            _checked_points.clear()
        _checked_points[tag] = point
        return key

    @classmethod
    def _with_checked_point(cls, d: int, point: bytes, backend: str | None) -> "SM2PrivateKey":
        """The key for d whose point d·G was checked before (see `_checked_points`): no scalar multiplication."""
        key = cls.__new__(cls)
        key._d = d
        key._backend = get_backend(backend)
        loader = getattr(key._backend, "load_private_with_point", None)
        key._handle = loader(d, point) if loader is not None else key._backend.load_private(d)
        key._public = _public_from_point(point, key._backend.NAME)
        return key

    @classmethod
    def from_pem(cls, pem: bytes | str, backend: str | None = None) -> "SM2PrivateKey":
        """From a PEM "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" / "SM2 PRIVATE KEY" (SEC1) block."""
        return cls.from_der(_unarmor(pem, _PRIVATE_PEM_TYPES)[1], backend)

    @property
    def backend_name(self) -> str:
        return self._backend.NAME

    def public_key(self) -> SM2PublicKey:
        return self._public

    def sign(self, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """DER signature of SM3(Z_A ‖ message) with a fresh random k."""
        _require_bytes(message=message, uid=uid)
        return self.sign_digest(compute_e(self._public.point(), message, bytes(uid)))

    def sign_digest(self, e: bytes) -> bytes:
        """DER signature over a precomputed 32-byte e = SM3(Z_A ‖ M); ValueError for other lengths."""
        _require_bytes(e=e)
        if len(e) != DIGEST_SIZE:
            raise ValueError("e must be 32 bytes (SM3(Z ‖ M))")
        signature = self._backend.sign_digest(self._handle, bytes(e))
        count_operation("sign")  # yiwang_sm2_operations_total
        return signature

    def private_scalar(self) -> int:
        """d itself, for tests and for an HSM import; never log it."""
        return self._d

    def private_bytes_der(self) -> bytes:
        """Unencrypted PKCS#8 DER. Only for the key store, which encrypts it before storage."""
        return der.encode_pkcs8(self._d, self._public.point())

    def private_bytes_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM ("PRIVATE KEY"); same restriction as private_bytes_der."""
        return asn1_pem.armor("PRIVATE KEY", self.private_bytes_der())

    def __repr__(self) -> str:
        # Never the scalar: reprs end up in logs and tracebacks.
        return f"<SM2PrivateKey public={self._public.point()[1:9].hex()}… {self._backend.NAME}>"


@lru_cache(maxsize=4096)
def _public_from_point(point: bytes, backend: str) -> SM2PublicKey:
    """One loaded public key per point and back end, shared (public keys are immutable)."""
    return SM2PublicKey(point, backend)


@lru_cache(maxsize=4096)
def _public_from_der(der_bytes: bytes, backend: str) -> SM2PublicKey:
    """Public keys are immutable: one parsed (point checked on the curve, loaded into the backend) per
    SubjectPublicKeyInfo and back end, shared. A failure is not cached: it raises every time."""
    return SM2PublicKey(der.decode_spki(der_bytes), backend)
