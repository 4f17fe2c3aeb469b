"""`crm kafka budget` against the real broker: it counts exactly the records produced and consumed here."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from typer.testing import CliRunner

from crm.cli import app
from crm.localinfra import KafkaBroker
from crm.localinfra.ports import free_port
from crm.modes.local_cluster import plaintext_kafka

pytestmark = pytest.mark.connected
runner = CliRunner()


def crm(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def budget(env: dict[str, str], *args: str) -> dict[str, Any]:
    code, output = crm(env, "kafka", "budget", "--json", *args)
    assert code == 0, output
    return json.loads(output)


def topic(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["topics"] if t["topic"] == name)


async def produce(broker: KafkaBroker, topic_name: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.plaintext_bootstrap)
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(topic_name, f'{{"n": {i}}}'.encode(), key=b"budget-test")
    finally:
        await producer.stop()


async def consume(broker: KafkaBroker, group: str, topic_name: str, *, expect: int) -> None:
    """As a service's consumer does: read from the group's committed offset, then commit what was read.
    ``expect=0`` only places the group at the end of the topic."""
    tp = TopicPartition(topic_name, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.plaintext_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        if expect == 0:
            await consumer.seek_to_end(tp)
            await consumer.commit({tp: await consumer.position(tp)})
            return
        read = 0
        while read < expect:
            batches = await consumer.getmany(tp, timeout_ms=5000)
            assert batches, f"only {read} of {expect} records came back"
            read += sum(len(records) for records in batches.values())
        assert read == expect
        await consumer.commit({tp: await consumer.position(tp)})
    finally:
        await consumer.stop()


def test_budget_counts_exactly_the_records_produced_and_consumed(kafka_broker: KafkaBroker) -> None:
    env = plaintext_kafka(kafka_broker)
    crm(env, "kafka", "topics", "create")
    group = f"budget-test-{uuid.uuid4().hex[:8]}"
    asyncio.run(consume(kafka_broker, group, "customer.events", expect=0))
    before = budget(env, "--group", group)

    asyncio.run(produce(kafka_broker, "customer.events", 7))
    asyncio.run(produce(kafka_broker, "notification.events", 3))
    asyncio.run(consume(kafka_broker, group, "customer.events", expect=7))
    after = budget(env, "--group", group)

    def delta(name: str, key: str) -> int:
        return int(topic(after, name)[key] - topic(before, name)[key])

    assert delta("customer.events", "produced_today") == 7
    assert delta("customer.events", "produced_month") == 7
    assert delta("notification.events", "produced_today") == 3
    assert delta("customer.events", "consumed_today") == 7
    assert delta("notification.events", "consumed_today") == 0, "the group does not read that topic"
    assert topic(after, "customer.events")["consumed_by"][group] >= 7
    assert after["today"]["produced"] - before["today"]["produced"] == 10
    assert after["today"]["consumed"] - before["today"]["consumed"] == 7
    assert after["today"]["total"] == after["today"]["produced"] + after["today"]["consumed"]
    assert after["quota"] == {"daily": 1000, "monthly": 10000, "max_message_bytes": 1_048_576}
    assert all(t["exists"] for t in after["topics"])


def test_budget_projects_each_action_from_the_services_handlers(kafka_broker: KafkaBroker) -> None:
    env = {**plaintext_kafka(kafka_broker), "KAFKA_DAILY_QUOTA": "500", "KAFKA_MONTHLY_QUOTA": "5000"}
    crm(env, "kafka", "topics", "create")
    report = budget(env)
    assert report["quota"]["daily"] == 500 and report["today"]["quota"] == 500
    assert report["month"]["quota"] == 5000
    rows = {row["event_type"]: row for row in report["projection"]}
    user_created = rows["USER_CREATED"]
    assert user_created["action"] == "register a user"
    assert {"customer-service", "analytics-service"} <= set(user_created["handled_by"])
    assert user_created["guide_messages"] == len(user_created["handled_by"])
    assert user_created["metered_messages"] == 1 + len(user_created["read_by"])
    assert set(user_created["handled_by"]) <= set(user_created["read_by"])
    assert rows["CUSTOMER_CREATED"]["action"] == "create a customer"

    code, text = crm(env, "kafka", "budget", "--actions-per-day", "100")
    assert code == 0, text
    assert "Kafka message budget" in text and "Projection per action" in text
    assert "USER_CREATED" in text and "register a user" in text


def test_budget_names_an_unreachable_broker() -> None:
    env = {"KAFKA_BROKERS": f"127.0.0.1:{free_port()}", "KAFKA_REQUEST_TIMEOUT_MS": "2000"}
    code, output = crm(env, "kafka", "budget")
    assert code == 2 and "❌ Request timed out" in output and "KAFKA_BROKERS" in output
