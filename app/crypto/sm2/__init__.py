"""SM2 signatures (GB/T 32918.2, GM/T 0009): keys, strict DER, two backends.

    key = SM2PrivateKey.generate()
    sig = key.sign(b"msg")                      # DER, default ID 1234567812345678
    key.public_key().verify(sig, b"msg")        # True; False for anything malformed

The backend (tongsuopy in C, or pure Python) comes from SM2_BACKEND
(auto | tongsuo | gmssl); every constructor also takes an explicit `backend`.
"""
from __future__ import annotations

from app.crypto.sm2.backends import available_backends, get_backend
from app.crypto.sm2.curve import DEFAULT_ID, N
from app.crypto.sm2.der import decode_signature, encode_signature
from app.crypto.sm2.keys import SM2PrivateKey, SM2PublicKey

__all__ = [
    "DEFAULT_ID", "N", "SM2PrivateKey", "SM2PublicKey", "available_backends",
    "decode_signature", "encode_signature", "get_backend",
]
