"""What every projection shares: the event's time and the order guard (a row to change: ``rows.get_or_new``;
an upsert: ``crm.platform.db.dialect_insert``)."""

from __future__ import annotations

from datetime import UTC, datetime

from crm.platform.events import Envelope


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
