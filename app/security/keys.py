"""Key material: the JWT signing keys and the data-encryption master key.

Production takes them from the environment (a secret manager fills it) and
refuses to start without them (`app.config.check_config`). Development
generates them under `VAR_DIR/keys` on first start, with 0600 permissions,
and logs that it did.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)


@dataclass
class KeyMaterial:
    jwt_signing_key: Ed25519PrivateKey
    jwt_kid: str
    jwt_verify_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    data_master_key: bytes = b""


def key_id(public_key: Ed25519PublicKey) -> str:
    """RFC 7638-style thumbprint, shortened: stable per key, reveals nothing."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode()[:16]


def _load_pem_keys(pem_text: str) -> list[Any]:
    keys = []
    for block in pem_text.split("-----END ")[:-1]:
        begin = block.index("-----BEGIN ")
        label = block[begin + 11:block.index("-----", begin + 11)]
        pem = (block[begin:] + f"-----END {label}-----\n").encode()
        if "PRIVATE" in label:
            keys.append(serialization.load_pem_private_key(pem, password=None))
        else:
            keys.append(serialization.load_pem_public_key(pem))
    return keys


def _public(key: Any) -> Ed25519PublicKey:
    pub = key.public_key() if hasattr(key, "public_key") else key
    if not isinstance(pub, Ed25519PublicKey):
        raise ValueError("JWT keys must be Ed25519")
    return pub


def _write_secret(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def generate_dev_jwt_key(key_dir: str) -> str:
    """Write a new Ed25519 signing key under `key_dir`; it becomes the current one."""
    os.makedirs(key_dir, mode=0o700, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    kid = key_id(key.public_key())
    existing = sorted(f for f in os.listdir(key_dir) if f.endswith(".pem"))
    seq = int(existing[-1].split("-")[0]) + 1 if existing else 1
    _write_secret(os.path.join(key_dir, f"{seq:04d}-{kid}.pem"), pem)
    return kid


def _dev_keys(var_dir: str) -> tuple[list[Any], bytes]:
    key_dir = os.path.join(var_dir, "keys")
    jwt_dir = os.path.join(key_dir, "jwt")
    data_path = os.path.join(key_dir, "data.key")
    generated = []
    if not os.path.isdir(jwt_dir) or not any(f.endswith(".pem") for f in os.listdir(jwt_dir)):
        generate_dev_jwt_key(jwt_dir)
        generated.append("jwt")
    if not os.path.exists(data_path):
        _write_secret(data_path, base64.b64encode(secrets.token_bytes(32)))
        generated.append("data")
    if generated:
        log.warning("generated development keys", extra={"keys": generated, "dir": key_dir})
    files = sorted(f for f in os.listdir(jwt_dir) if f.endswith(".pem"))
    jwt_keys = []
    for name in reversed(files):  # newest first: the current signing key
        with open(os.path.join(jwt_dir, name)) as fh:
            jwt_keys.extend(_load_pem_keys(fh.read()))
    with open(data_path, "rb") as fh:
        return jwt_keys, base64.b64decode(fh.read().strip())


def load_key_material(settings: dict[str, Any]) -> KeyMaterial:
    if settings.get("JWT_SIGNING_KEY"):
        jwt_keys = _load_pem_keys(settings["JWT_SIGNING_KEY"]) + _load_pem_keys(settings.get("JWT_VERIFY_KEYS", ""))
        data_key = base64.b64decode(settings["DATA_ENCRYPTION_KEY"]) if settings.get("DATA_ENCRYPTION_KEY") else b""
        if not data_key:
            data_key = _dev_keys(settings["VAR_DIR"])[1]
    else:
        jwt_keys, data_key = _dev_keys(settings["VAR_DIR"])
        if settings.get("DATA_ENCRYPTION_KEY"):
            data_key = base64.b64decode(settings["DATA_ENCRYPTION_KEY"])
    if len(data_key) != 32:
        raise ValueError("DATA_ENCRYPTION_KEY must be base64 of 32 bytes")
    signing = jwt_keys[0]
    if not isinstance(signing, Ed25519PrivateKey):
        raise ValueError("JWT_SIGNING_KEY must be an Ed25519 private key (PEM)")
    verify = {key_id(_public(k)): _public(k) for k in jwt_keys}
    return KeyMaterial(signing, key_id(signing.public_key()), verify, data_key)


# --- Key store key-encryption keys (added with app/crypto/keystore.py) ----------------------
# Their own keys, never derived from DATA_ENCRYPTION_KEY: one purpose per key (GB/T 39786).

_KEK_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


def parse_keks(text: str) -> list[tuple[str, bytes]]:
    """`KEYSTORE_KEKS`: "kid1:base64key,kid2:base64key", newest last; each key 16 bytes (SM4)."""
    keks: list[tuple[str, bytes]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kid, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            key = b""
        if not _KEK_ID.fullmatch(kid) or len(key) != 16 or kid in dict(keks):
            raise ValueError("KEYSTORE_KEKS must be 'kid:base64(16 bytes)' pairs with distinct ids, comma-separated")
        keks.append((kid, key))
    return keks


def _dev_keks(var_dir: str) -> list[tuple[str, bytes]]:
    """Development: VAR_DIR/keys/kek-<n>.key (base64, 0600), generating kek-1 on first start."""
    key_dir = os.path.join(var_dir, "keys")
    os.makedirs(key_dir, mode=0o700, exist_ok=True)
    names = [f for f in os.listdir(key_dir) if re.fullmatch(r"kek-\d+\.key", f)]
    if not names:
        _write_secret(os.path.join(key_dir, "kek-1.key"), base64.b64encode(secrets.token_bytes(16)))
        log.warning("generated development keys", extra={"keys": ["keystore-kek"], "dir": key_dir})
        names = ["kek-1.key"]
    keks = []
    for name in sorted(names, key=lambda n: int(n[4:-4])):
        with open(os.path.join(key_dir, name), "rb") as fh:
            keks.append((name[:-4], base64.b64decode(fh.read().strip())))
    return keks


def load_keystore_keks(settings: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The key store's KEKs, newest last: `KEYSTORE_KEKS` if set (required in production),
    else the development files under VAR_DIR/keys."""
    if settings.get("KEYSTORE_KEKS"):
        return parse_keks(settings["KEYSTORE_KEKS"])
    return _dev_keks(settings["VAR_DIR"])
