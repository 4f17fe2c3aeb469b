"""Six processes (five services + gateway), each its own PostgreSQL database, Kafka's PLAINTEXT listener
between them: the guide's flow with its exact log lines, every row of the MISSION's flow table, and the
deletion sagas, all through the gateway."""

from __future__ import annotations

import httpx
import pytest

from crm.modes.local_cluster import Cluster
from tests.support.flows import every_flow
from tests.support.guide import guide_flow

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
