"""Access tokens: the caller they name (:class:`Principal`), the ports of signing and verifying, and the
signers: HS256 with the shared ``JWT_SECRET`` here, EdDSA with auth's own keys in ``crm.platform.keys``.

Two ways to sign, one per deployment (never both, so no algorithm confusion is possible):
- ``JWT_SECRET`` set: HS256 with that shared secret (the original setup; every service holds the secret);
- otherwise EdDSA (Ed25519) with auth's own keys (``crm.platform.keys``); others verify with its public keys.
Verifying is ``crm.platform.verification``; the FastAPI dependencies are ``crm.platform.security``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
import orjson

ISSUER = "crm-auth"
# Clock skew tolerated between auth and the verifying host (PyJWT refuses an ``iat`` in the future).
LEEWAY_SECONDS = 5
API_KEY_SUBJECT = "api_key"  # the ``typ`` claim of a token obtained with an integration's API key


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


# --- the token format -----------------------------------------------------------------------------------


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
