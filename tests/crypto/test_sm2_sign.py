"""SM2 signing: known answers, cross-backend differential, nonce freshness, IDs."""
from __future__ import annotations

import random
import secrets

import pytest
from gmssl.sm2 import CryptSM2, default_ecc_table

from app.crypto.sm2 import DEFAULT_ID, N, SM2PrivateKey, SM2PublicKey, decode_signature, encode_signature
from app.crypto.sm2.backends import gmssl as pure
from tests.crypto.vectors import (
    BACKENDS, CUSTOM_UID, HAS_TONGSUO, SM2_D, SM2_K, SM2_MESSAGE, SM2_PUBLIC, SM2_R, SM2_S, SM2_Z,
)

tongsuo_only = pytest.mark.skipif(not HAS_TONGSUO, reason="tongsuopy not importable")


@pytest.mark.parametrize("backend", BACKENDS)
def test_known_answer(backend: str) -> None:
    key = SM2PrivateKey.from_int(SM2_D, backend)
    pub = key.public_key()
    assert pub.point() == SM2_PUBLIC
    assert pub.z() == SM2_Z
    e = pub.digest(SM2_MESSAGE)
    assert pure._sign_with_k(SM2_D, e, SM2_K) == (SM2_R, SM2_S)
    assert pub.verify(encode_signature(SM2_R, SM2_S), SM2_MESSAGE)
    assert pub.verify_digest(encode_signature(SM2_R, SM2_S), e)


@tongsuo_only
def test_tongsuopy_public_api_verifies_known_answer() -> None:
    """Independent check: tongsuopy's own DigestVerify path (Z computed by Tongsuo, default ID)."""
    from tongsuopy.crypto import hashes, serialization  # import here: optional backend (the test skips without it)
    from tongsuopy.crypto.asymciphers import ec  # import here: optional backend (the test skips without it)

    pem = SM2PrivateKey.from_int(SM2_D, "gmssl").public_key().public_bytes_pem()
    ts_pub = serialization.load_pem_public_key(pem)
    ts_pub.verify(encode_signature(SM2_R, SM2_S), SM2_MESSAGE, ec.ECDSA(hashes.SM3()))


def test_fixed_k_hook_refuses_bad_k() -> None:
    e = bytes(32)
    for k in (0, N, -1):
        with pytest.raises(ValueError):
            pure._sign_with_k(SM2_D, e, k)


def _messages(count: int) -> list[bytes]:
    msgs = [b"", secrets.token_bytes(1 << 20)]
    msgs += [secrets.token_bytes(secrets.randbelow(300)) for _ in range(count - len(msgs))]
    return msgs


@tongsuo_only
def test_differential_between_backends() -> None:
    """1,000 messages: 600 signed by tongsuo and verified by gmssl, 400 the other way."""
    fast = SM2PrivateKey.generate("tongsuo")
    slow = SM2PrivateKey.from_int(fast.private_scalar(), "gmssl")
    fast_pub, slow_pub = fast.public_key(), slow.public_key()
    msgs = _messages(1000)
    for i, msg in enumerate(msgs):
        uid = CUSTOM_UID if i % 10 == 3 else DEFAULT_ID
        signer, verifier = (fast, slow_pub) if i % 5 < 3 else (slow, fast_pub)
        sig = signer.sign(msg, uid=uid)
        assert verifier.verify(sig, msg, uid=uid), (i, signer.backend_name)
        if i % 50 == 0:  # the same message under another ID must fail
            assert not verifier.verify(sig, msg, uid=b"other")


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_digest_matches_sign(backend: str) -> None:
    key = SM2PrivateKey.generate(backend)
    pub = key.public_key()
    e = pub.digest(b"hello", CUSTOM_UID)
    sig = key.sign_digest(e)
    assert pub.verify(sig, b"hello", uid=CUSTOM_UID)
    assert not pub.verify(sig, b"hello")
    with pytest.raises(ValueError):
        key.sign_digest(e[:31])
    assert not pub.verify_digest(sig, e + b"\0")


@pytest.mark.parametrize(("backend", "count"), [
    pytest.param("tongsuo", 10_000, marks=tongsuo_only), ("gmssl", 1_000)])
def test_nonces_never_repeat_under_seeded_random(backend: str, count: int) -> None:
    """gmssl's own bug drew k from `random`; seeding it must not make our k repeat."""
    key = SM2PrivateKey.generate(backend)
    sigs = set()
    for _ in range(count):
        random.seed(0)
        sigs.add(decode_signature(key.sign(b"same message"))[0])
    assert len(sigs) == count


@pytest.mark.parametrize("backend", BACKENDS)
def test_keys_whose_x_starts_with_0_or_4(backend: str) -> None:
    """gmssl's `lstrip("04")` would corrupt these; our code never strips."""
    found = 0
    while found < 3:
        key = SM2PrivateKey.generate(backend)
        if key.public_key().point()[1] >> 4 in (0, 4):
            found += 1
            sig = key.sign(b"m")
            assert SM2PublicKey.from_point(key.public_key().point(), backend).verify(sig, b"m")


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_bytes_arguments_raise_type_error(backend: str) -> None:
    key = SM2PrivateKey.generate(backend)
    pub = key.public_key()
    sig = key.sign(b"m")
    for bad in ("m", None, 1):
        with pytest.raises(TypeError):
            pub.verify(sig, bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            pub.verify(bad, b"m")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            pub.verify(sig, b"m", uid=bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            key.sign(bad)  # type: ignore[arg-type]
    assert pub.verify(bytearray(sig), memoryview(b"m"), uid=bytearray(DEFAULT_ID))


def test_uid_too_long_is_invalid_not_an_error() -> None:
    key = SM2PrivateKey.generate()
    assert not key.public_key().verify(key.sign(b"m"), b"m", uid=b"x" * 8192)
    with pytest.raises(ValueError):
        key.public_key().z(b"x" * 8192)
    assert key.public_key().verify(key.sign(b"m", uid=b"x" * 8191), b"m", uid=b"x" * 8191)


def test_pure_python_point_arithmetic_matches_gmssl() -> None:
    """Our scalar multiplication against gmssl's own `_kg` (its arithmetic, not its signing)."""
    ref = CryptSM2(private_key="00", public_key="00")
    for _ in range(5):
        k = secrets.randbelow(N - 1) + 1
        assert pure.public_point(k)[1:].hex() == ref._kg(k, default_ecc_table["g"])
    assert pure.public_point(N - 1)[1:33] == pure.public_point(1)[1:33]  # -G has G's x
