"""National (商用密码) cryptography: SM3, SM4-GCM and SM2 signatures.

`app.crypto.sm3` and `app.crypto.sm4` wrap `cryptography`'s C code; `app.crypto.sm2`
holds keys and signatures over two interchangeable backends (tongsuopy, pure Python).
"""
from __future__ import annotations

from app.crypto.sm3 import SM3Hasher, sm3, sm3_hex
from app.crypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt

__all__ = ["SM3Hasher", "sm3", "sm3_hex", "sm4_gcm_decrypt", "sm4_gcm_encrypt"]
