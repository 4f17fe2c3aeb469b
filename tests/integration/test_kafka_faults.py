"""Kafka failures as the guide describes them: the exact troubleshooting lines, HTTP that keeps answering,
events that wait in the outbox, and a redelivered event applied once. (The broker stopped under load, every
event then delivered exactly once: tests/chaos/test_broker_outage.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import UserCreated
from crm.localinfra import KafkaBroker, PostgresCluster
from crm.localinfra.ports import free_port
from crm.modes.local_cluster import Cluster, plaintext_kafka, sasl_kafka, start_cluster
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
LOGS = Path(__file__).resolve().parents[2] / "test-artifacts" / "logs"


async def register(base_url: str, email: str) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post(
            "/api/auth/register",
            json={"email": email, "password": "Password123!", "name": "F", "role": "USER"},
        )
    assert response.status_code == 201, response.text
    return response.json()


async def outbox_pending(cluster: Cluster, name: str) -> int:
    async with httpx.AsyncClient(base_url=cluster.processes[name].url) as client:
        ready = (await client.get("/ready")).json()
    return int(ready["checks"]["outbox"]["pending"])


async def test_wrong_password_gives_the_guides_message_and_http_keeps_answering(
    kafka_broker: KafkaBroker, postgres: PostgresCluster
) -> None:
    kafka = {
        **sasl_kafka(kafka_broker, "plain", password="not-the-password"),
        "KAFKA_REQUEST_TIMEOUT_MS": "3000",
    }
    cluster = start_cluster("badpw", LOGS, postgres, {"auth": kafka}, services=["auth"])
    try:
        await register(cluster.processes["auth"].url, "badpw@example.com")
        await cluster.wait_for_log("auth", r"❌ Failed to connect to Kafka: Authentication failed$")
        await cluster.wait_for_log("auth", r"retrying in")
        # the first administrator's USER_CREATED and the new user's both wait in the outbox
        assert await outbox_pending(cluster, "auth") == 2
        assert "not-the-password" not in cluster.log("auth")
    finally:
        cluster.stop()


async def test_unreachable_broker_times_out_and_http_keeps_answering(postgres: PostgresCluster) -> None:
    kafka = {
        "KAFKA_ENABLED": "true",
        "KAFKA_BROKERS": f"127.0.0.1:{free_port()}",
        "KAFKA_REQUEST_TIMEOUT_MS": "2000",
    }
    cluster = start_cluster("unreach", LOGS, postgres, {"auth": kafka}, services=["auth"])
    try:
        await register(cluster.processes["auth"].url, "unreachable@example.com")
        await cluster.wait_for_log("auth", r"❌ Request timed out$")
        assert await outbox_pending(cluster, "auth") == 2  # the first administrator's and the user's
    finally:
        cluster.stop()


async def customers_by_source(postgres: PostgresCluster, database: str) -> dict[str, int]:
    connection = await asyncpg.connect(postgres.dsn(database))
    try:
        rows = await connection.fetch(
            "SELECT source_user_id, count(*) AS n FROM customers WHERE source_user_id IS NOT NULL GROUP BY 1"
        )
    finally:
        await connection.close()
    return {r["source_user_id"]: r["n"] for r in rows}


async def test_the_same_event_delivered_twice_on_kafka_creates_one_customer(
    kafka_broker: KafkaBroker, postgres: PostgresCluster
) -> None:
    kafka = plaintext_kafka(kafka_broker)
    cluster = start_cluster("dup", LOGS, postgres, {"customer": kafka}, services=["customer"])
    try:
        await cluster.wait_for_log("customer", r"✅ Kafka Consumer connected$")
        user_id = str(uuid.uuid4())
        payload = UserCreated(
            user_id=user_id,
            email=f"{user_id}@example.com",
            name="Dup",
            role="USER",
            created_at=datetime.now(UTC),
        )
        event = make_event(EventType.USER_CREATED, payload, subject=user_id, source="auth-service")
        producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.plaintext_bootstrap)
        await producer.start()
        try:
            for _ in range(2):
                await producer.send_and_wait(
                    event.topic, event.to_json(), key=user_id.encode(), headers=event.headers()
                )
        finally:
            await producer.stop()
        await cluster.wait_for_log("customer", r"📤 Event published: CUSTOMER_CREATED")

        async def both_seen() -> bool:
            return cluster.log("customer").count("📥 Event received: USER_CREATED") >= 2

        await eventually(both_seen, timeout=30, what="the second delivery")

        async def created() -> dict[str, int]:
            return await customers_by_source(postgres, "dup_customer")

        assert (await eventually(created, what="the customer")).get(user_id) == 1
    finally:
        cluster.stop()
