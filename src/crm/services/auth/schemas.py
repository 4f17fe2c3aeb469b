"""auth-service request and response bodies."""

from __future__ import annotations

from datetime import datetime

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


class UserOut(ApiModel):
    id: str
    email: str
    name: str
    role: Role
    created_at: datetime


class AuthResponse(ApiModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    user: UserOut
