"""The token check at the edge: which routes are public, and the bearer token of a request.

The gateway refuses a missing or bad token before any service sees the request, with the platform's verifier
(signature, expiry, revocation); every service still verifies the token itself (defence in depth).
"""

from __future__ import annotations

from crm.platform.security import TokenError, TokenVerifier

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


Verifier = TokenVerifier  # the platform's JwtVerifier in every mode (it remembers checked signatures)


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
