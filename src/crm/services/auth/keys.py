"""auth's signing keys (EdDSA mode), kept in its own database so nobody manages key files.

The first start makes a key; ``crm auth rotate-key`` adds the next one, which is published at once and signs
after :data:`~crm.platform.keys.ROTATION_GRACE` (so every verifier can fetch it before it meets a token signed
with it); the old key stops signing then and stays published until the last token it signed has expired.
Every auth instance reloads the keys every few seconds, so they all switch at the same moment.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from crm.platform.db import Database
from crm.platform.keys import (
    ALGORITHM,
    ROTATION_GRACE,
    SigningKey,
    jwks_of,
    load_private_pem,
    new_signing_key,
    private_pem,
    signing_key_at,
)
from crm.platform.runtime import ServiceRuntime
from crm.platform.security import LEEWAY_SECONDS
from crm.services.auth.models import SigningKeyRow


class SigningKeyStore:
    """The keyring of auth's signer and, in the embedded mode, of every service's verifier."""

    algorithm = ALGORITHM

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self.db: Database | None = None
        self._keys: list[SigningKey] = []
        self._public: dict[str, Ed25519PublicKey] = {}
        self._reloaded = float("-inf")
        self._lock = asyncio.Lock()

    async def open(self, db: Database) -> SigningKey | None:
        """Load the keys from ``db``; make the first one when none signs. Returns the key it made, if any."""
        self.db = db
        await self.reload()
        if signing_key_at(self._keys, datetime.now(UTC)) is not None:
            return None
        key = new_signing_key()
        async with db.transaction() as session:
            session.add(
                SigningKeyRow(
                    kid=key.kid, private_key_pem=private_pem(key.private_key), created_at=key.created_at
                )
            )
        await self.reload()  # two instances starting at once both sign with the older of their two keys
        return key

    async def reload(self) -> None:
        assert self.db is not None, "the key store is not open"
        async with self.db.sessions() as session:
            rows = (await session.scalars(select(SigningKeyRow))).all()
        keys = [
            SigningKey(r.kid, load_private_pem(r.private_key_pem), r.created_at, r.retired_at) for r in rows
        ]
        self._keys = keys
        self._public = {k.kid: k.public_key for k in keys}
        self._reloaded = time.monotonic()

    def current(self) -> SigningKey:
        key = signing_key_at(self._keys, datetime.now(UTC))
        if key is None:
            raise RuntimeError("no signing key: auth-service has not opened its key store")
        return key

    def jwks(self) -> dict[str, Any]:
        return jwks_of(self._keys, datetime.now(UTC), self.ttl)

    async def key(self, kid: str | None) -> Ed25519PublicKey | None:
        """The public key ``kid`` while it is published; an unknown one rereads the database (at most every
        second: another instance or the CLI may have added it)."""
        if kid is None:
            return None
        if kid not in self._public and self.db is not None and time.monotonic() - self._reloaded > 1.0:
            async with self._lock:
                if kid not in self._public:
                    await self.reload()
        found = next((k for k in self._keys if k.kid == kid), None)
        if found is None or not found.published_at(datetime.now(UTC), self.ttl):
            return None
        return self._public[kid]


@dataclass(frozen=True)
class Rotation:
    key: SigningKey
    retiring: list[str]  # kids that stop signing after the grace (none: the new key signs at once)
    deleted: int  # old keys whose tokens had all expired


async def rotate(db: Database, ttl: timedelta, *, grace: timedelta = ROTATION_GRACE) -> Rotation:
    """Add the next signing key; every key still signing stops in ``grace``. Deletes the keys whose tokens
    have all expired (a day after, so a late JWKS reader still finds them)."""
    now = datetime.now(UTC)
    key = new_signing_key(now)
    dead_after = ttl + timedelta(seconds=LEEWAY_SECONDS) + timedelta(days=1)
    retiring: list[str] = []
    deleted = 0
    async with db.transaction() as session:
        for row in (await session.scalars(select(SigningKeyRow))).all():
            if row.retired_at is None or row.retired_at > now + grace:
                row.retired_at = now + grace
                retiring.append(row.kid)
            elif row.retired_at + dead_after < now:
                await session.delete(row)
                deleted += 1
        session.add(SigningKeyRow(kid=key.kid, private_key_pem=private_pem(key.private_key), created_at=now))
    return Rotation(key, retiring, deleted)


def store_of(runtime: ServiceRuntime) -> SigningKeyStore | None:
    """The key store behind this runtime's signer, or None when it signs with JWT_SECRET."""
    keyring = getattr(runtime.tokens, "keyring", None)
    return keyring if isinstance(keyring, SigningKeyStore) else None


async def open_signing_keys(runtime: ServiceRuntime) -> None:
    """On start (EdDSA mode): load the keys, making the first one on a new database."""
    store = store_of(runtime)
    if store is None:
        runtime.log.info("🔑 Access tokens are HS256 with JWT_SECRET")
        return
    made = await store.open(runtime.db)
    if made is not None:
        runtime.log.info("🔑 Signing key generated: %s (EdDSA)", made.kid)
    runtime.log.info("🔑 Access tokens are EdDSA, signed with key %s", store.current().kid)
