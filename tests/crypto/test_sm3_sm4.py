"""SM3 known answers and the SM4-GCM helper used by the key store."""
from __future__ import annotations

import pytest

from app.crypto import SM3Hasher, sm3, sm3_hex, sm4_gcm_decrypt, sm4_gcm_encrypt
from tests.crypto.vectors import SM3_VECTORS


@pytest.mark.parametrize(("data", "expected"), SM3_VECTORS)
def test_sm3_known_answers(data: bytes, expected: str) -> None:
    assert sm3_hex(data) == expected
    assert sm3(data) == bytes.fromhex(expected)


@pytest.mark.parametrize(("data", "expected"), SM3_VECTORS)
def test_sm3_incremental_matches_one_shot(data: bytes, expected: str) -> None:
    hasher = SM3Hasher()
    for i in range(0, len(data), 3):
        hasher.update(data[i:i + 3])
    fork = hasher.copy()
    assert hasher.hexdigest() == expected
    assert fork.update(b"x").digest() == sm3(data + b"x")


def test_sm4_gcm_round_trip_and_fresh_nonces() -> None:
    key = bytes(range(16))
    a = sm4_gcm_encrypt(key, b"secret", b"slot-1")
    b = sm4_gcm_encrypt(key, b"secret", b"slot-1")
    assert a != b and len(a) == 12 + 6 + 16
    assert sm4_gcm_decrypt(key, a, b"slot-1") == b"secret"
    assert sm4_gcm_decrypt(key, sm4_gcm_encrypt(key, b"", b""), b"") == b""


@pytest.mark.parametrize("tamper", ["aad", "key", "bit", "short"])
def test_sm4_gcm_rejects_tampering(tamper: str) -> None:
    key = bytes(range(16))
    blob = sm4_gcm_encrypt(key, b"secret", b"slot-1")
    aad = b"slot-1"
    if tamper == "aad":
        aad = b"slot-2"
    elif tamper == "key":
        key = bytes(16)
    elif tamper == "bit":
        blob = blob[:15] + bytes([blob[15] ^ 1]) + blob[16:]
    else:
        blob = blob[:27]
    with pytest.raises(ValueError):
        sm4_gcm_decrypt(key, blob, aad)


def test_sm4_key_must_be_16_bytes() -> None:
    with pytest.raises(ValueError):
        sm4_gcm_encrypt(bytes(32), b"x", b"")
