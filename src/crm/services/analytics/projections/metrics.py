"""Every event → +1 on its day's counter for its topic and type (the input of `crm kafka budget`)."""

from __future__ import annotations

from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import EventCount
from crm.services.analytics.projections.base import dialect_insert, event_time


async def count_event(tx: Tx, event: Envelope) -> None:
    """Count ``event`` on the UTC day of its time (so a rebuild puts it back on the same day)."""
    table = EventCount.__table__
    insert = dialect_insert(tx.session)
    statement = insert(table).values(
        day=event_time(event).date(), topic=event.topic, event_type=event.type, count=1
    )
    await tx.session.execute(
        statement.on_conflict_do_update(
            index_elements=["day", "topic", "event_type"], set_={"count": table.c.count + 1}
        )
    )
