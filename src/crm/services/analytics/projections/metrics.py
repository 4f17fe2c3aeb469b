"""Every event → +1 on its day's counter for its topic and type (the input of `crm kafka budget`)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from crm.platform.db import dialect_insert
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import EventCount
from crm.services.analytics.projections.base import event_time

Counts = Counter[tuple[date, str, str]]


async def count_event(tx: Tx, event: Envelope) -> None:
    """Count ``event`` on the UTC day of its time (so a rebuild puts it back on the same day). The counts of
    a transaction (a consumer's whole batch) are summed and written once, just before it commits."""
    counts = tx.accumulate("analytics.event_counts", Counts, _write_counts)
    counts[(event_time(event).date(), event.topic, event.type)] += 1


async def _write_counts(tx: Tx, counts: Counts) -> None:
    table = EventCount.__table__
    statement = dialect_insert(tx.session)(table)
    upsert = statement.on_conflict_do_update(
        index_elements=["day", "topic", "event_type"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    rows = [  # one lock order for every writer
        {"day": day, "topic": topic, "event_type": event_type, "count": n}
        for (day, topic, event_type), n in sorted(counts.items())
    ]
    await tx.session.execute(upsert, rows)
