"""The deletion sagas survive crashes: a consumer that dies before its transaction commits, and one that
restarts after committing its effect but before committing its offset, reach the same end state with no
step done twice (no second reassignment event, no second cancellation)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from crm.modes.embedded import Embedded
from crm.platform.bus.local_log import offsets
from crm.platform.events import Envelope
from tests.support.embedded import bearer, login, register, running_embedded
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


async def events(crm: Embedded, topic: str, event_type: str) -> Counter[str]:
    """How many ``event_type`` events each subject has on ``topic``."""
    found = [Envelope.from_record(r.topic, r.value, r.headers) for r in await crm.bus.records(topic)]
    return Counter(e.subject for e in found if e.type == event_type)


async def a_rep_with_customers_and_tasks(crm: Embedded, client: Any) -> tuple[dict, str, list[str]]:
    """(manager, rep id, the rep's customer ids), each customer with its first-contact task."""
    admin = bearer((await login(client))["token"])
    manager = (
        await client.post(
            "/api/auth/users",
            headers=admin,
            json={
                "email": "boss@example.com",
                "password": "Boss-Pass-123",
                "name": "Boss",
                "role": "MANAGER",
            },
        )
    ).json()
    rep = await register(client, "rep@example.com", name="Rep", role="SALES")
    await client.patch(
        f"/api/auth/users/{rep['user']['id']}", headers=admin, json={"managerId": manager["id"]}
    )
    ids = []
    for name in ("Alpha KK", "Beta Ltd", "Gamma GmbH"):
        ids.append(
            (await client.post("/api/customers", headers=bearer(rep["token"]), json={"name": name})).json()[
                "id"
            ]
        )

    async def tasks_ready() -> bool:
        return (
            sum((await events(crm, "sales-activity.events", "TASK_CREATED")).values()) >= 4
        )  # 3 + own record

    await eventually(tasks_ready, what="first-contact tasks")
    return manager, rep["user"]["id"], ids


async def saga_done(crm: Embedded, ids: list[str]) -> bool:
    updated = await events(crm, "customer.events", "CUSTOMER_UPDATED")
    cancelled = await events(crm, "sales-activity.events", "TASK_UPDATED")
    return all(updated[i] >= 1 for i in ids) and sum(cancelled.values()) >= 4


async def test_a_crash_before_commit_is_retried_and_applied_once(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    manager, rep_id, ids = await a_rep_with_customers_and_tasks(live, client)
    consumer = live.runtimes["customer"].consumer
    assert consumer is not None
    (reassign,) = consumer.handlers["USER_DELETED"]
    crashes = 0

    async def crashing_once(tx: Any, event: Envelope) -> None:
        nonlocal crashes
        await reassign(tx, event)  # the effect is written…
        if crashes == 0:
            crashes += 1
            raise RuntimeError("process died before commit")  # …and rolled back

    consumer.handlers = {**consumer.handlers, "USER_DELETED": [crashing_once]}
    admin = bearer((await login(client))["token"])
    assert (await client.delete(f"/api/auth/users/{rep_id}", headers=admin)).status_code == 204

    await eventually(lambda: saga_done(live, ids), what="the saga's steps")
    assert crashes == 1
    updated = await events(live, "customer.events", "CUSTOMER_UPDATED")
    assert {i: updated[i] for i in ids} == dict.fromkeys(ids, 1), "each customer reassigned exactly once"
    for customer_id in ids:
        body = (await client.get(f"/api/customers/{customer_id}", headers=admin)).json()
        assert body["ownerId"] == manager["id"]


async def test_a_restart_before_the_offset_commit_redelivers_harmlessly(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    manager, rep_id, ids = await a_rep_with_customers_and_tasks(live, client)
    admin = bearer((await login(client))["token"])
    assert (await client.delete(f"/api/auth/users/{rep_id}", headers=admin)).status_code == 204
    await eventually(lambda: saga_done(live, ids), what="the saga's steps")
    before_updates = await events(live, "customer.events", "CUSTOMER_UPDATED")
    before_cancels = await events(live, "sales-activity.events", "TASK_UPDATED")

    # Both consumers "crash" after committing their effects but before committing their offsets:
    # stop them, rewind their committed offsets on user.events, start them again.
    for name, group in (("customer", "customer-service"), ("sales_activity", "sales-activity-service")):
        runtime = live.runtimes[name]
        await runtime.stop()
        async with live.bus.db.transaction() as session:
            await session.execute(
                update(offsets)
                .where(offsets.c.group_id == group, offsets.c.topic == "user.events")
                .values(next_offset=0)
            )
        duplicates_before = runtime.consumer.duplicates if runtime.consumer else 0
        await runtime.start()
        consumer = runtime.consumer
        assert consumer is not None

        handled = [
            r
            for r in await live.bus.records("user.events")
            if Envelope.from_record(r.topic, r.value, r.headers).type in consumer.handlers
        ]
        assert any(Envelope.from_record(r.topic, r.value, r.headers).type == "USER_DELETED" for r in handled)

        async def redelivered(
            consumer: Any = consumer, seen: int = duplicates_before, n: int = len(handled)
        ) -> bool:
            return consumer.duplicates >= seen + n  # every handled record, USER_DELETED included, came back

        await eventually(redelivered, what=f"{group} re-reading user.events")

    assert await events(live, "customer.events", "CUSTOMER_UPDATED") == before_updates, (
        "no second reassignment"
    )
    assert await events(live, "sales-activity.events", "TASK_UPDATED") == before_cancels, (
        "no second cancellation"
    )
    for customer_id in ids:
        body = (await client.get(f"/api/customers/{customer_id}", headers=admin)).json()
        assert body["ownerId"] == manager["id"]
