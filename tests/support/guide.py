"""The guide's section 7 acceptance flow against a running six-process cluster."""

from __future__ import annotations

import uuid

import httpx

from crm.modes.local_cluster import Cluster
from tests.support.waiting import eventually


async def guide_flow(cluster: Cluster) -> None:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=cluster.gateway, timeout=10) as client:
        response = await client.post(
            "/api/auth/register",
            json={"email": email, "password": "Password123!", "name": "Six", "role": "USER"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        headers = {"Authorization": f"Bearer {body['token']}"}

        async def own_customer() -> list:
            listing = await client.get("/api/customers", headers=headers)
            assert listing.status_code == 200, listing.text
            return listing.json()["items"]

        items = await eventually(own_customer, timeout=30, interval=0.1, what="the user's customer via Kafka")
        assert [c["email"] for c in items] == [email]

        created = await client.post(
            "/api/customers",
            headers=headers,
            json={
                "name": "Test Company",
                "industry": "Technology",
                "size": "MEDIUM",
                "email": "contact@testcompany.com",
            },
        )
        assert created.status_code == 201, created.text

    await cluster.wait_for_log("auth", r"✅ Kafka Producer connected$")
    await cluster.wait_for_log("auth", r"📤 Event published: USER_CREATED to topic user\.events$")
    await cluster.wait_for_log("customer", r"✅ Kafka Consumer connected$")
    await cluster.wait_for_log("customer", r"📥 Event received: USER_CREATED from topic user\.events$")
    await cluster.wait_for_log("customer", r"📤 Event published: CUSTOMER_CREATED to topic customer\.events$")
