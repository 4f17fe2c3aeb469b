"""A customer's timeline (`GET /api/reports/customers/{id}/timeline`): what happened to it across the services
— created, updated, reassigned, its task completed, its meeting, deal and approval, deleted and restored —
newest first, paginated, for its owner and the roles that see all; 404 for anyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.opportunity import known_customer, new_deal, quiesce
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running
        await quiesce(running[0])


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_a_customers_story_newest_first_for_who_may_see_it(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    owner_id, owner = token_for(crm, "SALES")
    _, other = token_for(crm, "SALES")
    manager_id, manager = token_for(crm, "MANAGER")
    customer_id = await known_customer(crm, client, owner, name="Story Co")
    url = f"/api/customers/{customer_id}"
    await ok(await client.patch(url, headers=bearer(owner), json={"industry": "Retail"}))
    task = await ok(
        await client.post(
            "/api/tasks", headers=bearer(owner), json={"title": "Call", "customerId": customer_id}
        ),
        201,
    )
    await ok(await client.post(f"/api/tasks/{task['id']}/complete", headers=bearer(owner)))
    starts = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    meeting = {"customerId": customer_id, "title": "Kick-off", "startsAt": starts}
    await ok(await client.post("/api/meetings", headers=bearer(owner), json=meeting), 201)
    deal = await new_deal(client, owner, customer_id)
    await ok(
        await client.patch(
            f"/api/opportunities/{deal['id']}", headers=bearer(owner), json={"stage": "PROPOSAL"}
        )
    )
    approval = await ok(
        await client.post(
            "/api/approvals", headers=bearer(owner), json={"opportunityId": deal["id"], "title": "20%"}
        ),
        201,
    )
    await ok(await client.post(f"/api/approvals/{approval['id']}/approve", headers=bearer(manager), json={}))
    await ok(await client.delete(url, headers=bearer(owner)), 204)
    await ok(await client.post(f"{url}/restore", headers=bearer(owner)))
    timeline = f"/api/reports/customers/{customer_id}/timeline"

    story = (
        "CUSTOMER_CREATED",
        "CUSTOMER_UPDATED",
        "TASK_CREATED",
        "TASK_COMPLETED",
        "MEETING_CREATED",
        "OPPORTUNITY_CREATED",
        "OPPORTUNITY_STAGE_CHANGED",
        "APPROVAL_REQUESTED",
        "APPROVAL_STATUS_CHANGED",
        "CUSTOMER_DELETED",
        "CUSTOMER_RESTORED",
    )
    previous: list[str] = []

    async def told() -> list[dict[str, Any]] | None:
        """The whole story, once it has settled: the sagas' own events (the follow-up task, the work cancelled
        with the customer) come after the ones the test caused, so two reads in a row must agree."""
        nonlocal previous
        body = await ok(await client.get(timeline, headers=bearer(owner), params={"limit": 500}))
        ids = [entry["id"] for entry in body["items"]]
        types = {entry["type"] for entry in body["items"]}
        settled = ids == previous and all(happened in types for happened in story)
        previous = ids
        return body["items"] if settled else None

    items = await eventually(
        told, timeout=30, interval=0.5, what="the customer's story in its timeline, settled"
    )
    types = [entry["type"] for entry in items]
    for happened in story:
        assert happened in types, (happened, types)
    assert types[-1] == "CUSTOMER_CREATED" and types.index("CUSTOMER_RESTORED") < types.index(
        "CUSTOMER_DELETED"
    )
    times = [entry["at"] for entry in items]
    assert times == sorted(times, reverse=True), "newest first"
    by_type = {entry["type"]: entry for entry in reversed(items)}  # the newest of each type
    assert by_type["CUSTOMER_UPDATED"]["detail"]["changed"] == ["industry"]
    assert by_type["CUSTOMER_CREATED"]["subjectId"] == customer_id
    stage = by_type["OPPORTUNITY_STAGE_CHANGED"]
    assert (stage["subjectId"], stage["detail"]["toStage"]) == (deal["id"], "PROPOSAL")
    decided = by_type["APPROVAL_STATUS_CHANGED"]
    assert (decided["detail"]["status"], decided["actorId"]) == ("APPROVED", manager_id)
    assert by_type["CUSTOMER_DELETED"]["actorId"] == owner_id

    page = await ok(await client.get(timeline, headers=bearer(manager), params={"limit": 2, "offset": 1}))
    assert page["total"] == len(items) and [e["id"] for e in page["items"]] == [e["id"] for e in items[1:3]]
    for stranger in (other, token_for(crm, "USER")[1]):
        refused = await client.get(timeline, headers=bearer(stranger))
        assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    _, compliance = token_for(crm, "COMPLIANCE")
    assert (await ok(await client.get(timeline, headers=bearer(compliance))))["total"] == len(items)
    unknown = await client.get("/api/reports/customers/nope/timeline", headers=bearer(manager))
    assert unknown.status_code == 404
    assert (await client.get(timeline)).status_code == 401


async def test_a_reassigned_customers_timeline_is_its_new_owners(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, first = token_for(crm, "SALES")
    second_id, second = token_for(crm, "SALES")
    _, admin = token_for(crm, "ADMIN")
    customer_id = await known_customer(crm, client, first, name="Moving Co")
    moved = await client.patch(
        f"/api/customers/{customer_id}", headers=bearer(admin), json={"ownerId": second_id}
    )
    assert moved.status_code == 200, moved.text
    timeline = f"/api/reports/customers/{customer_id}/timeline"

    async def reassigned() -> dict[str, Any] | None:
        response = await client.get(timeline, headers=bearer(second))
        if response.status_code != 200:
            return None
        newest = response.json()["items"][0]
        return newest if newest["type"] == "CUSTOMER_UPDATED" else None

    newest = await eventually(reassigned, what="the reassignment in the new owner's timeline")
    assert newest["detail"]["ownerId"] == second_id and "ownerId" in newest["detail"]["changed"]
    assert (await client.get(timeline, headers=bearer(first))).status_code == 404
