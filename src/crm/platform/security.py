"""The caller of a route: ``CurrentUser`` is the one dependency routes use to learn who calls;
``require_roles`` the one way to restrict a route.

auth-service alone issues access tokens (``crm.platform.tokens``); every process checks them with one
verifier (``crm.platform.verification``: signature, expiry, revocation), and the gateway checking them too is
defence in depth, not a substitute. Passwords are ``crm.platform.passwords``. The names of those modules are
also importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from crm.platform.passwords import hash_password, same_secret, verify_password
from crm.platform.responses import ROLE_CHECK
from crm.platform.tokens import (
    API_KEY_SUBJECT,
    ISSUER,
    LEEWAY_SECONDS,
    Background,
    IssuedToken,
    Principal,
    RevocationCheck,
    SharedSecret,
    SignerBase,
    TokenError,
    TokenIssuer,
    Tokens,
    TokenVerifier,
    VerificationKeys,
    decode,
    principal_of,
    token_header,
)
from crm.platform.verification import JwtVerifier, TokenSecurity

__all__ = [
    "API_KEY_SUBJECT",
    "ISSUER",
    "LEEWAY_SECONDS",
    "Background",
    "CurrentUser",
    "IssuedToken",
    "JwtVerifier",
    "Principal",
    "RevocationCheck",
    "SharedSecret",
    "SignerBase",
    "TokenError",
    "TokenIssuer",
    "TokenSecurity",
    "TokenVerifier",
    "Tokens",
    "VerificationKeys",
    "bearer_token",
    "current_principal",
    "decode",
    "hash_password",
    "principal_of",
    "require_roles",
    "same_secret",
    "token_header",
    "verifier_of",
    "verify_password",
]


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
