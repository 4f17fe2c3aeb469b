"""Kafka failures as the guide describes them: the exact troubleshooting lines, HTTP that keeps answering,
and events that wait in the outbox and are delivered exactly once when Kafka is back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
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


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, so stopping it disturbs no other test."""
    broker = KafkaBroker(tmp_path / "kafka")
    try:
        broker.start()
    except Exception as exc:
        pytest.fail(f"the Kafka test broker did not start: {exc}", pytrace=False)
    yield broker
    broker.stop()


async def customers_by_source(postgres: PostgresCluster, database: str) -> dict[str, int]:
    connection = await asyncpg.connect(postgres.dsn(database))
    try:
        rows = await connection.fetch(
            "SELECT source_user_id, count(*) AS n FROM customers WHERE source_user_id IS NOT NULL GROUP BY 1"
        )
    finally:
        await connection.close()
    return {r["source_user_id"]: r["n"] for r in rows}


async def test_broker_down_while_users_register_then_every_customer_exactly_once(
    own_broker: KafkaBroker, postgres: PostgresCluster
) -> None:
    kafka = plaintext_kafka(own_broker)
    cluster = start_cluster(
        "restart", LOGS, postgres, {"auth": kafka, "customer": kafka}, services=["auth", "customer"]
    )
    try:
        await cluster.wait_for_log("customer", r"✅ Kafka Consumer connected$")
        before = await register(cluster.processes["auth"].url, "before-outage@example.com")
        own_broker.stop()
        user_ids = [before["user"]["id"]]
        for i in range(20):
            user_ids.append(
                (await register(cluster.processes["auth"].url, f"outage-{i}@example.com"))["user"]["id"]
            )
        own_broker.restart()

        async def all_created() -> dict[str, int]:
            found = await customers_by_source(postgres, "restart_customer")
            return found if set(user_ids) <= set(found) else {}

        found = await eventually(all_created, timeout=90, interval=0.25, what="a customer for every user")
        assert {uid: found[uid] for uid in user_ids} == {uid: 1 for uid in user_ids}, "exactly once each"
        assert await outbox_pending(cluster, "auth") == 0
    finally:
        cluster.stop()


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
