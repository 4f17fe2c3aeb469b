"""customer-service request and response bodies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field

from crm.platform.schemas import ApiModel

# `sort` on GET /api/customers (the allow-list of service.CUSTOMER_SORT).
CustomerSort = Literal[
    "name",
    "createdAt",
    "updatedAt",
    "industry",
    "size",
    "-name",
    "-createdAt",
    "-updatedAt",
    "-industry",
    "-size",
]


class CompanySize(StrEnum):
    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    LARGE = "LARGE"
    ENTERPRISE = "ENTERPRISE"


class CustomerCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50, pattern=r"^[0-9+()\-. ]{3,50}$")
    industry: str | None = Field(None, max_length=100)
    size: CompanySize | None = None
    owner_id: str | None = Field(None, max_length=36)


class CustomerUpdate(ApiModel):
    """PATCH: only the fields given change (``null`` clears an optional field)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50, pattern=r"^[0-9+()\-. ]{3,50}$")
    industry: str | None = Field(None, max_length=100)
    size: CompanySize | None = None
    owner_id: str | None = Field(None, min_length=1, max_length=36)


class CustomerOut(ApiModel):
    id: str
    name: str
    email: str | None
    phone: str | None
    industry: str | None
    size: CompanySize | None
    owner_id: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
