"""Meetings through the gateway of the embedded CRM: a rep schedules, reschedules, holds and cancels meetings
with their customers; who sees what; and the API's errors."""

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


def at(days: float, hour: int = 10) -> str:
    day = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return day.isoformat()


async def new_customer(client, token: str, name: str = "Acme") -> str:  # type: ignore[no-untyped-def]
    """A customer created through customer-service, once sales-activity knows it (its first-contact task
    shows up)."""
    response = await client.post("/api/customers", headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]

    async def known() -> int:
        tasks = await client.get("/api/tasks", headers=bearer(token), params={"customerId": customer_id})
        return tasks.json()["total"]

    await eventually(known, what=f"sales-activity to know customer {name}")
    return customer_id


async def meeting_events(crm, meeting_id: str, count: int) -> list[dict]:  # type: ignore[no-untyped-def]
    async def probe() -> list[dict]:
        records = await crm.bus.records("sales-activity.events")
        envelopes = [Envelope.from_record(r.topic, r.value, r.headers) for r in records]
        found = [{"type": e.type, **e.data} for e in envelopes if e.subject == meeting_id]
        return found if len(found) >= count else []

    return await eventually(probe, what=f"{count} event(s) about meeting {meeting_id}")


async def test_a_rep_schedules_reschedules_and_holds_a_meeting(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    rep_id, rep = token_for(crm, "SALES")
    customer_id = await new_customer(client, rep)
    body = {
        "customerId": customer_id,
        "title": "Kick-off",
        "startsAt": at(3),
        "endsAt": at(3, hour=11),
        "attendees": ["ann@acme.example", "Bob (CTO)"],
        "location": "Acme HQ",
        "opportunityId": "deal-1",
    }
    created = await client.post("/api/meetings", headers=bearer(rep), json=body)
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert (meeting["ownerId"], meeting["status"], meeting["attendees"]) == (
        rep_id,
        "SCHEDULED",
        ["ann@acme.example", "Bob (CTO)"],
    )
    url = f"/api/meetings/{meeting['id']}"
    assert (await client.get(url, headers=bearer(rep))).json() == meeting

    moved = await client.patch(
        url, headers=bearer(rep), json={"startsAt": at(4), "endsAt": at(4, hour=11), "location": "Acme HQ"}
    )
    assert moved.status_code == 200 and moved.json()["startsAt"] == at(4).replace("+00:00", "Z")
    held = await client.patch(
        url, headers=bearer(rep), json={"status": "COMPLETED", "summary": "Budget approved", "notes": "n"}
    )
    assert held.json()["status"] == "COMPLETED" and held.json()["summary"] == "Budget approved"
    cancel = await client.delete(url, headers=bearer(rep))
    assert cancel.status_code == 409, "a meeting that took place cannot be cancelled"

    events = await meeting_events(crm, meeting["id"], 3)
    assert [e["type"] for e in events] == ["MEETING_CREATED", "MEETING_UPDATED", "MEETING_UPDATED"]
    assert events[0]["startsAt"] and events[0]["customerId"] == customer_id and events[0]["ownerId"] == rep_id
    assert events[1]["changed"] == ["startsAt", "endsAt"]
    assert (events[2]["status"], events[2]["changed"]) == ("COMPLETED", ["summary", "notes", "status"])


async def test_cancelling_a_meeting_keeps_it_as_cancelled(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "USER")
    customer_id = await new_customer(client, rep)
    body = {"customerId": customer_id, "title": "Demo", "startsAt": at(1)}
    meeting = (await client.post("/api/meetings", headers=bearer(rep), json=body)).json()
    url = f"/api/meetings/{meeting['id']}"
    assert (await client.delete(url, headers=bearer(rep))).status_code == 204
    assert (await client.delete(url, headers=bearer(rep))).status_code == 204
    assert (await client.get(url, headers=bearer(rep))).json()["status"] == "CANCELLED"
    events = await meeting_events(crm, meeting["id"], 2)
    assert [(e["type"], e["status"], e["changed"]) for e in events[1:]] == [
        ("MEETING_UPDATED", "CANCELLED", ["status"])
    ]


async def test_the_meeting_list_searches_and_filters(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    rep_id, rep = token_for(crm, "SALES")
    acme = await new_customer(client, rep, "Acme")
    globex = await new_customer(client, rep, "Globex")
    for customer, title, day, summary in (
        (acme, "Acme kick-off", 1, "Scope"),
        (acme, "Acme review", 5, "Pricing review"),
        (globex, "Globex intro", 3, None),
    ):
        body = {"customerId": customer, "title": title, "startsAt": at(day), "summary": summary}
        assert (await client.post("/api/meetings", headers=bearer(rep), json=body)).status_code == 201

    async def titles(**params: str) -> list[str]:
        response = await client.get("/api/meetings", headers=bearer(rep), params=params)
        assert response.status_code == 200, response.text
        return [m["title"] for m in response.json()["items"]]

    assert await titles() == ["Acme kick-off", "Globex intro", "Acme review"], "in start order"
    assert await titles(customerId=acme) == ["Acme kick-off", "Acme review"]
    assert await titles(q="pricing") == ["Acme review"]
    assert await titles(q="GLOBEX") == ["Globex intro"]
    assert await titles(**{"from": at(2), "to": at(5)}) == ["Globex intro", "Acme review"]
    assert await titles(ownerId=rep_id, status="SCHEDULED", limit="1", offset="2") == ["Acme review"]
    assert await titles(status="CANCELLED") == []


async def test_reps_see_only_their_meetings_managers_see_all(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    ann_id, ann = token_for(crm, "SALES")
    _, bob = token_for(crm, "SALES")
    _, manager = token_for(crm, "MANAGER")
    _, auditor = token_for(crm, "COMPLIANCE")
    customer_id = await new_customer(client, ann)
    body = {"customerId": customer_id, "title": "Ann's call", "startsAt": at(1)}
    meeting = (await client.post("/api/meetings", headers=bearer(ann), json=body)).json()
    url = f"/api/meetings/{meeting['id']}"
    assert (await client.get(url, headers=bearer(bob))).status_code == 404
    assert (await client.patch(url, headers=bearer(bob), json={"title": "Mine"})).status_code == 404
    assert (await client.delete(url, headers=bearer(bob))).status_code == 404
    assert (await client.get("/api/meetings", headers=bearer(bob))).json()["total"] == 0
    for reader in (manager, auditor):
        listed = await client.get("/api/meetings", headers=bearer(reader), params={"ownerId": ann_id})
        assert [m["id"] for m in listed.json()["items"]] == [meeting["id"]]
    refused = await client.post("/api/meetings", headers=bearer(bob), json=body)
    assert refused.status_code == 422 and "customerId" in refused.json()["fields"], "not Bob's customer"
    assert (await client.patch(url, headers=bearer(auditor), json={"title": "X"})).status_code == 403
    assert (await client.delete(url, headers=bearer(auditor))).status_code == 403
    assert (await client.post("/api/meetings", headers=bearer(auditor), json=body)).status_code == 403
    by_manager = await client.patch(url, headers=bearer(manager), json={"title": "Ann's call (moved)"})
    assert by_manager.status_code == 200 and by_manager.json()["ownerId"] == ann_id


async def test_meetings_need_a_valid_token_and_a_known_id(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    assert (await client.get("/api/meetings")).status_code == 401
    assert (await client.post("/api/meetings", json={}, headers=bearer("garbage"))).status_code == 401
    _, admin = token_for(crm, "ADMIN")
    assert (await client.get("/api/meetings/nope", headers=bearer(admin))).status_code == 404
    assert (await client.patch("/api/meetings/nope", headers=bearer(admin), json={})).status_code == 404


async def test_bad_meetings_are_422_naming_the_field(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, rep = token_for(crm, "SALES")
    customer_id = await new_customer(client, rep)
    good = {"customerId": customer_id, "title": "Call", "startsAt": at(1)}
    for change, field in (
        ({"startsAt": None}, "startsAt"),
        ({"startsAt": "soon"}, "startsAt"),
        ({"endsAt": at(0)}, "endsAt"),
        ({"title": ""}, "title"),
        ({"attendees": "everyone"}, "attendees"),
        ({"attendees": [""]}, "attendees.0"),
        ({"customerId": "no-such-customer"}, "customerId"),
        ({"status": "CANCELLED"}, "status"),
    ):
        response = await client.post("/api/meetings", headers=bearer(rep), json={**good, **change})
        assert response.status_code == 422, (change, response.text)
        assert field in response.json()["fields"], (change, response.json())
    meeting = (await client.post("/api/meetings", headers=bearer(rep), json=good)).json()
    url = f"/api/meetings/{meeting['id']}"
    for change, field in (
        ({"endsAt": at(0)}, "endsAt"),
        ({"title": None}, "title"),
        ({"status": "X"}, "status"),
    ):
        response = await client.patch(url, headers=bearer(rep), json=change)
        assert response.status_code == 422 and field in response.json()["fields"], (change, response.text)
