"""auth-service request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import EmailStr, Field

from crm.contracts.roles import Role
from crm.platform.schemas import ApiModel


class RegisterRequest(ApiModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.USER


class LoginRequest(ApiModel):
    email: EmailStr
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
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    user: UserOut


class AuditOut(ApiModel):
    id: str
    at: datetime
    action: str
    actor_id: str | None
    actor_email: str | None
    target_id: str | None
    ip: str | None
    detail: dict[str, Any]
