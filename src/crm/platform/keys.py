"""Asymmetric access tokens: Ed25519 signing keys, their JWKS, and verifiers' cached public keys.

auth-service signs with the private half (kept in its own database, see ``crm.services.auth.keys``); every
other process verifies with the public half, fetched from ``/api/auth/.well-known/jwks.json`` and cached.

Rotation without downtime: a new key is *published* before it *signs* (:data:`ROTATION_GRACE`, longer than a
verifier's refresh interval), and an old key stays published until every token it signed has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from crm.platform.aio import wait_until
from crm.platform.tokens import LEEWAY_SECONDS, SignerBase

ALGORITHM = "EdDSA"
JWKS_PATH = "/api/auth/.well-known/jwks.json"
# How long a request waits for the first load of the public keys after a start (auth may start with us).
FIRST_LOAD_WAIT = 5.0
# A verifier refetches the public keys on an unknown ``kid`` at most this often (a forged kid costs nothing).
REFRESH_INTERVAL = 30.0
# ... but this soon after a fetch that failed or found no key (auth starting, or briefly unreachable): waiting
# the full interval then would refuse valid tokens for no reason.
RETRY_INTERVAL = 1.0
# A rotated-in key is published this long before it signs, so every verifier can fetch it when first needed.
ROTATION_GRACE = timedelta(seconds=REFRESH_INTERVAL * 2)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created_at: datetime
    retired_at: datetime | None = None  # stops signing then; still verifies until its tokens expired

    def __repr__(self) -> str:  # never the private key, even in a traceback
        return f"SigningKey(kid={self.kid!r}, created_at={self.created_at}, retired_at={self.retired_at})"

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def signs_at(self, now: datetime) -> bool:
        return self.retired_at is None or self.retired_at > now

    def published_at(self, now: datetime, ttl: timedelta) -> bool:
        """Verifiable: not retired, or retired so recently that a token it signed may still be valid."""
        grace = ttl + timedelta(seconds=LEEWAY_SECONDS)
        return self.retired_at is None or self.retired_at + grace > now

    def jwk(self) -> dict[str, Any]:
        body: dict[str, Any] = OKPAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**body, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def new_signing_key(now: datetime | None = None) -> SigningKey:
    created = now or datetime.now(UTC)
    kid = f"{created:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    return SigningKey(kid, Ed25519PrivateKey.generate(), created)


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def signing_key_at(keys: Iterable[SigningKey], now: datetime) -> SigningKey | None:
    """The key that signs at ``now``: the oldest one not yet retired (a rotated-in key waits its turn)."""
    live = sorted((k for k in keys if k.signs_at(now)), key=lambda k: (k.created_at, k.kid))
    return live[0] if live else None


def jwks_of(keys: Iterable[SigningKey], now: datetime, ttl: timedelta) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys if k.published_at(now, ttl)]}


def public_keys_of(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """``kid`` → public key for each usable Ed25519 signing key of a JWKS document (others are ignored)."""
    found: dict[str, Ed25519PublicKey] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS document has a 'keys' list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        key = OKPAlgorithm.from_jwk(entry)
        if isinstance(key, Ed25519PublicKey):
            found[entry["kid"]] = key
    return found


class SigningKeyring(Protocol):
    """auth's keys as its signer sees them (``crm.services.auth.keys.SigningKeyStore``)."""

    algorithm: str

    def current(self) -> SigningKey: ...
    def jwks(self) -> dict[str, Any]: ...
    async def key(self, kid: str | None) -> Any | None: ...


class EdDsaTokens(SignerBase):
    """Issues EdDSA access tokens with the keyring's current key, naming it in the ``kid`` header."""

    algorithm = ALGORITHM

    def __init__(self, keyring: SigningKeyring, ttl_minutes: int = 15) -> None:
        super().__init__(ttl_minutes)
        self.keyring = keyring

    def _sign(self, claims: dict[str, Any]) -> str:
        key = self.keyring.current()
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verification_keys(self) -> SigningKeyring:
        return self.keyring

    def jwks(self) -> dict[str, Any]:
        return self.keyring.jwks()


class CachedKeys:
    """Public keys by ``kid``, loaded by ``load`` and reloaded when a token names an unknown one, one load
    at a time: at most every ``interval`` seconds after a load that found keys, every ``retry`` seconds after
    one that failed or found none."""

    algorithm = ALGORITHM

    def __init__(
        self,
        load: Callable[[], Awaitable[Mapping[str, Ed25519PublicKey]]],
        *,
        interval: float = REFRESH_INTERVAL,
        retry: float = RETRY_INTERVAL,
        first_wait: float = FIRST_LOAD_WAIT,
    ) -> None:
        self._load, self.interval, self.retry, self.first_wait = load, interval, retry, first_wait
        self.keys: dict[str, Ed25519PublicKey] = {}
        self.loaded, self.last_error = False, ""
        self._found_keys = False  # the last attempt loaded at least one key
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self._first_load = asyncio.Event()

    async def key(self, kid: str | None) -> Ed25519PublicKey | None:
        if kid is None:
            return None
        found = self.keys.get(kid)
        if found is None:
            await self.refresh(throttled=True)
            found = self.keys.get(kid)
        deadline = time.monotonic() + self.first_wait
        while found is None and not self.loaded and (left := deadline - time.monotonic()) > 0:
            # Just started, auth not answering yet (it may start with us): wait a little, trying again,
            # rather than refuse a token for a key we simply could not fetch yet.
            await wait_until(self._first_load.wait(), min(self.retry, left))
            await self.refresh(throttled=True)
            found = self.keys.get(kid)
        return found

    async def refresh(self, *, throttled: bool = False) -> bool:
        """Reload now (or, ``throttled``, only if the last attempt is old enough). True if keys were loaded;
        raises nothing: a failed load keeps the keys already known."""
        async with self._lock:
            since = time.monotonic() - self._last_attempt
            if throttled and since < (self.interval if self._found_keys else self.retry):
                return False
            self._last_attempt = time.monotonic()
            try:
                self.keys = dict(await self._load())
            except Exception as exc:
                self.last_error, self._found_keys = f"{type(exc).__name__}: {exc}", False
                return False
            self.loaded, self.last_error, self._found_keys = True, "", bool(self.keys)
            self._first_load.set()
            return True


class RemoteJwks(CachedKeys):
    """auth's public keys fetched over HTTP from its JWKS endpoint: first at start (retrying until auth
    answers), then whenever a token names an unknown key (at most every 30 s, every second while auth does
    not answer or publishes no key), and every few minutes so a key that stopped being published is
    forgotten."""

    def __init__(
        self,
        url: str,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
        *,
        interval: float = REFRESH_INTERVAL,
        periodic: float = 300.0,
    ) -> None:
        super().__init__(self._fetch, interval=interval)
        self.url, self.log, self.periodic = url, log, periodic
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None

    async def _fetch(self) -> dict[str, Ed25519PublicKey]:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        async with self._session.get(self.url, headers={"accept": "application/json"}) as response:
            if response.status != 200:
                raise ValueError(f"{self.url} answered {response.status}")
            return public_keys_of(await response.json(content_type=None))

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._keep_fresh())

    async def _keep_fresh(self) -> None:
        delay, attempts = 0.5, 0
        while not await self.refresh():
            attempts += 1  # auth starting at the same moment is normal: say so quietly at first
            self.log.log(
                logging.INFO if attempts <= 3 else logging.WARNING,
                "🔁 Public keys not loaded from %s (%s); retrying in %.1fs",
                self.url,
                self.last_error,
                delay,
            )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(15.0, delay * 2)
        self.log.info("🔑 Public keys loaded from %s (%d)", self.url, len(self.keys))
        if not self.keys:  # every token will be refused: say why it may be
            self.log.warning(
                "⚠️ auth publishes no public key: JWT_SECRET set on auth but not on this process?"
            )
        while True:
            await asyncio.sleep(self.periodic)
            await self.refresh()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await wait_until(self._task, 5)
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def status(self) -> dict[str, Any]:
        return {"publicKeys": len(self.keys) if self.loaded else f"not loaded from {self.url}"}
