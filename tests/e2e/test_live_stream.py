"""The live stream (``GET /api/stream``) of the embedded CRM, read over a real socket as the web app reads it:
a user sees the first-contact task of the customer they create, a manager sees the approval requests of their
inbox, another user sees none of it; a dropped connection resumes from its cursor with no event lost or
repeated; no token is a 401; logging out ends the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.modes.embedded import Embedded
from tests.support.embedded import bearer, register, running_embedded, token_for
from tests.support.opportunity import known_customer, new_deal, quiesce
from tests.support.serving import serving
from tests.support.sse import Message, of_type, open_stream
from tests.support.waiting import eventually

Running = tuple[Embedded, httpx.AsyncClient, str]


@pytest.fixture(scope="module")
async def crm(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    async with (
        running_embedded(tmp_path_factory.mktemp("stream")) as (live, client),
        serving(live.gateway, lifespan="off") as url,
    ):
        yield live, client, url
        await quiesce(live)


async def new_customer(client: httpx.AsyncClient, token: str, name: str) -> str:
    response = await client.post("/api/customers", headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def envelope(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = message.json()
    assert set(body) == {"id", "type", "source", "time", "subject", "data"}
    assert body["type"] == message.event
    return body


async def test_a_user_sees_the_first_contact_task_of_the_customer_they_create(crm: Running) -> None:
    _, client, url = crm
    account = await register(client, "stream-user@example.com")
    user_id = account["user"]["id"]
    async with open_stream(url, account["token"]) as stream:
        customer_id = await new_customer(client, account["token"], "Live Co")
        created = envelope(await stream.until(of_type("CUSTOMER_CREATED", customerId=customer_id)))
        assert created["source"] == "customer-service" and created["subject"] == customer_id
        task = envelope(await stream.until(of_type("TASK_CREATED", customerId=customer_id)))
        assert task["data"]["assigneeId"] == user_id
        assert task["data"]["title"] == "Initial contact: Live Co"
        assert all(m.id for m in stream.received)


async def test_a_manager_sees_approval_requests_and_another_user_sees_none_of_it(crm: Running) -> None:
    live, client, url = crm
    seller_id, seller = token_for(live, "SALES")
    _, manager = token_for(live, "MANAGER")
    other = await register(client, "stream-other@example.com")
    async with (
        open_stream(url, manager) as inbox,
        open_stream(url, other["token"]) as bystander,
        open_stream(url, seller) as own,
    ):
        customer_id = await known_customer(live, client, seller, "Approval Co")
        deal = await new_deal(client, seller, customer_id)
        response = await client.post(
            "/api/approvals", headers=bearer(seller), json={"opportunityId": deal["id"], "title": "Discount"}
        )
        assert response.status_code == 201, response.text
        approval_id = response.json()["id"]
        requested = await inbox.until(of_type("APPROVAL_REQUESTED", approvalId=approval_id))
        assert envelope(requested)["data"]["requesterId"] == seller_id
        await inbox.until(of_type("TASK_CREATED", customerId=customer_id))  # every team member's work
        await own.until(of_type("APPROVAL_REQUESTED", approvalId=approval_id))

        # The bystander's own events come after the seller's on each topic: once they arrived, the seller's
        # were read and left out.
        own_customer = await new_customer(client, other["token"], "Bystander Co")
        await bystander.until(of_type("TASK_CREATED", customerId=own_customer))
        own_deal = await new_deal(client, other["token"], await known_customer(live, client, other["token"]))
        await bystander.until(of_type("OPPORTUNITY_CREATED", opportunityId=own_deal["id"]))
        seen = [m.json()["data"] for m in bystander.received if m.event != "ready"]
        assert all(customer_id not in (d.get("customerId"), d.get("id")) for d in seen), seen
        assert not [m for m in bystander.received if m.event == "APPROVAL_REQUESTED"]


async def test_a_dropped_connection_resumes_with_no_event_lost_or_repeated(crm: Running) -> None:
    live, client, url = crm
    account = await register(client, "stream-resume@example.com")
    token = account["token"]
    first_id = await new_customer(client, token, "Before Stream Co")

    async def both_tasks() -> bool:  # the registered user's own customer's, and this one's
        return (await client.get("/api/tasks", headers=bearer(token))).json()["total"] == 2

    await eventually(both_tasks, what="the first-contact tasks of the customers made before the stream")
    await quiesce(live)  # ... and their events published: the stream starts after them
    async with open_stream(url, token) as stream:
        cursor = stream.received[0].id  # `ready`: nothing before the connection is sent
        second_id = await new_customer(client, token, "Second Co")
        received = await stream.until(of_type("CUSTOMER_CREATED", customerId=second_id))
        cursor = received.id
        before = [envelope(m)["id"] for m in stream.received if m.event != "ready"]
    # Disconnected: events keep happening.
    later = [await new_customer(client, token, f"While Away {n} Co") for n in range(3)]
    assert cursor is not None
    async with open_stream(url, token, last_event_id=cursor) as resumed:
        for customer_id in [second_id, *later]:
            await resumed.until(of_type("TASK_CREATED", customerId=customer_id))
        for customer_id in later:
            assert [m for m in resumed.received if of_type("CUSTOMER_CREATED", customerId=customer_id)(m)]
        after = [envelope(m)["id"] for m in resumed.received if m.event != "ready"]
    everything = before + after
    assert len(everything) == len(set(everything)), "an event came twice"
    types = [m.event for m in resumed.received]
    assert types.count("CUSTOMER_CREATED") == 3 and types.count("TASK_CREATED") == 4, types
    assert first_id not in {m.json()["data"].get("customerId") for m in stream.received[1:]}


async def test_no_token_is_a_401_and_a_bad_cursor_a_422(crm: Running) -> None:
    live, client, _ = crm
    anonymous = await client.get("/api/stream")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"] == "unauthorized"
    forged = await client.get("/api/stream", headers=bearer("not.a.token"))
    assert forged.status_code == 401
    _, token = token_for(live, "USER")
    bad = await client.get("/api/stream", headers={**bearer(token), "Last-Event-ID": "somewhere"})
    assert bad.status_code == 422
    assert "Last-Event-ID" in bad.json()["fields"]


async def test_logging_out_ends_the_stream_without_sending_the_revocation(crm: Running) -> None:
    _, client, url = crm
    account = await register(client, "stream-logout@example.com")
    async with open_stream(url, account["token"]) as stream:
        response = await client.post(
            "/api/auth/logout",
            headers=bearer(account["token"]),
            json={"refreshToken": account["refreshToken"]},
        )
        assert response.status_code in (200, 204), response.text
        rest = await stream.ended(timeout=10)
    assert not [m for m in rest if m.event in ("TOKEN_REVOKED", "API_KEY_REVOKED")]


async def test_the_stream_is_in_the_merged_openapi(crm: Running) -> None:
    _, client, _ = crm
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]


async def test_a_stream_ends_when_the_server_stops(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (live, client):
        account = await register(client, "stream-stop@example.com")
        async with serving(live.gateway, lifespan="off") as url, open_stream(url, account["token"]) as stream:
            live.gateway.drain()
            await stream.ended(timeout=5)
