"""Wycheproof-style mutants of valid signatures: none may verify, none may raise.

Every mutant is tried on both backends; with allow_raw False and True for the
signature mutants (a DER mutant must not sneak in as raw r ‖ s either).
"""
from __future__ import annotations

import secrets

import pytest

from app.crypto.sm2 import DEFAULT_ID, N, SM2PrivateKey, SM2PublicKey, decode_signature
from app.crypto.sm2.der import encode_integer, encode_length, encode_tlv
from tests.crypto.vectors import BACKENDS, CUSTOM_UID

MESSAGE = b"Wycheproof-style mutation corpus"


def _seq(*parts: bytes) -> bytes:
    return encode_tlv(0x30, b"".join(parts))


def _int_content(value: int) -> bytes:
    return encode_integer(value)[2:]


def _value_mutants(r: int, s: int) -> list[bytes]:
    pairs = [(0, s), (r, 0), (N, s), (r, N), (N + 1, s), (r, N + 1), (N - 1, s), (r, N - 1),
             (r + N, s), (r, s + N), (r, (N - r) % N or 1), (r, N - s), (s, r), (r + 1, s), (r, s + 1),
             (-r, s), (r, -s), (1, 1), (N - 1, N - 1), (2**256 - 1, s), (r, 2**256), (0, 0), (-1, -1)]
    return [_seq(encode_integer(a), encode_integer(b)) for a, b in pairs]


def _encoding_mutants(sig: bytes, r: int, s: int) -> list[bytes]:
    ri, si = encode_integer(r), encode_integer(s)
    body = ri + si
    rc, sc = _int_content(r), _int_content(s)
    out = [
        b"\x30\x81" + bytes([len(body)]) + body,          # BER: long form where short suffices
        b"\x30\x82\x00" + bytes([len(body)]) + body,      # BER: leading zero in the length
        b"\x30\x84\x00\x00\x00" + bytes([len(body)]) + body,
        b"\x30\x80" + body + b"\x00\x00",                  # BER: indefinite length
        _seq(b"\x02\x81" + bytes([len(rc)]) + rc, si),
        _seq(ri, b"\x02\x81" + bytes([len(sc)]) + sc),
        _seq(b"\x02\x80" + rc + b"\x00\x00", si),
        b"\x30" + bytes([len(body) + 1]) + body,           # length overflows / underflows
        b"\x30" + bytes([len(body) - 1]) + body,
        b"\x30\x7f" + body, b"\x30\xff" + body, b"\x30\x84\xff\xff\xff\xff" + body,
        b"\x30\x89" + b"\x01" * 9 + body, b"\x30\x85\x00\x00\x00\x00" + bytes([len(body)]) + body,
        _seq(b"\x02" + bytes([len(rc) + 1]) + rc, si), _seq(b"\x02" + bytes([len(rc) - 1]) + rc, si),
        _seq(ri, b"\x02" + bytes([len(sc) + 1]) + sc), _seq(ri, b"\x02" + bytes([len(sc) - 1]) + sc),
        _seq(b"\x02\xff" + rc, si), _seq(b"\x02\x00", si), _seq(ri, b"\x02\x00"),
        _seq(b"\x02" + encode_length(len(rc) + 1) + b"\x00" + rc, si),   # superfluous leading zero
        _seq(ri, b"\x02" + encode_length(len(sc) + 1) + b"\x00" + sc),
        _seq(b"\x02" + encode_length(len(rc) + 2) + b"\x00\x00" + rc, si),
        _seq(encode_tlv(0x02, rc.lstrip(b"\x00") or b"\x00"), si),       # leading zero removed
        _seq(ri, encode_tlv(0x02, sc.lstrip(b"\x00") or b"\x00")),
        _seq(encode_tlv(0x02, bytes([rc[0] | 0x80]) + rc[1:]), si),      # sign bit set: negative
        _seq(ri, encode_tlv(0x02, bytes([sc[0] | 0x80]) + sc[1:])),
        _seq(ri), _seq(si), _seq(), _seq(ri, si, encode_integer(0)), _seq(ri, si, b"\x05\x00"),
        _seq(_seq(ri, si)), _seq(si, ri), ri + si, b"\x31" + sig[1:], b"\x10" + sig[1:], b"\xa0" + sig[1:],
        b"\x3f" + sig[1:], b"\x1f\x81" + sig[1:], b"\x00" + sig, sig[:1] + b"\x00" + sig[1:],
        sig + b"\x00", sig + b"\x00\x00", sig + b"\x30\x00", sig + secrets.token_bytes(7), sig + sig,
        sig[:2], sig[:1], b"", b"\x30", b"\x30\x00", b"\x00" * len(sig), b"\xff" * len(sig),
        r.to_bytes(32, "big") + s.to_bytes(32, "big"),    # raw r ‖ s without allow_raw
    ]
    out += [sig[:-i] for i in range(1, 6)]
    for tag in (0x03, 0x04, 0x22, 0x0A, 0x82, 0x00):
        out.append(_seq(bytes([tag]) + ri[1:], si))
        out.append(_seq(ri, bytes([tag]) + si[1:]))
    return out


def _bit_flips(data: bytes, positions: list[int] | None = None) -> list[bytes]:
    positions = positions if positions is not None else list(range(len(data) * 8))
    return [data[:p // 8] + bytes([data[p // 8] ^ (1 << (p % 8))]) + data[p // 8 + 1:] for p in positions]


def _sample(data: bytes, count: int) -> list[int]:
    return sorted({secrets.randbelow(len(data) * 8) for _ in range(count)})


def _signature_with_leading_zero(key: SM2PrivateKey, uid: bytes, want: bool) -> bytes:
    """A signature whose r has (want=True) or lacks a 0x00 pad, so both removal cases occur."""
    while True:
        sig = key.sign(MESSAGE, uid=uid)
        if (decode_signature(sig)[0] >> 255 == 1) == want:
            return sig


def _accepted(backend: str, point: bytes, sig: bytes, msg: bytes, uid: bytes, allow_raw: bool) -> bool:
    try:
        pub = SM2PublicKey.from_point(point, backend)
    except ValueError:  # a mutated key refused at import is a rejection, as designed
        return False
    return pub.verify(sig, msg, uid=uid, allow_raw=allow_raw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_mutant_verifies(backend: str) -> None:
    key = SM2PrivateKey.generate(backend)
    point = key.public_key().point()
    tried = 0
    for uid, want_zero in ((DEFAULT_ID, True), (CUSTOM_UID, False)):
        sig = _signature_with_leading_zero(key, uid, want_zero)
        r, s = decode_signature(sig)
        assert _accepted(backend, point, sig, MESSAGE, uid, False)  # positive control
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert _accepted(backend, point, raw, MESSAGE, uid, True)
        # Some builders are no-ops for a given signature (e.g. stripping a zero that is absent).
        sig_mutants = [m for m in _value_mutants(r, s) + _encoding_mutants(sig, r, s) + _bit_flips(sig)
                       if m != sig]
        for mutant in sig_mutants:
            for allow_raw in (False, True):
                if allow_raw and mutant == raw:
                    continue
                assert not _accepted(backend, point, mutant, MESSAGE, uid, allow_raw), mutant.hex()
                tried += 1
        others = ([(point, m, uid) for m in _bit_flips(MESSAGE, _sample(MESSAGE, 24))]
                  + [(point, MESSAGE + b"\x00", uid), (point, MESSAGE[:-1], uid), (point, b"", uid)]
                  + [(p, MESSAGE, uid) for p in _bit_flips(point, _sample(point, 24))]
                  + [(SM2PrivateKey.generate(backend).public_key().point(), MESSAGE, uid)]
                  + [(point, MESSAGE, u) for u in _bit_flips(uid, _sample(uid, 16))]
                  + [(point, MESSAGE, b""), (point, MESSAGE, uid + b"\x00"), (point, MESSAGE, uid[:-1])])
        for p, m, u in others:
            assert not _accepted(backend, p, sig, m, u, False)
            tried += 1
    assert tried >= 500
