"""Passwords, tokens and the caller: argon2id hashes, signed JWTs, and role checks for routes.

Every service verifies the token itself (the gateway checking it too is defence in depth, not a
substitute). ``CurrentUser`` is the one dependency routes use to learn who calls; ``require_roles`` the one
way to restrict a route.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status

ISSUER = "crm-auth"
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


class TokenError(Exception):
    """The token is missing, malformed, expired or not ours; the message says which (safe to show)."""


class Tokens:
    """Issues and verifies access tokens (HS256 with the shared ``JWT_SECRET``)."""

    algorithm = "HS256"

    def __init__(self, secret: str, ttl_minutes: int = 60) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._secret = secret
        self.ttl = timedelta(minutes=ttl_minutes)

    def issue(self, *, user_id: str, email: str, role: str, name: str = "") -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "email": email,
            "role": role,
            "name": name,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.InvalidTokenError:
            raise TokenError("invalid token") from None
        return Principal(
            id=str(claims["sub"]),
            email=str(claims.get("email", "")),
            role=str(claims.get("role", "")),
            name=str(claims.get("name", "")),
            token_id=str(claims.get("jti", "")),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("missing bearer token")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    tokens: Tokens = request.app.state.tokens
    try:
        return tokens.verify(bearer_token(request))
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
