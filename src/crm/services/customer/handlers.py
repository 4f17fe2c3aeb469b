"""customer-service reactions to other services' events. ``EVENT_HANDLERS`` answers "who reacts to X"."""

from __future__ import annotations

from crm.contracts import EventType, parse_payload
from crm.contracts.payloads.users import UserCreated, UserDeleted
from crm.platform.consumer import Handler
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.customer import service


async def create_customer_for_new_user(tx: Tx, event: Envelope) -> None:
    await service.create_customer_for_user(tx, parse_payload(event, UserCreated))


async def reassign_customers_of_deleted_user(tx: Tx, event: Envelope) -> None:
    await service.reassign_customers_of(tx, parse_payload(event, UserDeleted))


EVENT_HANDLERS: dict[str, list[Handler]] = {
    EventType.USER_CREATED: [create_customer_for_new_user],
    EventType.USER_DELETED: [reassign_customers_of_deleted_user],
}
