"""SM2 backend on tongsuopy (its wheel bundles Tongsuo 8.3 — BabaSSL, OpenSSL 1.1.1 based — with SM2 in C).

tongsuopy 1.0.1's public API cannot sign a precomputed e: `ECDSA(Prehashed(SM3()))`
raises AttributeError ('Prehashed' object has no attribute 'name'), and its
`ECDSA(SM3())` path computes Z itself with the fixed default ID, so custom IDs
are impossible there. We therefore call the bound EVP_PKEY_sign / EVP_PKEY_verify
on the SM2 EVP_PKEY: OpenSSL's SM2 provider treats the input as e directly (no
hashing, no Z), which is what GB/T 32918 signs. Same speed as the DigestSign path.

k is drawn inside Tongsuo from OpenSSL's OS-seeded DRBG (BN_priv_rand_range),
which also redraws on r = 0, r + k = n, s = 0 and keeps d in constant-time code;
drawing k in Python would need d in non-constant-time Python integers.
These are private tongsuopy bindings: the dependency is pinned to 1.0.x for that reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tongsuopy.backends.tongsuo.backend import backend as _backend
from tongsuopy.backends.tongsuo.ec import _EllipticCurvePrivateKey
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec

from app.crypto.sm2.curve import decode_point
from app.crypto.sm2.der import decode_signature, encode_signature

NAME = "tongsuo"

_ffi = _backend._ffi
_lib = _backend._lib
_MAX_SIG = 72  # SEQUENCE header 2 + two INTEGERs of at most 2 + 33 bytes


@dataclass(frozen=True)
class PrivateHandle:
    key: Any  # tongsuopy _EllipticCurvePrivateKey; holds the EVP_PKEY alive


@dataclass(frozen=True)
class PublicHandle:
    key: Any  # tongsuopy _EllipticCurvePublicKey


def _new_ctx(key: Any) -> Any:
    # One EVP_PKEY_CTX per call: a context is not safe to share between threads,
    # and creating one costs ~1 µs against ~350 µs for the signature itself.
    ctx = _lib.EVP_PKEY_CTX_new(key._evp_pkey, _ffi.NULL)
    if ctx == _ffi.NULL:
        _backend._consume_errors()
        raise RuntimeError("tongsuo: EVP_PKEY_CTX_new failed")
    return _ffi.gc(ctx, _lib.EVP_PKEY_CTX_free)


def load_private(d: int) -> PrivateHandle:
    """Handle for a range-checked scalar; the EVP_PKEY is built once and reused."""
    return PrivateHandle(_backend.derive_elliptic_curve_private_key(d, ec.SM2()))


def load_private_with_point(d: int, point: bytes) -> PrivateHandle:
    """Handle for d with its public point d·G given (the caller checked it once: keys.py): the
    EC_KEY is built from both, without the scalar multiplication `load_private` does (~4M instructions)."""
    ec_cdata = _backend._ec_key_new_by_curve(ec.SM2())
    group = _lib.EC_KEY_get0_group(ec_cdata)
    pt = _ffi.gc(_lib.EC_POINT_new(group), _lib.EC_POINT_free)
    with _backend._tmp_bn_ctx() as bn_ctx:
        if _lib.EC_POINT_oct2point(group, pt, point, len(point), bn_ctx) != 1:
            _backend._consume_errors()
            raise ValueError("tongsuo: not a point of the curve")
    private = _ffi.gc(_backend._int_to_bn(d), _lib.BN_clear_free)
    if _lib.EC_KEY_set_public_key(ec_cdata, pt) != 1 or _lib.EC_KEY_set_private_key(ec_cdata, private) != 1:
        _backend._consume_errors()
        raise RuntimeError("tongsuo: EC_KEY_set_*_key failed")
    evp_pkey = _backend._ec_cdata_to_evp_pkey(ec_cdata)
    return PrivateHandle(_EllipticCurvePrivateKey(_backend, ec_cdata, evp_pkey))


def load_public(point: bytes) -> PublicHandle:
    """Handle for a 65-byte point; ValueError if it is not a finite curve point."""
    decode_point(point)  # our own check first, independent of OpenSSL's
    return PublicHandle(_backend.load_elliptic_curve_public_bytes(ec.SM2(), point))


def public_point(d: int, handle: PrivateHandle | None = None) -> bytes:
    """Encoded d·G (taken from `handle` when given: no second scalar multiplication)."""
    key = handle.key if handle is not None else _backend.derive_elliptic_curve_private_key(d, ec.SM2())
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


def sign_digest(key: PrivateHandle, e: bytes) -> bytes:
    """DER signature over a 32-byte e (k from OpenSSL's DRBG, see module docstring)."""
    ctx = _new_ctx(key.key)
    if _lib.EVP_PKEY_sign_init(ctx) != 1:
        _backend._consume_errors()
        raise RuntimeError("tongsuo: EVP_PKEY_sign_init failed")
    buf = _ffi.new("unsigned char[]", _MAX_SIG)
    size = _ffi.new("size_t *", _MAX_SIG)
    if _lib.EVP_PKEY_sign(ctx, buf, size, e, len(e)) != 1:
        _backend._consume_errors()
        raise RuntimeError("tongsuo: EVP_PKEY_sign failed")
    sig = _ffi.buffer(buf, size[0])[:]
    decode_signature(sig)  # never hand out a signature our own verifier would refuse
    return sig


def verify_digest(key: PublicHandle, e: bytes, r: int, s: int) -> bool:
    """Check (r, s) over e; the caller has already checked 1 <= r, s <= n-1."""
    sig = encode_signature(r, s)
    ctx = _new_ctx(key.key)
    if _lib.EVP_PKEY_verify_init(ctx) != 1:
        _backend._consume_errors()
        return False
    ok = _lib.EVP_PKEY_verify(ctx, sig, len(sig), e, len(e))
    if ok != 1:
        # 0 = bad signature, < 0 = error; both are "invalid" and leave errors queued.
        _backend._consume_errors()
    return ok == 1
