"""Six processes (five services + gateway), each its own PostgreSQL database, Kafka's PLAINTEXT listener
between them: the guide's flow with its exact log lines, every row of the MISSION's flow table, and the
deletion sagas, all through the gateway."""

from __future__ import annotations

import uuid

import httpx
import pytest

from crm.modes.local_cluster import Cluster
from tests.support.flows import every_flow
from tests.support.guide import guide_flow
from tests.support.sse import of_type, open_stream

pytestmark = pytest.mark.connected


async def test_guide_flow_over_plaintext(plaintext_cluster: Cluster) -> None:
    await guide_flow(plaintext_cluster)


async def test_gateway_health_sees_every_service(plaintext_cluster: Cluster) -> None:
    async with httpx.AsyncClient(base_url=plaintext_cluster.gateway) as client:
        body = (await client.get("/health")).json()
    assert body["status"] == "ok", body
    assert {name: s["status"] for name, s in body["services"].items()} == {
        n: "up" for n in ("auth", "customer", "sales_activity", "opportunity", "analytics")
    }


async def test_every_flow_of_the_guides_table_and_the_sagas(plaintext_cluster: Cluster) -> None:
    async with httpx.AsyncClient(base_url=plaintext_cluster.gateway, timeout=15) as api:
        await every_flow(api)


async def test_the_live_stream_over_kafka_resumes_and_ends_on_logout(plaintext_cluster: Cluster) -> None:
    """The gateway process tails the topics on Kafka: a user's stream shows the first-contact task of the
    customer they create; after a dropped connection it resumes from its cursor with nothing lost or twice;
    logging out (TOKEN_REVOKED through Kafka) ends it."""
    email = f"stream-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=plaintext_cluster.gateway, timeout=15) as api:
        account = (
            await api.post(
                "/api/auth/register",
                json={"email": email, "password": "Password123!", "name": "Live", "role": "USER"},
            )
        ).json()
        token = account["token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def create(name: str) -> str:
            response = await api.post("/api/customers", headers=headers, json={"name": name})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        async with open_stream(plaintext_cluster.gateway, token) as stream:
            first = await create("Kafka Live Co")
            task = await stream.until(of_type("TASK_CREATED", customerId=first), timeout=30)
            assert task.json()["data"]["title"] == "Initial contact: Kafka Live Co"
            cursor = task.id
            seen = [m.json()["id"] for m in stream.received if m.event != "ready"]
        assert cursor is not None
        later = await create("Kafka While Away Co")
        async with open_stream(plaintext_cluster.gateway, token, last_event_id=cursor) as resumed:
            await resumed.until(of_type("TASK_CREATED", customerId=later), timeout=30)
            # Topics are read side by side: the customer's event may come after its task's.
            await resumed.until(of_type("CUSTOMER_CREATED", customerId=later), timeout=30)
            again = [m.json()["id"] for m in resumed.received if m.event != "ready"]
            assert not set(seen) & set(again), "an event came twice"
            assert (await api.post("/api/auth/logout", headers=headers)).status_code == 204
            await resumed.ended(timeout=15)
