"""Payloads on ``user.events`` (produced by auth-service)."""

from __future__ import annotations

from datetime import datetime

from crm.contracts.base import Payload


class UserCreated(Payload):
    user_id: str
    email: str
    name: str
    role: str
    created_at: datetime


class UserUpdated(Payload):
    user_id: str
    email: str
    name: str
    role: str
    changed: list[str]


class UserDeleted(Payload):
    user_id: str
    email: str
    deleted_by: str
    reassign_to: str | None = None  # who inherits the user's customers (their manager or an ADMIN)


class TokenRevoked(Payload):
    """An access token refused from now until it expires (logout, a reused refresh token)."""

    token_id: str  # the token's ``jti``
    user_id: str
    expires_at: datetime


class ApiKeyRevoked(Payload):
    """An integration's API key revoked: it no longer obtains tokens, and those it obtained are refused."""

    api_key_id: str  # the ``sub`` of the tokens it obtained
    name: str
    revoked_by: str
    revoked_at: datetime
