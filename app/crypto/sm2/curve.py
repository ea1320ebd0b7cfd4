"""sm2p256v1 domain parameters (GB/T 32918.5) and the computations every backend shares.

Kept independent of any backend so that Z, e and point validation are computed
once, the same way, whichever backend signs or verifies.
"""
from __future__ import annotations

from functools import lru_cache

from app.crypto.sm3 import SM3Hasher, sm3

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

DEFAULT_ID = b"1234567812345678"
POINT_SIZE = 65  # 04 ‖ x ‖ y
# ENTL is a 16-bit count of ID *bits*, so IDs longer than 8191 bytes cannot be encoded.
MAX_ID_BYTES = 0xFFFF // 8

_CURVE_BYTES = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))


def is_on_curve(x: int, y: int) -> bool:
    """True iff (x, y) is an affine point of the curve (cofactor 1: then it is in the group)."""
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def decode_point(point: bytes) -> tuple[int, int]:
    """Parse an uncompressed 65-byte point; ValueError unless it is a finite curve point.

    The point at infinity has no 65-byte encoding, so rejecting every other
    length and prefix also rejects it.
    """
    if len(point) != POINT_SIZE or point[0] != 0x04:
        raise ValueError("SM2 public key must be 65 bytes 04 ‖ x ‖ y")
    x = int.from_bytes(point[1:33], "big")
    y = int.from_bytes(point[33:], "big")
    if not is_on_curve(x, y):
        raise ValueError("SM2 public key is not on the curve")
    return x, y


def encode_point(x: int, y: int) -> bytes:
    """65-byte uncompressed encoding of an affine point."""
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def check_private_scalar(d: int) -> int:
    """Return d if 1 <= d <= n-2 (GB/T 32918: 1+d must be invertible mod n), else ValueError."""
    if isinstance(d, bool) or not isinstance(d, int):
        raise TypeError("private scalar must be an int")
    if not 1 <= d <= N - 2:
        raise ValueError("SM2 private key out of range")
    return d


@lru_cache(maxsize=4096)
def compute_z(point: bytes, uid: bytes) -> bytes:
    """Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) for a 65-byte point.

    Cached per (key, ID): Z costs a hash over 210+ bytes and is the same for
    every signature a key makes with a given ID.
    """
    if len(uid) > MAX_ID_BYTES:
        raise ValueError("SM2 ID too long")
    entl = (len(uid) * 8).to_bytes(2, "big")
    return sm3(entl + uid + _CURVE_BYTES + point[1:])


def compute_e(point: bytes, message: bytes, uid: bytes) -> bytes:
    """e = SM3(Z ‖ M), the value SM2 actually signs (32 bytes)."""
    return SM3Hasher(compute_z(point, uid)).update(message).digest()
