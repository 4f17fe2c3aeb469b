"""What every projection shares: the event's time, the order guard, get-or-create and dialect upserts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from crm.platform.events import Envelope

Row = TypeVar("Row", bound=DeclarativeBase)


def as_utc(value: datetime | str | None) -> datetime | None:
    """A payload's datetime (or its ISO text) in UTC; one without a zone is read as UTC."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def event_time(event: Envelope) -> datetime:
    """When the event happened, in UTC."""
    at = as_utc(event.time)
    assert at is not None
    return at


def is_newer(state_at: datetime | None, at: datetime) -> bool:
    """True when an event at ``at`` may set a row's state last set at ``state_at`` (a tie: the later
    arrival wins, as in-order delivery of one entity's events would have it)."""
    return state_at is None or at >= state_at


_NEW_ROWS = "analytics.new_rows"


async def get_or_new(session: AsyncSession, model: type[Row], row_id: str, **defaults: Any) -> Row:
    """The row ``row_id`` of ``model``; a new one (added to the session) when an event is its first news.

    Nothing is flushed on the way: a consumer's batch writes its new and changed rows at its commit, a few
    statements per table, instead of one flush per event. The rows this transaction created are kept
    aside, since ``session.get`` sees only rows already in the database or flushed."""
    created: dict[tuple[type[Any], str], Any] = session.info.setdefault(_NEW_ROWS, {})
    row: Row | None = created.get((model, row_id))
    if row is not None:
        return row
    with session.no_autoflush:
        row = await session.get(model, row_id)
    if row is None:
        row = model(id=row_id, **defaults)
        session.add(row)
        created[(model, row_id)] = row
    return row


def dialect_insert(session: AsyncSession) -> Any:
    """``insert`` with ``on_conflict_*`` for the session's database (PostgreSQL or SQLite)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
