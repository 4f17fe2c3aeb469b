"""Passwords, tokens and the caller: argon2id hashes, signed JWTs, and role checks for routes.

auth-service alone issues access tokens (a :class:`TokenIssuer`); every process checks them with one
:class:`TokenVerifier` (signature, expiry, revocation), and the gateway checking them too is defence in
depth, not a substitute. ``CurrentUser`` is the one dependency routes use to learn who calls;
``require_roles`` the one way to restrict a route.

Two ways to sign, one per deployment (never both, so no algorithm confusion is possible):
- ``JWT_SECRET`` set: HS256 with that shared secret (the original setup; every service holds the secret);
- otherwise EdDSA (Ed25519) with auth's own keys (``crm.platform.keys``); others verify with its public keys.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import jwt
import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status

from crm.platform.responses import ROLE_CHECK

if TYPE_CHECKING:
    from crm.platform.revocations import RevocationList

ISSUER = "crm-auth"
# Clock skew tolerated between auth and the verifying host (PyJWT refuses an ``iat`` in the future).
LEEWAY_SECONDS = 5
API_KEY_SUBJECT = "api_key"  # the ``typ`` claim of a token obtained with an integration's API key
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


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the token says."""

    id: str
    email: str
    role: str
    name: str = ""
    token_id: str = ""
    expires_at: datetime | None = None
    issued_at: datetime | None = None
    session_id: str = ""  # the refresh-token family the token came from (empty: none)
    kind: str = "user"  # or API_KEY_SUBJECT: an integration, ``id`` is its API key's id


class TokenError(Exception):
    """The token is missing, malformed, expired, revoked or not ours: the message (safe to show) says so."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime


# --- the ports ----------------------------------------------------------------------------------------------


class TokenVerifier(Protocol):
    """What every service and the gateway call: the caller of a valid, unrevoked token, else TokenError."""

    async def verify(self, token: str) -> Principal: ...


class VerificationKeys(Protocol):
    """Where a verifier finds the key for a token: ``algorithm`` is the only one accepted."""

    algorithm: str

    async def key(self, kid: str | None) -> Any | None:
        """The key to verify a token whose header names ``kid``; None if unknown (the token is refused)."""
        ...


class RevocationCheck(Protocol):
    def is_revoked(self, principal: Principal) -> bool: ...


class TokenIssuer(Protocol):
    """auth-service's signer. ``issue`` returns the compact JWT; ``issue_token`` also its id and expiry."""

    algorithm: str
    ttl: timedelta

    def issue_token(
        self,
        *,
        user_id: str,
        email: str,
        role: str,
        name: str = "",
        session_id: str = "",
        kind: str = "user",
    ) -> IssuedToken: ...

    def issue(self, *, user_id: str, email: str, role: str, name: str = "") -> str: ...

    def verification_keys(self) -> VerificationKeys: ...

    def jwks(self) -> dict[str, Any]:
        """The public keys to publish (``{"keys": []}`` with a shared secret: nothing is public)."""
        ...


class Background(Protocol):
    """A part that keeps verification current (the public-key poller, the revocation feed)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def status(self) -> dict[str, Any]: ...


# --- issuing ------------------------------------------------------------------------------------------------


class SignerBase:
    """The claims every access token carries; subclasses sign them."""

    algorithm = ""

    def __init__(self, ttl_minutes: int) -> None:
        self.ttl = timedelta(minutes=ttl_minutes)

    def issue_token(
        self,
        *,
        user_id: str,
        email: str,
        role: str,
        name: str = "",
        session_id: str = "",
        kind: str = "user",
    ) -> IssuedToken:
        now = datetime.now(UTC).replace(microsecond=0)
        token_id = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": user_id,
            "email": email,
            "role": role,
            "name": name,
            "iat": now,
            "exp": now + self.ttl,
            "jti": token_id,
        }
        if session_id:
            claims["sid"] = session_id
        if kind != "user":
            claims["typ"] = kind
        return IssuedToken(self._sign(claims), token_id, now + self.ttl)

    def issue(self, *, user_id: str, email: str, role: str, name: str = "") -> str:
        return self.issue_token(user_id=user_id, email=email, role=role, name=name).token

    def _sign(self, claims: dict[str, Any]) -> str:
        raise NotImplementedError


class Tokens(SignerBase):
    """HS256 with the shared ``JWT_SECRET``: issues, and verifies synchronously (no revocation check)."""

    algorithm = "HS256"

    def __init__(self, secret: str, ttl_minutes: int = 15) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        super().__init__(ttl_minutes)
        self._secret = secret

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)

    def verify(self, token: str) -> Principal:
        header = token_header(token)
        if header.get("alg") != self.algorithm:
            raise TokenError("invalid token")
        return principal_of(decode(token, self._secret, self.algorithm))

    def verification_keys(self) -> SharedSecret:
        return SharedSecret(self._secret)

    def jwks(self) -> dict[str, Any]:
        return {"keys": []}


class SharedSecret:
    """The HS256 verification key: the same secret on every service."""

    algorithm = "HS256"

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "SharedSecret('***')"

    async def key(self, kid: str | None) -> str:
        return self._secret


# --- verifying ----------------------------------------------------------------------------------------------


def token_header(token: str) -> dict[str, Any]:
    """The JOSE header, unverified (only to pick the key: ``decode`` then checks everything). Parsed by hand,
    as PyJWT's ``get_unverified_header`` decodes the whole token for it (a third of a verification)."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 1024:
        raise TokenError("invalid token")
    try:
        header = orjson.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        raise TokenError("invalid token") from None
    if not isinstance(header, dict):
        raise TokenError("invalid token")
    return header


def decode(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """The verified claims; TokenError otherwise. Only ``algorithm`` is accepted (never ``none``)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise TokenError("invalid token") from None
    return claims


def principal_of(claims: Mapping[str, Any]) -> Principal:
    return Principal(
        id=str(claims["sub"]),
        email=str(claims.get("email", "")),
        role=str(claims.get("role", "")),
        name=str(claims.get("name", "")),
        token_id=str(claims.get("jti", "")),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        session_id=str(claims.get("sid", "")),
        kind=str(claims.get("typ", "user")),
    )


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


# --- the caller of a route ----------------------------------------------------------------------------------


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("missing bearer token")
    return token.strip()


def verifier_of(request: Request) -> TokenVerifier:
    """The app's verifier: ``app.state.verifier``, else its service runtime's."""
    state = request.app.state
    verifier: TokenVerifier | None = getattr(state, "verifier", None)
    return verifier if verifier is not None else state.runtime.verifier


async def current_principal(request: Request) -> Principal:
    try:
        return await verifier_of(request).verify(bearer_token(request))
    except TokenError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets only ``roles`` through (403 otherwise) and yields the caller."""
    allowed = frozenset(roles)

    async def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"requires one of: {', '.join(roles)}")
        return user

    setattr(check, ROLE_CHECK, allowed)  # so the OpenAPI documents declare its 403
    return check


def persistent_secret(path: Path) -> str:
    """A random signing secret made once and kept in ``path`` (mode 0600), so tokens survive restarts of a
    local CRM. Production sets JWT_SECRET instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
