"""Helpers of the opportunity tests: customers the service knows, deals, and events on the bus."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from crm.contracts import EventType, make_event
from crm.contracts.base import Payload
from crm.modes.embedded import Embedded
from crm.platform.bus import OutgoingRecord
from crm.platform.events import Envelope
from crm.services.opportunity.models import KnownCustomer
from tests.support.embedded import bearer
from tests.support.waiting import eventually


async def quiesce(crm: Embedded) -> None:
    """Wait until every service's outbox is empty, so a test ends on a quiet CRM whose events were all
    published (the platform's stop is cancellation-safe since ``crm.platform.aio``; this keeps tests from
    ending while their own events are still in flight)."""

    async def empty() -> bool:
        for runtime in crm.runtimes.values():
            if (await runtime.outbox.backlog(runtime.db))[0]:
                return False
        return True

    await eventually(empty, what="every outbox published")


async def known_customer(crm: Embedded, client: httpx.AsyncClient, token: str, name: str = "Deal Co") -> str:
    """A customer created through /api/customers, once opportunity-service has heard of it."""
    response = await client.post("/api/customers", headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.text
    customer_id = str(response.json()["id"])

    async def projected() -> bool:
        async with crm.runtimes["opportunity"].db.sessions() as session:
            return await session.get(KnownCustomer, customer_id) is not None

    await eventually(projected, what="CUSTOMER_CREATED in opportunity-service's projection")
    return customer_id


async def new_deal(client: httpx.AsyncClient, token: str, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"customerId": customer_id, "name": "Big deal", "amount": "1500000.00", **fields}
    response = await client.post("/api/opportunities", headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def events(crm: Embedded, topic: str, event_type: str, subject: str | None = None) -> list[Envelope]:
    """The events of ``event_type`` published on ``topic`` so far (about ``subject`` if given)."""
    found = [Envelope.from_record(r.topic, r.value, r.headers) for r in await crm.bus.records(topic)]
    return [e for e in found if e.type == event_type and subject in (None, e.subject)]


async def published(
    crm: Embedded, topic: str, event_type: str, subject: str | None = None, count: int = 1
) -> list[Envelope]:
    """Wait until ``count`` such events are on the bus and opportunity-service's outbox is empty; return
    them (fails if there are more)."""
    runtime = crm.runtimes["opportunity"]

    async def enough() -> list[Envelope]:
        if (await runtime.outbox.backlog(runtime.db))[0]:
            return []
        found = await events(crm, topic, event_type, subject)
        return found if len(found) >= count else []

    found = await eventually(enough, what=f"{count} {event_type} on {topic}")
    assert len(found) == count, found
    return found


def record(
    event_type: EventType, payload: Payload, subject: str, source: str, **envelope: Any
) -> OutgoingRecord:
    """An event as another service's outbox relay would publish it."""
    event = dataclasses.replace(make_event(event_type, payload, subject=subject, source=source), **envelope)
    return OutgoingRecord(event.topic, event.subject.encode(), event.to_json(), event.headers())


async def deliver_twice(crm: Embedded, *records: OutgoingRecord) -> None:
    """Publish ``records`` twice (a redelivery: same event ids); return once opportunity-service has
    applied them and skipped every duplicate."""
    consumer = crm.runtimes["opportunity"].consumer
    assert consumer is not None
    before = consumer.duplicates
    await crm.bus.publish(list(records))
    await crm.bus.publish(list(records))

    async def skipped() -> bool:
        return consumer.duplicates >= before + len(records)

    await eventually(skipped, what="the redeliveries skipped")
