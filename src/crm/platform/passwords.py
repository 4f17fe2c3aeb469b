"""Passwords: argon2id hashes, verified off the event loop in constant time (a missing account costs the same
as a wrong password, so timing tells no account apart)."""

from __future__ import annotations

import asyncio
import ctypes
import hmac
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def _return_large_blocks_to_the_os() -> None:
    """Pin glibc's mmap threshold at its 128 KiB default. Left dynamic, the first freed 19 MiB argon2 block
    raises it to 19 MiB, and from then on every worker thread that hashes keeps its own 19 MiB in its malloc
    arena for the life of the process (measured: +19 MB RSS per thread). Pinned, each hash maps its block and
    unmaps it when done. Nothing to do on another C library."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    m_mmap_threshold = -3
    mallopt(m_mmap_threshold, 128 * 1024)


_return_large_blocks_to_the_os()
# argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): ~50 ms here, run off the event loop.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# A real hash to verify against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + uuid.uuid4().hex)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check; a missing hash still spends the time of a real verification."""
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
