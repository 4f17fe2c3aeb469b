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
