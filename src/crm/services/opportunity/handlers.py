"""opportunity-service reactions to other services' events. ``EVENT_HANDLERS`` answers "who reacts to X".

Each runs in the consumer's transaction together with the event's inbox row, so its effect (an activity
counted, approvals cancelled, the customers projection moved) happens exactly once per event.
"""

from __future__ import annotations

from crm.contracts import EventType, parse_payload
from crm.contracts.payloads.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
)
from crm.contracts.payloads.sales_activity import MeetingCreated, TaskCompleted, TaskCreated
from crm.contracts.payloads.users import UserDeleted
from crm.platform.consumer import Handler
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.opportunity import approvals_service, service
from crm.services.opportunity.models import Approval

ACTIVITY_PAYLOADS: dict[str, type[TaskCreated | TaskCompleted | MeetingCreated]] = {
    EventType.TASK_CREATED: TaskCreated,
    EventType.TASK_COMPLETED: TaskCompleted,
    EventType.MEETING_CREATED: MeetingCreated,
}


async def track_activity(tx: Tx, event: Envelope) -> None:
    """A task or meeting about a deal: the deal's activity count +1, its last activity = the event time."""
    activity = parse_payload(event, ACTIVITY_PAYLOADS[event.type])
    if activity.opportunity_id:
        await service.record_activity(tx, activity.opportunity_id, event.time)


async def customer_created(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerCreated)
    await service.remember_customer(tx, customer.customer_id, owner_id=customer.owner_id)


async def customer_updated(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerUpdated)
    await service.remember_customer(tx, customer.customer_id, owner_id=customer.owner_id)


async def customer_deleted(tx: Tx, event: Envelope) -> None:
    """Saga step: no new deals on the customer, and its deals' PENDING approvals are CANCELLED."""
    customer = parse_payload(event, CustomerDeleted)
    await service.remember_customer(tx, customer.customer_id, deleted=True)
    await approvals_service.cancel_pending(
        tx,
        Approval.customer_id == customer.customer_id,
        caused_by=customer.deleted_by,
        reason="The customer was deleted",
    )


async def customer_restored(tx: Tx, event: Envelope) -> None:
    """The customer takes deals again; cancelled approvals stay cancelled."""
    customer = parse_payload(event, CustomerRestored)
    await service.remember_customer(tx, customer.customer_id, owner_id=customer.owner_id, deleted=False)


async def user_deleted(tx: Tx, event: Envelope) -> None:
    """Saga step: the deleted user's PENDING requests are CANCELLED."""
    user = parse_payload(event, UserDeleted)
    await approvals_service.cancel_pending(
        tx,
        Approval.requester_id == user.user_id,
        caused_by=user.deleted_by,
        reason="The requester was deleted",
    )


EVENT_HANDLERS: dict[str, list[Handler]] = {
    EventType.TASK_CREATED: [track_activity],
    EventType.TASK_COMPLETED: [track_activity],
    EventType.MEETING_CREATED: [track_activity],
    EventType.CUSTOMER_CREATED: [customer_created],
    EventType.CUSTOMER_UPDATED: [customer_updated],
    EventType.CUSTOMER_DELETED: [customer_deleted],
    EventType.CUSTOMER_RESTORED: [customer_restored],
    EventType.USER_DELETED: [user_deleted],
}
