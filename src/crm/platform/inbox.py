"""The inbox: which events a consumer has already applied (Eventuate Tram's ``received_messages``).

A handler's effect and its ``(consumer, event_id)`` row commit in one transaction, so a redelivered event
finds its row and is skipped: redelivery is a no-op.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.types import UtcDateTime, utcnow


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("received_at", UtcDateTime, nullable=False, default=utcnow),
    )


async def claim(session: AsyncSession, table: Table, consumer: str, event_id: str, event_type: str) -> bool:
    """Record that ``consumer`` applies ``event_id`` in this transaction. False if it already did.

    A concurrent claim of the same event by another instance blocks on the key until the first commits,
    then finds the row: exactly one of them applies the effect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
