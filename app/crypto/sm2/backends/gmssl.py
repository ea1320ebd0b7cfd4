"""Pure-Python SM2 backend on the gmssl package's curve parameters.

gmssl 3.2.2's own sign/verify are never called (see DOMAIN.md: `random`-based k,
no range checks, `lstrip("04")` key mangling) and neither is its point
arithmetic: `_kg` returns the input point for k = 0 and `_convert_jacb_to_nor`
returns None at infinity, and its hex-string representation is slow. The point
arithmetic below is ours, on integers, with every infinity/doubling case handled;
the curve parameters are checked against gmssl's table at import.

Not side-channel hardened (Python integers are not constant-time): this is the
fallback for hosts without tongsuopy, not the production signer.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from gmssl.sm2 import default_ecc_table

from app.crypto.sm2.curve import GX, GY, A, B, N, P, decode_point, encode_point
from app.crypto.sm2.der import encode_signature

NAME = "gmssl"

# Refuse to run if gmssl ever ships different parameters than GB/T 32918.5.
if (int(default_ecc_table["p"], 16), int(default_ecc_table["a"], 16), int(default_ecc_table["b"], 16),
        int(default_ecc_table["n"], 16), int(default_ecc_table["g"], 16)) != (P, A, B, N, (GX << 256) | GY):
    raise ImportError("gmssl curve parameters differ from sm2p256v1")

Jacobian = tuple[int, int, int]  # (X, Y, Z) with x = X/Z², y = Y/Z³; Z == 0 is infinity
Affine = tuple[int, int]
INFINITY: Jacobian = (1, 1, 0)
_WINDOW = 4
_DIGITS = 256 // _WINDOW


def _double(pt: Jacobian) -> Jacobian:
    """2·pt, using a = -3 (dbl-2001-b)."""
    x1, y1, z1 = pt
    if z1 == 0 or y1 == 0:
        return INFINITY
    delta = z1 * z1 % P
    gamma = y1 * y1 % P
    beta = x1 * gamma % P
    alpha = 3 * (x1 - delta) * (x1 + delta) % P
    x3 = (alpha * alpha - 8 * beta) % P
    z3 = ((y1 + z1) * (y1 + z1) - gamma - delta) % P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % P
    return x3, y3, z3


def _add_affine(pt: Jacobian, q: Affine) -> Jacobian:
    """pt + q for an affine q, covering pt = O, pt = q (doubling) and pt = -q (O)."""
    x1, y1, z1 = pt
    x2, y2 = q
    if z1 == 0:
        return x2, y2, 1
    z1z1 = z1 * z1 % P
    h = (x2 * z1z1 - x1) % P
    rr = (y2 * z1 * z1z1 - y1) % P
    if h == 0:
        return _double(pt) if rr == 0 else INFINITY
    h2 = h * h % P
    h3 = h * h2 % P
    u1h2 = x1 * h2 % P
    x3 = (rr * rr - h3 - 2 * u1h2) % P
    y3 = (rr * (u1h2 - x3) - y1 * h3) % P
    return x3, y3, z1 * h % P


def _to_affine(pt: Jacobian) -> Affine | None:
    """Affine coordinates, or None for the point at infinity."""
    x, y, z = pt
    if z == 0:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def _multiples(base: Affine) -> list[Affine]:
    """[O-placeholder, 1·base, ..., 15·base] in affine form (index = window digit)."""
    out: list[Affine] = [base, base]
    acc: Jacobian = (base[0], base[1], 1)
    for _ in range(2, 1 << _WINDOW):
        acc = _add_affine(acc, base)
        aff = _to_affine(acc)
        if aff is None:  # only possible for a base of tiny order, which sm2 has none of
            raise ValueError("degenerate base point")
        out.append(aff)
    return out


def _build_comb() -> list[list[Affine]]:
    """For i in 0..63: digit·16^i·G, so k·G needs 64 additions and no doublings."""
    table, base = [], (GX, GY)
    for _ in range(_DIGITS):
        table.append(_multiples(base))
        acc: Jacobian = (base[0], base[1], 1)
        for _ in range(_WINDOW):
            acc = _double(acc)
        base = _to_affine(acc)  # never infinity: 16^i < n
    return table


_COMB: list[list[Affine]] | None = None


def _mul_base(k: int) -> Jacobian:
    """k·G for 0 <= k < 2^256 via the fixed-base table (built on first use, ~20 ms)."""
    global _COMB
    if _COMB is None:
        _COMB = _build_comb()
    acc = INFINITY
    for i in range(_DIGITS):
        digit = (k >> (_WINDOW * i)) & 0xF
        if digit:
            acc = _add_affine(acc, _COMB[i][digit])
    return acc


def _mul_var(k: int, table: list[Affine]) -> Jacobian:
    """k·Q given Q's window table (left-to-right fixed 4-bit window)."""
    acc = INFINITY
    for i in reversed(range(_DIGITS)):
        for _ in range(_WINDOW):
            acc = _double(acc)
        digit = (k >> (_WINDOW * i)) & 0xF
        if digit:
            acc = _add_affine(acc, table[digit])
    return acc


@dataclass(frozen=True)
class PrivateHandle:
    d: int
    inv_1_plus_d: int  # (1 + d)^-1 mod n, the same for every signature of this key


@dataclass(frozen=True)
class PublicHandle:
    point: Affine
    table: list[Affine] = field(repr=False)


def load_private(d: int) -> PrivateHandle:
    """Handle for a range-checked scalar (1 <= d <= n-2, so 1 + d is invertible)."""
    return PrivateHandle(d, pow(1 + d, -1, N))


def load_public(point: bytes) -> PublicHandle:
    """Handle for a 65-byte point; ValueError if it is not a finite curve point."""
    xy = decode_point(point)
    return PublicHandle(xy, _multiples(xy))


def public_point(d: int, handle: PrivateHandle | None = None) -> bytes:
    """Encoded d·G for 1 <= d <= n-1 (`handle` is accepted for the common interface)."""
    xy = _to_affine(_mul_base(d))
    if xy is None:
        raise ValueError("private scalar is a multiple of n")
    return encode_point(*xy)


def _sign_core(key: PrivateHandle, e: int, k: int) -> tuple[int, int] | None:
    """GB/T 32918.2 §6.1 steps A4–A6 for one k; None when k must be redrawn."""
    x1 = _to_affine(_mul_base(k))[0]  # k in [1, n-1] so kG is finite
    r = (e + x1) % N
    if r == 0 or r + k == N:
        return None
    s = key.inv_1_plus_d * (k - r * key.d) % N
    return None if s == 0 else (r, s)


def _sign_with_k(d: int, e: bytes, k: int) -> tuple[int, int] | None:
    """TEST ONLY: sign e with a caller-chosen k (known-answer tests). Never use in production."""
    if not 1 <= k < N:
        raise ValueError("k out of range")
    return _sign_core(load_private(d), int.from_bytes(e, "big"), k)


def sign_digest(key: PrivateHandle, e: bytes) -> bytes:
    """DER signature of a 32-byte e with a fresh k from `secrets`, redrawn on degenerate cases."""
    e_int = int.from_bytes(e, "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        result = _sign_core(key, e_int, k)
        if result is not None:
            return encode_signature(*result)


def verify_digest(key: PublicHandle, e: bytes, r: int, s: int) -> bool:
    """Check (r, s) over e; the caller has already checked 1 <= r, s <= n-1."""
    t = (r + s) % N
    if t == 0:
        return False
    tp = _to_affine(_mul_var(t, key.table))
    total = _mul_base(s) if tp is None else _add_affine(_mul_base(s), tp)
    xy = _to_affine(total)
    if xy is None:
        return False
    return (int.from_bytes(e, "big") + xy[0]) % N == r
