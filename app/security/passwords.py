"""Password hashing for staff accounts (Argon2id, RFC 9106 parameters).

A verification costs ~0.2 s of CPU and 64 MiB: `verification_slot(n)` lets at most n of them run at
once in this process, so a burst of logins cannot starve every other request of CPU and memory.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("yiwang-dummy-password")

MIN_PASSWORD_LENGTH = 12

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextmanager
def verification_slot(limit: int) -> Iterator[bool]:
    """Yields whether one of this process's `limit` verification slots was free (and holds it);
    never waits: a caller that gets False answers "busy" instead of queueing more CPU work."""
    with _slots_lock:
        slots = _slots.setdefault(limit, threading.BoundedSemaphore(limit))
    acquired = slots.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            slots.release()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str) -> list[str]:
    """Reasons a staff password is too weak (empty list: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"至少 {MIN_PASSWORD_LENGTH} 个字符")
    classes = sum(any(f(c) for c in password) for f in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum()))
    if classes < 3:
        problems.append("需包含大写字母、小写字母、数字、符号中的至少三类")
    return problems
