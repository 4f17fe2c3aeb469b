"""Tasks through the gateway of the embedded CRM: a sales rep's to-do list, who may see and assign what,
and every error the API answers (401, 403, 404, 409, 422 naming the field).

Meetings are in test_sales_activity_meetings.py; reactions to other services' events in
test_sales_activity_events.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm.platform.events import Envelope
from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def events_about(crm, task_id: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """(type, data) of every event published about ``task_id``, in order."""
    records = await crm.bus.records("sales-activity.events")
    envelopes = [Envelope.from_record(r.topic, r.value, r.headers) for r in records]
    return [(e.type, e.data) for e in envelopes if e.subject == task_id]


async def published(crm, task_id: str, count: int) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """The events about ``task_id`` once there are ``count`` of them."""

    async def probe() -> list[tuple[str, dict]]:
        found = await events_about(crm, task_id)
        return found if len(found) >= count else []

    return await eventually(probe, what=f"{count} event(s) about task {task_id}")


async def test_a_sales_rep_plans_and_completes_a_task(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    rep_id, rep = token_for(crm, "SALES")
    created = await client.post(
        "/api/tasks", headers=bearer(rep), json={"title": "  Call Acme back ", "dueDate": in_hours(48)}
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["title"], task["status"], task["priority"], task["kind"]) == (
        "Call Acme back",
        "TODO",
        "MEDIUM",
        "manual",
    )
    assert task["assigneeId"] == task["createdBy"] == rep_id
    assert (await client.get(f"/api/tasks/{task['id']}", headers=bearer(rep))).json() == task

    patched = await client.patch(
        f"/api/tasks/{task['id']}",
        headers=bearer(rep),
        json={"priority": "URGENT", "status": "IN_PROGRESS", "title": "Call Acme back"},
    )
    assert patched.status_code == 200
    assert (patched.json()["priority"], patched.json()["status"]) == ("URGENT", "IN_PROGRESS")

    done = await client.post(f"/api/tasks/{task['id']}/complete", headers=bearer(rep))
    assert done.status_code == 200
    assert done.json()["status"] == "COMPLETED" and done.json()["completedBy"] == rep_id
    again = await client.post(f"/api/tasks/{task['id']}/complete", headers=bearer(rep))
    assert again.status_code == 409 and again.json()["fields"] == {"status": "COMPLETED"}
    assert (await client.delete(f"/api/tasks/{task['id']}", headers=bearer(rep))).status_code == 409

    events = await published(crm, task["id"], 3)
    assert [t for t, _ in events] == ["TASK_CREATED", "TASK_UPDATED", "TASK_COMPLETED"]
    assert events[0][1]["assigneeId"] == rep_id and events[0][1]["kind"] == "manual"
    assert events[1][1]["changed"] == ["priority", "status"], "an unchanged title is not a change"
    assert events[2][1]["completedBy"] == rep_id


async def test_cancelling_a_task_keeps_it_and_says_so_once(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "USER")
    task = (await client.post("/api/tasks", headers=bearer(rep), json={"title": "Send brochure"})).json()
    assert (await client.delete(f"/api/tasks/{task['id']}", headers=bearer(rep))).status_code == 204
    assert (await client.delete(f"/api/tasks/{task['id']}", headers=bearer(rep))).status_code == 204
    fetched = await client.get(f"/api/tasks/{task['id']}", headers=bearer(rep))
    assert fetched.json()["status"] == "CANCELLED"
    complete = await client.post(f"/api/tasks/{task['id']}/complete", headers=bearer(rep))
    assert complete.status_code == 409
    events = await published(crm, task["id"], 2)
    assert [(t, d["status"], d["changed"]) for t, d in events[1:]] == [
        ("TASK_UPDATED", "CANCELLED", ["status"])
    ]


async def test_patching_status_completed_completes_and_another_status_reopens(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")
    task = (await client.post("/api/tasks", headers=bearer(rep), json={"title": "Quote"})).json()
    url = f"/api/tasks/{task['id']}"
    done = await client.patch(url, headers=bearer(rep), json={"status": "COMPLETED"})
    assert done.status_code == 200 and done.json()["completedAt"]
    reopened = await client.patch(url, headers=bearer(rep), json={"status": "TODO"})
    assert reopened.json()["status"] == "TODO" and reopened.json()["completedAt"] is None
    events = await published(crm, task["id"], 3)
    assert [t for t, _ in events] == ["TASK_CREATED", "TASK_COMPLETED", "TASK_UPDATED"]
    await client.delete(url, headers=bearer(rep))
    refused = await client.patch(url, headers=bearer(rep), json={"status": "COMPLETED"})
    assert refused.status_code == 409, "a cancelled task cannot be completed"


async def test_the_list_is_by_due_date_then_priority_with_filters(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")

    async def add(title: str, **fields: str) -> str:
        response = await client.post("/api/tasks", headers=bearer(rep), json={"title": title, **fields})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    due = in_hours(24)
    await add("undated")
    await add("tomorrow low", dueDate=due, priority="LOW")
    await add("tomorrow urgent", dueDate=due, priority="URGENT")
    await add("next week", dueDate=in_hours(24 * 7))
    late = await add("late pricing", dueDate=in_hours(-3), description="Send the PRICING sheet")

    async def titles(**params: str) -> list[str]:
        response = await client.get("/api/tasks", headers=bearer(rep), params=params)
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()["items"]]

    assert await titles() == ["late pricing", "tomorrow urgent", "tomorrow low", "next week", "undated"]
    assert await titles(overdue="true") == ["late pricing"]
    assert await titles(q="pricing") == ["late pricing"]
    assert await titles(priority="URGENT") == ["tomorrow urgent"]
    assert await titles(dueBefore=in_hours(25)) == ["late pricing", "tomorrow urgent", "tomorrow low"]
    await client.post(f"/api/tasks/{late}/complete", headers=bearer(rep))
    assert await titles(status="COMPLETED") == ["late pricing"]
    assert await titles(overdue="true") == [], "a completed task is not overdue"
    page = (await client.get("/api/tasks", headers=bearer(rep), params={"limit": 2, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 1, 2)


async def test_reps_see_their_own_tasks_managers_assign_and_see_all(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    ann_id, ann = token_for(crm, "SALES")
    bob_id, bob = token_for(crm, "SALES")
    _, manager = token_for(crm, "MANAGER")
    refused = await client.post("/api/tasks", headers=bearer(ann), json={"title": "X", "assigneeId": bob_id})
    assert refused.status_code == 403 and "assigneeId" in refused.json()["fields"]

    assigned = await client.post(
        "/api/tasks", headers=bearer(manager), json={"title": "Visit Acme", "assigneeId": ann_id}
    )
    assert assigned.status_code == 201 and assigned.json()["assigneeId"] == ann_id
    url = f"/api/tasks/{assigned.json()['id']}"
    assert (await client.get(url, headers=bearer(ann))).status_code == 200
    for request in (client.get(url, headers=bearer(bob)), client.patch(url, headers=bearer(bob), json={})):
        assert (await request).status_code == 404, "another rep's task does not exist for Bob"
    assert (await client.get("/api/tasks", headers=bearer(bob))).json()["total"] == 0
    handover = await client.patch(url, headers=bearer(ann), json={"assigneeId": bob_id})
    assert handover.status_code == 403 and "assigneeId" in handover.json()["fields"]
    moved = await client.patch(url, headers=bearer(manager), json={"assigneeId": bob_id})
    assert moved.status_code == 200
    assert (await client.get(url, headers=bearer(bob))).status_code == 200
    everyone = await client.get("/api/tasks", headers=bearer(manager), params={"assigneeId": bob_id})
    assert [t["title"] for t in everyone.json()["items"]] == ["Visit Acme"]


async def test_compliance_reads_everything_and_changes_nothing(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    rep_id, rep = token_for(crm, "SALES")
    _, auditor = token_for(crm, "COMPLIANCE")
    task = (await client.post("/api/tasks", headers=bearer(rep), json={"title": "Audit me"})).json()
    url = f"/api/tasks/{task['id']}"
    assert (await client.get(url, headers=bearer(auditor))).status_code == 200
    listed = await client.get("/api/tasks", headers=bearer(auditor), params={"assigneeId": rep_id})
    assert [t["id"] for t in listed.json()["items"]] == [task["id"]]
    for write in (
        client.post("/api/tasks", headers=bearer(auditor), json={"title": "Mine"}),
        client.patch(url, headers=bearer(auditor), json={"title": "Changed"}),
        client.post(f"{url}/complete", headers=bearer(auditor)),
        client.delete(url, headers=bearer(auditor)),
    ):
        assert (await write).status_code == 403


async def test_a_missing_or_bad_token_is_401(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    assert (await client.get("/api/tasks")).status_code == 401
    assert (await client.post("/api/tasks", json={"title": "X"})).status_code == 401
    assert (await client.get("/api/tasks/x", headers=bearer("garbage"))).status_code == 401


async def test_unknown_tasks_are_404(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "ADMIN")
    url = "/api/tasks/no-such-task"
    assert (await client.get(url, headers=bearer(rep))).status_code == 404
    assert (await client.patch(url, headers=bearer(rep), json={"title": "X"})).status_code == 404
    assert (await client.post(f"{url}/complete", headers=bearer(rep))).status_code == 404
    assert (await client.delete(url, headers=bearer(rep))).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "X" * 201}, "title"),
        ({"title": "X", "priority": "SOMEDAY"}, "priority"),
        ({"title": "X", "status": "DONE"}, "status"),
        ({"title": "X", "status": "CANCELLED"}, "status"),
        ({"title": "X", "dueDate": "next tuesday"}, "dueDate"),
        ({"title": "X", "customerId": "never-heard-of-it"}, "customerId"),
        ({"title": "X", "color": "red"}, "color"),
    ],
)
async def test_a_bad_new_task_is_422_naming_the_field(crm, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")
    response = await client.post("/api/tasks", headers=bearer(rep), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": None}, "title"), ({"status": None}, "status"), ({"priority": "ASAP"}, "priority")],
)
async def test_a_bad_change_is_422_naming_the_field(crm, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")
    task = (await client.post("/api/tasks", headers=bearer(rep), json={"title": "T"})).json()
    response = await client.patch(f"/api/tasks/{task['id']}", headers=bearer(rep), json=body)
    assert response.status_code == 422 and field in response.json()["fields"], response.text


async def test_optional_fields_are_cleared_with_null(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")
    body = {"title": "T", "description": "D", "dueDate": in_hours(5)}
    task = (await client.post("/api/tasks", headers=bearer(rep), json=body)).json()
    cleared = await client.patch(
        f"/api/tasks/{task['id']}", headers=bearer(rep), json={"description": None, "dueDate": None}
    )
    assert cleared.status_code == 200
    assert (cleared.json()["description"], cleared.json()["dueDate"]) == (None, None)
