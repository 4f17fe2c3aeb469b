"""Helpers for migrations: the platform's own tables (outbox, inbox) in every service's database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData

from crm.platform.inbox import inbox_table
from crm.platform.outbox import outbox_table


def create_platform_tables(op: Any) -> None:
    """Create ``outbox`` and ``inbox`` (call from a service's first migration)."""
    metadata = MetaData()
    outbox_table(metadata)
    inbox_table(metadata)
    metadata.create_all(op.get_bind())


def drop_platform_tables(op: Any) -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
