"""How a process signs and checks access tokens, from its settings: the same code in both modes.

- ``JWT_SECRET`` set: HS256 with it, everywhere (the original setup). It wins over everything below.
- Otherwise EdDSA: auth signs with the keys it keeps in its own database; the embedded mode verifies straight
  from that key store, the distributed mode from ``AUTH_SERVICE_URL`` + ``/api/auth/.well-known/jwks.json``.

Either way every process keeps a revocation list fed by tailing ``user.events`` (TOKEN_REVOKED, USER_DELETED,
API_KEY_REVOKED). :func:`token_security` is what the gateway calls as well as every service.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from crm.contracts import EventType, Topic, parse_payload
from crm.contracts.payloads.users import ApiKeyRevoked, TokenRevoked, UserDeleted
from crm.platform.bus import Bus, Tailing
from crm.platform.events import Envelope
from crm.platform.keys import JWKS_PATH, EdDsaTokens, RemoteJwks
from crm.platform.revocations import Revocation, RevocationFeed, RevocationList
from crm.platform.security import (
    Background,
    JwtVerifier,
    SharedSecret,
    TokenIssuer,
    Tokens,
    TokenSecurity,
    VerificationKeys,
)
from crm.platform.settings import ConfigError, Settings
from crm.services.auth.keys import SigningKeyStore

# The revocation list reaches this far past the access-token lifetime (auth's may be set a little longer).
WINDOW_MARGIN = timedelta(minutes=5)


def token_issuer(settings: Settings) -> TokenIssuer:
    """auth's signer: HS256 with ``JWT_SECRET`` when set, else EdDSA with auth's keys (opened at start)."""
    if settings.jwt_secret:
        return Tokens(settings.jwt_secret.value, settings.jwt_ttl_minutes)
    store = SigningKeyStore(timedelta(minutes=settings.jwt_ttl_minutes))
    return EdDsaTokens(store, settings.jwt_ttl_minutes)


def token_security(
    settings: Settings, bus: Bus | None, *, keys: VerificationKeys | None = None
) -> TokenSecurity:
    """How one process checks access tokens: ``await security.verifier.verify(token)`` returns the Principal
    or raises TokenError (its message is safe to show). ``start()`` it before use, ``stop()`` it after.

    ``keys``: auth's own (its signer's ``verification_keys()``); by default ``JWT_SECRET``, else auth's JWKS
    at ``AUTH_SERVICE_URL`` (ConfigError when neither is set). ``bus``: tailed for revocations (Kafka, or the
    embedded local bus); None leaves the list empty here (Kafka disabled: only auth itself refuses).
    """
    log = logging.LoggerAdapter(logging.getLogger("crm.tokens"), {"service": _label(settings)})
    parts: list[Background] = []
    if keys is None:
        if settings.jwt_secret:
            keys = SharedSecret(settings.jwt_secret.value)
        elif "auth" in settings.service_urls:
            jwks = RemoteJwks(settings.service_urls["auth"] + JWKS_PATH, log)
            keys = jwks
            parts.append(jwks)
        else:
            raise ConfigError(
                "AUTH_SERVICE_URL must be set (auth-service publishes there the public keys that verify "
                "tokens), or JWT_SECRET (HS256, the same on every service)"
            )
    revocations = RevocationList(timedelta(minutes=settings.jwt_ttl_minutes) + WINDOW_MARGIN)
    if isinstance(bus, Tailing):
        parts.append(RevocationFeed(bus, [Topic.USER.value], revocation_of, revocations, log))
    else:
        log.warning("⚠️ Kafka disabled: this process learns of no revoked token (each passes until expiry)")
    return TokenSecurity(JwtVerifier(keys, revocations), revocations, parts)


def revocation_of(envelope: Envelope) -> Revocation | None:
    """What an event of ``user.events`` revokes, if anything."""
    if envelope.type == EventType.TOKEN_REVOKED:
        token = parse_payload(envelope, TokenRevoked)
        return Revocation.token(token.token_id, token.expires_at)
    if envelope.type == EventType.USER_DELETED:
        return Revocation.of_subject(parse_payload(envelope, UserDeleted).user_id, envelope.time)
    if envelope.type == EventType.API_KEY_REVOKED:
        key = parse_payload(envelope, ApiKeyRevoked)
        return Revocation.of_subject(key.api_key_id, key.revoked_at)
    return None


def _label(settings: Settings) -> str:
    return "gateway" if settings.service == "gateway" else f"{settings.service.replace('_', '-')}-service"
