"""Verifying access tokens: :class:`JwtVerifier` (the one verifier of every process) and
:class:`TokenSecurity` (the verifier with the background parts that keep it current)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crm.platform.tokens import (
    LEEWAY_SECONDS,
    Background,
    Principal,
    RevocationCheck,
    TokenError,
    TokenIssuer,
    VerificationKeys,
    decode,
    principal_of,
    token_header,
)

if TYPE_CHECKING:
    from crm.platform.revocations import RevocationList


class JwtVerifier:
    """The one :class:`TokenVerifier`: the header's ``alg`` must be the deployment's, its ``kid`` a known key,
    the signature, issuer and expiry valid, and the token not revoked.

    A client sends the same token with every request, and checking an Ed25519 signature costs ~120 µs here:
    a token whose signature was checked is remembered (up to ``cache_size``, never past its expiry), while
    the expiry and the revocation list are checked on every call, so a revoked token is refused at once."""

    def __init__(
        self, keys: VerificationKeys, revocations: RevocationCheck | None = None, *, cache_size: int = 10_000
    ) -> None:
        self.keys, self.revocations, self.cache_size = keys, revocations, cache_size
        self._checked: dict[str, tuple[float, Principal]] = {}  # token -> (expiry + leeway, caller)

    async def verify(self, token: str) -> Principal:
        checked = self._checked.get(token)
        if checked is None:
            principal = await self._verify_signed(token)
            if self.cache_size > 0 and principal.expires_at is not None:
                if len(self._checked) >= self.cache_size:
                    del self._checked[next(iter(self._checked))]  # the oldest
                self._checked[token] = (principal.expires_at.timestamp() + LEEWAY_SECONDS, principal)
        else:
            expires, principal = checked
            if time.time() >= expires:
                del self._checked[token]
                raise TokenError("token expired")
        if self.revocations is not None and self.revocations.is_revoked(principal):
            raise TokenError("Token revoked")
        return principal

    async def _verify_signed(self, token: str) -> Principal:
        header = token_header(token)
        if header.get("alg") != self.keys.algorithm:
            raise TokenError("invalid token")  # `none`, or HS256 presented to an EdDSA deployment, or …
        kid = header.get("kid")
        key = await self.keys.key(kid if isinstance(kid, str) else None)
        if key is None:
            raise TokenError("unknown signing key")
        return principal_of(decode(token, key, self.keys.algorithm))


class TokenSecurity:
    """What one process needs to check access tokens: the verifier and the background parts that keep it
    current (auth's public keys, the revocation feed). One per process: in the embedded mode every service
    shares it, so it starts with the first runtime and stops with the last (``start``/``stop`` counted)."""

    def __init__(
        self,
        verifier: JwtVerifier,
        revocations: RevocationList | None = None,
        parts: Sequence[Background] = (),
    ) -> None:
        self.verifier, self.revocations, self.parts = verifier, revocations, list(parts)
        self._users = 0

    @classmethod
    def static(cls, issuer: TokenIssuer) -> TokenSecurity:
        """Verification with ``issuer``'s own keys and no revocation feed (single-service tests)."""
        return cls(JwtVerifier(issuer.verification_keys()))

    async def start(self) -> None:
        self._users += 1
        if self._users == 1:
            for part in self.parts:
                await part.start()

    async def stop(self) -> None:
        self._users -= 1
        if self._users == 0:
            for part in reversed(self.parts):
                with contextlib.suppress(Exception):
                    await part.stop()

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"algorithm": self.verifier.keys.algorithm}
        for part in self.parts:
            body.update(part.status())
        return body
