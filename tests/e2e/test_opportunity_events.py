"""opportunity-service as a consumer: the customers projection (CUSTOMER_DELETED / RESTORED) decides which
customers take deals, and sales-activity events count activity on deals exactly once per event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm.contracts import EventType
from crm.contracts.payloads.customers import CustomerDeleted, CustomerRestored
from crm.contracts.payloads.sales_activity import MeetingCreated, TaskCompleted, TaskCreated
from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.opportunity import deliver_twice, known_customer, new_deal, quiesce, record


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running
        await quiesce(running[0])


async def test_the_customer_must_be_known_and_live(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, token = token_for(crm, "USER")
    unknown = await client.post(
        "/api/opportunities", headers=bearer(token), json={"customerId": "nope", "name": "D", "amount": "1"}
    )
    assert unknown.status_code == 422 and set(unknown.json()["fields"]) == {"customerId"}

    customer_id = await known_customer(crm, client, token)
    deleted = CustomerDeleted(customer_id=customer_id, owner_id=user_id, deleted_by=user_id)
    await deliver_twice(crm, record(EventType.CUSTOMER_DELETED, deleted, customer_id, "customer-service"))
    refused = await client.post(
        "/api/opportunities",
        headers=bearer(token),
        json={"customerId": customer_id, "name": "D", "amount": "1"},
    )
    assert refused.status_code == 422 and "customerId" in refused.json()["fields"]

    restored = CustomerRestored(customer_id=customer_id, owner_id=user_id, restored_by=user_id)
    await deliver_twice(crm, record(EventType.CUSTOMER_RESTORED, restored, customer_id, "customer-service"))
    await new_deal(client, token, customer_id)


async def test_sales_activity_on_a_deal_counts_once_per_event(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, token = token_for(crm, "SALES")
    customer_id = await known_customer(crm, client, token)
    deal = await new_deal(client, token, customer_id)
    other = await new_deal(client, token, customer_id, name="Untouched")
    t1, t2 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    task = TaskCreated(
        task_id="t-1",
        title="Call",
        customer_id=customer_id,
        opportunity_id=deal["id"],
        status="TODO",
        priority="HIGH",
    )
    done = TaskCompleted(task_id="t-1", opportunity_id=deal["id"], completed_by=user_id)
    meeting = MeetingCreated(
        meeting_id="m-1",
        customer_id=customer_id,
        opportunity_id=deal["id"],
        owner_id=user_id,
        title="Demo",
        starts_at=t1,
    )
    unrelated = TaskCreated(task_id="t-2", title="Admin", status="TODO", priority="LOW")
    unknown_deal = TaskCreated(task_id="t-3", title="?", opportunity_id="gone", status="TODO", priority="LOW")
    source = "sales-activity-service"
    await deliver_twice(crm, record(EventType.TASK_CREATED, task, "t-1", source, time=t1))
    got = (await client.get(f"/api/opportunities/{deal['id']}", headers=bearer(token))).json()
    assert got["activityCount"] == 1 and got["lastActivityAt"] == "2030-01-02T03:04:05Z"
    assert got["updatedAt"] == deal["updatedAt"], "activity is not an edit"

    await deliver_twice(
        crm,
        record(EventType.TASK_COMPLETED, done, "t-1", source, time=t2),  # older: lastActivityAt stays
        record(EventType.MEETING_CREATED, meeting, "m-1", source, time=t2),
        record(EventType.TASK_CREATED, unrelated, "t-2", source),
        record(EventType.TASK_CREATED, unknown_deal, "t-3", source),
    )
    got = (await client.get(f"/api/opportunities/{deal['id']}", headers=bearer(token))).json()
    assert got["activityCount"] == 3 and got["lastActivityAt"] == "2030-01-02T03:04:05Z"
    untouched = (await client.get(f"/api/opportunities/{other['id']}", headers=bearer(token))).json()
    assert (untouched["activityCount"], untouched["lastActivityAt"]) == (0, None)
    assert await crm.bus.records("sales-activity.events.dlq") == []
