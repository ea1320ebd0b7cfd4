"""Reloading a private key DER (the key store unwraps one for every signature): the embedded public
point is checked against d·G once per DER, later loads of the same bytes skip the multiplication."""
from __future__ import annotations

import pytest

from app.crypto.sm2 import SM2PrivateKey, der, keys
from app.crypto.sm2.backends import available_backends


@pytest.mark.parametrize("backend", available_backends())
def test_a_reloaded_key_signs_like_the_first_load(backend):
    original = SM2PrivateKey.generate(backend)
    blob = original.private_bytes_der()
    first = SM2PrivateKey.from_der(blob, backend)
    again = SM2PrivateKey.from_der(blob, backend)
    assert again.public_key() == first.public_key() == original.public_key()
    assert again.private_scalar() == original.private_scalar()
    for key in (first, again):
        assert original.public_key().verify(key.sign(b"contract"), b"contract")


def test_a_der_whose_point_is_not_d_g_is_refused_every_time():
    key, other = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    good = key.private_bytes_der()
    SM2PrivateKey.from_der(good)  # its point is now known as checked
    forged = der.encode_pkcs8(key.private_scalar(), other.public_key().point())
    for _ in range(2):
        with pytest.raises(ValueError, match="does not match"):
            SM2PrivateKey.from_der(forged)
    # another scalar with the checked point: a different DER, checked again (and refused)
    swapped = der.encode_pkcs8(other.private_scalar(), key.public_key().point())
    with pytest.raises(ValueError, match="does not match"):
        SM2PrivateKey.from_der(swapped)


def test_the_check_cache_holds_tags_not_keys():
    key = SM2PrivateKey.generate()
    blob = key.private_bytes_der()
    SM2PrivateKey.from_der(blob)
    assert key.public_key().point() in keys._checked_points.values()
    assert blob not in keys._checked_points
    assert all(len(tag) == 32 and tag not in blob for tag in keys._checked_points)


def test_a_verification_repeated_gives_the_same_answer_and_a_changed_input_is_checked_afresh():
    key = SM2PrivateKey.generate()
    public = key.public_key()
    e = public.digest(b"contract")
    signature = key.sign_digest(e)
    assert public.verify_digest(signature, e) and public.verify_digest(signature, e)
    other_e = public.digest(b"contract, altered")
    assert not public.verify_digest(signature, other_e) and not public.verify_digest(signature, other_e)
    tampered = bytearray(signature)
    tampered[-1] ^= 1
    assert not public.verify_digest(bytes(tampered), e)
    assert not SM2PrivateKey.generate().public_key().verify_digest(signature, e)  # another key
    assert public.verify_digest(signature, e)
