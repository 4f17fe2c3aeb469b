"""Payloads on ``customer.events`` (produced by customer-service)."""

from __future__ import annotations

from typing import Any

from crm.contracts.base import Payload


class CustomerCreated(Payload):
    customer_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    industry: str | None = None
    size: str | None = None
    owner_id: str | None = None
    created_by: str | None = None
    source_user_id: str | None = None  # set when created for a newly registered user


class CustomerUpdated(Payload):
    customer_id: str
    owner_id: str | None = None
    changes: dict[str, Any]


class CustomerDeleted(Payload):
    customer_id: str
    owner_id: str | None = None
    deleted_by: str


class CustomerRestored(Payload):
    customer_id: str
    owner_id: str | None = None
    restored_by: str
