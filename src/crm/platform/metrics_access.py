"""Who may read ``/metrics`` (the gateway's and every service's): it shows routes, volumes and the Kafka
budget, so it is never public. Allowed:

- ``Authorization: Bearer <METRICS_TOKEN>`` when ``METRICS_TOKEN`` is set: what Prometheus sends
  (``authorization: {credentials: ...}`` in its scrape config), compared in constant time;
- an ADMIN's access token (a person looking, or a tool holding one).

Anything else: 401 (no or bad credentials, ``WWW-Authenticate: Bearer``) or 403 (a valid token of another
role).
"""

from __future__ import annotations

import hmac

from crm.platform.tokens import TokenError, TokenVerifier

ALLOWED, UNAUTHORIZED, FORBIDDEN = 200, 401, 403


class MetricsAccess:
    def __init__(self, metrics_token: str, verifier: TokenVerifier | None) -> None:
        self._token = metrics_token.encode()
        self._verifier = verifier

    async def check(self, authorization: bytes | str | None) -> int:
        """ALLOWED, UNAUTHORIZED or FORBIDDEN for a request's ``Authorization`` header."""
        if isinstance(authorization, str):
            authorization = authorization.encode("latin-1", "replace")
        scheme, _, credentials = (authorization or b"").partition(b" ")
        credentials = credentials.strip()
        if scheme.lower() != b"bearer" or not credentials:
            return UNAUTHORIZED
        if self._token and hmac.compare_digest(credentials, self._token):
            return ALLOWED
        if self._verifier is None:
            return UNAUTHORIZED
        try:
            principal = await self._verifier.verify(credentials.decode("ascii"))
        except (TokenError, UnicodeDecodeError):
            return UNAUTHORIZED
        return ALLOWED if principal.role == "ADMIN" else FORBIDDEN
