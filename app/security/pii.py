"""Personal data at rest: SM4-GCM encryption and keyed blind indexes (HMAC-SM3).

Ciphertext layout: version byte (1) ‖ 12-byte nonce ‖ SM4-GCM ciphertext ‖ 16-byte tag.
The associated data names the column, so a value cannot be moved to another one.
Sub-keys are derived from the master key with HKDF-SM3, one per purpose.
"""
from __future__ import annotations

import hmac as std_hmac
import re
import secrets
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_VERSION = 1
_LATIN_WORD = re.compile(r"[^\W\d_]+")  # a run of letters: one word of a Latin-script name


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=length, salt=None, info=f"yiwang/{purpose}".encode()).derive(master)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


class DecryptionError(Exception):
    """The ciphertext was altered, belongs to another column, or the key is wrong."""


class PiiCipher:
    def __init__(self, master_key: bytes) -> None:
        self._enc_key = derive_key(master_key, "pii/sm4-gcm/v1", 16)
        self._sm4 = algorithms.SM4(self._enc_key)  # the key's algorithm object, made once (immutable)
        self._index_key = derive_key(master_key, "pii/blind-index/v1")

    def encrypt(self, plaintext: str, column: str) -> bytes:
        nonce = secrets.token_bytes(12)
        enc = Cipher(self._sm4, modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(column.encode())
        body = enc.update(plaintext.encode()) + enc.finalize()
        return bytes([_VERSION]) + nonce + body + enc.tag

    def decrypt(self, blob: bytes, column: str) -> str:
        blob = bytes(blob)
        if len(blob) < 29 or blob[0] != _VERSION:
            raise DecryptionError("unknown ciphertext format")
        nonce, body, tag = blob[1:13], blob[13:-16], blob[-16:]
        dec = Cipher(self._sm4, modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(column.encode())
        try:
            return (dec.update(body) + dec.finalize()).decode()
        except InvalidTag as exc:
            raise DecryptionError("authentication failed") from exc

    def blind_index(self, kind: str, value: str) -> str:
        """Deterministic, keyed lookup value for equality search (no plaintext needed)."""
        return hmac_sm3(self._index_key, f"{kind}:{value}".encode()).hex()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    a = a.encode() if isinstance(a, str) else a
    b = b.encode() if isinstance(b, str) else b
    return std_hmac.compare_digest(a, b)


def mask_phone(phone: str | None) -> str | None:
    """138****5678; anything too short to mask safely becomes ***."""
    if not phone:
        return None
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else "***"


def mask_id_number(id_number: str | None) -> str | None:
    """3401**********1234 (GB/T 35273 展示限制); anything too short becomes ***."""
    if not id_number:
        return None
    return f"{id_number[:4]}{'*' * 10}{id_number[-4:]}" if len(id_number) >= 15 else "***"


def _latin_script(name: str) -> bool:
    """Every letter of `name` is a Latin-script letter (John Smith, José Müller), none CJK."""
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


def _mask_word(match: re.Match[str]) -> str:
    word = match.group()
    return word[0] + "*" * (len(word) - 1)


def mask_name(name: str | None) -> str | None:
    """张* / 张** / 欧阳** for Chinese names; a Latin-script name is masked per word, each word
    keeping its initial: John Smith → J*** S****, Jean-Luc Picard → J***-L** P*****."""
    if not name:
        return None
    if _latin_script(name):
        return _LATIN_WORD.sub(_mask_word, " ".join(name.split()))
    if len(name) <= 2:
        return name[0] + "*"
    keep = 2 if len(name) >= 4 else 1  # 欧阳娜娜 → 欧阳**, 张小明 → 张**
    return name[:keep] + "*" * (len(name) - keep)


def field_cipher() -> PiiCipher:
    """The application's field cipher (set up by the app factory): one accessor for every feature."""
    return current_app.extensions["pii"]
