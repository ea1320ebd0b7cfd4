"""SM3 hash (GB/T 32905) through `cryptography`'s C implementation.

Contract: every function takes bytes-like data and returns the 32-byte digest
(or its lowercase hex); nothing here keeps state between calls except
`SM3Hasher`, which is single-use like any `hashes.Hash`.
"""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes

DIGEST_SIZE = 32


def sm3(data: bytes) -> bytes:
    """Return SM3(data), 32 bytes."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm3_hex(data: bytes) -> str:
    """Return SM3(data) as 64 lowercase hex characters."""
    return sm3(data).hex()


class SM3Hasher:
    """Incremental SM3: `update()` any number of times, then `digest()` once.

    `copy()` forks the state, e.g. to hash a common prefix only once.
    """

    __slots__ = ("_h",)

    def __init__(self, data: bytes = b"", *, _ctx: hashes.Hash | None = None) -> None:
        self._h = _ctx if _ctx is not None else hashes.Hash(hashes.SM3())
        if data:
            self._h.update(data)

    def update(self, data: bytes) -> "SM3Hasher":
        """Feed more data; returns self so calls can be chained."""
        self._h.update(data)
        return self

    def copy(self) -> "SM3Hasher":
        """An independent hasher with the same state."""
        return SM3Hasher(_ctx=self._h.copy())

    def digest(self) -> bytes:
        """Finish and return the 32-byte digest; the hasher cannot be used afterwards."""
        return self._h.finalize()

    def hexdigest(self) -> str:
        """Finish and return the digest as lowercase hex."""
        return self.digest().hex()
