"""auth-service request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field

from crm.contracts.roles import Role
from crm.platform.schemas import ApiModel

# `sort` on GET /api/auth/users (the allow-list of service.USER_SORT).
UserSort = Literal["name", "email", "role", "createdAt", "-name", "-email", "-role", "-createdAt"]


# `sort` on GET /api/auth/audit (the allow-list of audit.AUDIT_SORT).
AuditSort = Literal["at", "action", "-at", "-action"]


# `sort` on GET /api/auth/api-keys (the allow-list of api_keys.API_KEY_SORT).
ApiKeySort = Literal["name", "createdAt", "lastUsedAt", "-name", "-createdAt", "-lastUsedAt"]


class RegisterRequest(ApiModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.USER


class LoginRequest(ApiModel):
    # Not EmailStr: logging in only looks the address up, and the first administrator's may use a
    # special-use domain such as admin@crm.local that the validator refuses for new accounts.
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class UserCreate(ApiModel):
    """An administrator creating an account of any role."""

    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    manager_id: str | None = Field(None, max_length=36)


class UserUpdate(ApiModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    manager_id: str | None = Field(None, max_length=36)


class UserOut(ApiModel):
    id: str
    email: str
    name: str
    role: Role
    manager_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class AuthResponse(ApiModel):
    """A session: ``token`` is the short-lived access token (``expiresIn`` seconds); ``refreshToken`` gets
    the next pair from ``POST /api/auth/refresh`` (once: a used one revokes the session)."""

    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserOut


class RefreshRequest(ApiModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenRequest(ApiModel):
    """An integration's API key (or send it in the ``X-API-Key`` header instead)."""

    api_key: str = Field(min_length=1, max_length=200)


class TokenResponse(ApiModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int


class Jwks(ApiModel):
    """auth's public signing keys (RFC 7517); empty when tokens are HS256 with JWT_SECRET."""

    keys: list[dict[str, Any]]


class ApiKeyCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class ApiKeyOut(ApiModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    key: str  # shown this once; only its hash is kept


class AuditOut(ApiModel):
    id: str
    at: datetime
    action: str
    actor_id: str | None
    actor_email: str | None
    target_id: str | None
    ip: str | None
    detail: dict[str, Any]
