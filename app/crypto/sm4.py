"""SM4-GCM (GB/T 32907 block cipher in GCM mode) for small secrets such as wrapped keys.

Blob layout: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag. The AAD binds the
blob to its purpose (e.g. a key id), so a blob cannot be moved to another slot.
Any authentication failure or malformed blob raises ValueError.
"""
from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16


def _check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise ValueError("SM4 key must be 16 bytes")


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt with a fresh random nonce; returns nonce ‖ ciphertext ‖ tag."""
    _check_key(key)
    # 96-bit random nonces: the birthday bound (2^32 messages per key) is far
    # beyond what a key-wrapping key ever encrypts.
    nonce = secrets.token_bytes(NONCE_SIZE)
    enc = Cipher(algorithms.SM4(bytes(key)), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return nonce + body + enc.tag


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt nonce ‖ ciphertext ‖ tag; ValueError if altered, wrong key or wrong AAD."""
    _check_key(key)
    blob = bytes(blob)
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise ValueError("SM4-GCM blob too short")
    nonce, body, tag = blob[:NONCE_SIZE], blob[NONCE_SIZE:-TAG_SIZE], blob[-TAG_SIZE:]
    dec = Cipher(algorithms.SM4(bytes(key)), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag as exc:
        raise ValueError("SM4-GCM authentication failed") from exc
