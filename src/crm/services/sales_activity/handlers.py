"""sales-activity-service reactions to other services' events. ``EVENT_HANDLERS`` answers "who reacts to X".

Each runs in the consumer's transaction with the inbox claim (a redelivered event is skipped); the tasks
they raise also carry a unique origin key, so a task exists once even if an event is re-published.
"""

from __future__ import annotations

from crm.contracts import EventType, parse_payload
from crm.contracts.payloads.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
)
from crm.contracts.payloads.opportunities import ApprovalStatusChanged
from crm.contracts.payloads.users import UserDeleted
from crm.platform.consumer import Handler
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.sales_activity import service


async def first_contact_task(tx: Tx, event: Envelope) -> None:
    await service.on_customer_created(tx, parse_payload(event, CustomerCreated))


async def track_customer_update(tx: Tx, event: Envelope) -> None:
    await service.on_customer_updated(tx, parse_payload(event, CustomerUpdated))


async def cancel_customer_work(tx: Tx, event: Envelope) -> None:
    await service.on_customer_deleted(tx, parse_payload(event, CustomerDeleted))


async def track_customer_restore(tx: Tx, event: Envelope) -> None:
    await service.on_customer_restored(tx, parse_payload(event, CustomerRestored))


async def follow_up_task(tx: Tx, event: Envelope) -> None:
    await service.on_approval_decided(tx, parse_payload(event, ApprovalStatusChanged))


async def cancel_user_work(tx: Tx, event: Envelope) -> None:
    await service.on_user_deleted(tx, parse_payload(event, UserDeleted))


EVENT_HANDLERS: dict[str, list[Handler]] = {
    EventType.CUSTOMER_CREATED: [first_contact_task],
    EventType.CUSTOMER_UPDATED: [track_customer_update],
    EventType.CUSTOMER_DELETED: [cancel_customer_work],
    EventType.CUSTOMER_RESTORED: [track_customer_restore],
    EventType.APPROVAL_STATUS_CHANGED: [follow_up_task],
    EventType.USER_DELETED: [cancel_user_work],
}
