"""The token check at the edge: which routes are public, the bearer token of a request, and a short-lived
cache of verified tokens in front of the verifier.

The gateway refuses a missing or bad token before any service sees the request; every service still verifies
the token itself (defence in depth), so the cache can only ever let through a request the service refuses.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from crm.platform.security import Principal, TokenError, Tokens

# Explicitly public: the account endpoints that hand out tokens, auth's public keys, and the gateway's own
# pages. Everything else under /api needs a valid bearer token at the edge.
PUBLIC_API_PATHS = frozenset(
    {
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/token",  # API key → access token exchange
        "/api/auth/.well-known/jwks.json",
    }
)
# The stricter rate-limit bucket (password guessing, account creation, token minting).
AUTH_LIMITED_PATHS = frozenset(
    {"/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/token"}
)
GATEWAY_PUBLIC_PATHS = frozenset({"/health", "/api/health", "/ready", "/docs", "/openapi.json"})


class Verifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


class TokensVerifier:
    """HS256 :class:`~crm.platform.security.Tokens` as an async verifier (a deployment with JWT_SECRET)."""

    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens

    async def verify(self, token: str) -> Principal:
        return self._tokens.verify(token)


def bearer(authorization: bytes | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; TokenError when there is none."""
    if authorization is None:
        raise TokenError("missing bearer token")
    scheme, _, token = authorization.partition(b" ")
    token = token.strip()
    if scheme.lower() != b"bearer" or not token or len(token) > 8192:
        raise TokenError("missing bearer token")
    try:
        return token.decode("ascii")
    except UnicodeDecodeError:
        raise TokenError("invalid token") from None


class CachedVerifier:
    """Remembers a verified token for ``ttl`` seconds (never past its expiry), up to ``size`` tokens (LRU).

    Verifying a JWT costs ~70 µs here — half of the gateway's whole budget for a request at 5,000 req/s —
    and a client sends the same token on every request. ``ttl`` bounds how long a revoked token may still
    pass the edge (the service behind refuses it anyway); refusals are not cached."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        ttl: float,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.verifier, self.ttl, self.size, self.clock = verifier, ttl, size, clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self.hits = self.misses = 0

    async def verify(self, token: str) -> Principal:
        entries = self._entries
        entry = entries.get(token)
        if entry is not None:
            if entry[0] > self.clock():
                self.hits += 1
                entries.move_to_end(token)
                return entry[1]
            del entries[token]
        self.misses += 1
        principal = await self.verifier.verify(token)
        if self.ttl > 0:
            until = self.clock() + self.ttl
            if principal.expires_at is not None:
                until = min(until, self.clock() + principal.expires_at.timestamp() - time.time())
            entries[token] = (until, principal)
            if len(entries) > self.size:
                entries.popitem(last=False)
        return principal
