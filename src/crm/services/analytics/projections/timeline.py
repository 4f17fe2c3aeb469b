"""Every event about a customer → a line of its timeline (``customer_activity``): the customer's own events
and those of its tasks, meetings, deals and approvals, each of which names the customer it belongs to."""

from __future__ import annotations

from typing import Any

from crm.contracts import CATALOG, EventType, parse_payload
from crm.platform.db import dialect_insert
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import CustomerActivity
from crm.services.analytics.projections.base import event_time

# What a line shows of its event (camelCase, as on the wire); the rest stays in its service.
DETAIL = (
    "name",
    "title",
    "status",
    "previousStatus",
    "fromStage",
    "toStage",
    "amount",
    "currency",
    "kind",
    "priority",
    "changed",
    "startsAt",
    "ownerId",
    "assigneeId",
    "opportunityId",
)
# Who did it, by the first of these the event carries (camelCase, as on the wire).
ACTORS = ("createdBy", "deletedBy", "restoredBy", "completedBy", "decidedBy", "requesterId")


async def record_customer_activity(tx: Tx, event: Envelope) -> None:
    """Add ``event`` to its customer's timeline (nothing for one that names no customer). Once per event:
    the consumer's inbox skips a redelivery, and the event id is the line's key."""
    payload = parse_payload(event, CATALOG[EventType(event.type)].payload)
    customer_id = getattr(payload, "customer_id", None)
    if not customer_id:
        return
    fields = payload.dump()
    if isinstance(changes := fields.get("changes"), dict):  # CUSTOMER_UPDATED: which fields, not values
        fields["changed"] = sorted(changes)
    detail: dict[str, Any] = {name: fields[name] for name in DETAIL if fields.get(name) is not None}
    actor = next((fields[name] for name in ACTORS if fields.get(name)), None)
    lines = tx.accumulate("analytics.timeline", list, _insert_lines)
    lines.append(
        {
            "event_id": event.id,
            "customer_id": customer_id,
            "at": event_time(event),
            "event_type": event.type,
            "subject_id": event.subject,
            "actor_id": actor,
            "detail": detail,
        }
    )


async def _insert_lines(tx: Tx, lines: list[dict[str, Any]]) -> None:
    """A transaction's lines (a consumer's batch) in one statement, just before it commits."""
    insert = dialect_insert(tx.session)(CustomerActivity.__table__)
    await tx.session.execute(insert.on_conflict_do_nothing(index_elements=["event_id"]), lines)
