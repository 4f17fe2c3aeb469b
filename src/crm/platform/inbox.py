"""The inbox: which events a consumer has already applied (Eventuate Tram's ``received_messages``).

A handler's effect and its ``(consumer, event_id)`` row commit in one transaction, so a redelivered event
finds its row and is skipped: redelivery is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.db import dialect_insert
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
    insert = dialect_insert(session)
    statement = (
        insert(table)
        .values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_many(
    session: AsyncSession, table: Table, consumer: str, events: Sequence[tuple[str, str]]
) -> set[str]:
    """Record, in one statement, that ``consumer`` applies each ``(event_id, event_type)`` in this
    transaction; returns the ids it had not applied before (an id given twice counts once).

    Rows go in in id order, so two instances claiming overlapping batches (during a rebalance) lock the keys
    in the same order and one waits for the other instead of deadlocking."""
    if not events:
        return set()
    insert = dialect_insert(session)
    types = dict(reversed(events))  # the first type given for an id
    rows = [{"consumer": consumer, "event_id": i, "event_type": types[i]} for i in sorted(types)]
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(table.c.event_id)
    )
    # Many parameter sets: SQLAlchemy renders one multi-row INSERT from a statement compiled once ("insert
    # many values"); `.values(rows)` would compile a new statement for every batch.
    return set((await session.execute(statement, rows)).scalars())
