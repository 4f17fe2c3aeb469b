"""`crm kafka` against the real broker: topics, doctor, tail, dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from crm.cli import app
from crm.localinfra import KafkaBroker
from crm.localinfra.ports import free_port
from crm.modes.local_cluster import plaintext_kafka, sasl_kafka
from crm.platform.events import Envelope

pytestmark = pytest.mark.connected
runner = CliRunner()


def crm(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def produce(broker: KafkaBroker, topic: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker.plaintext_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=b"k", headers=headers)
        finally:
            await producer.stop()

    asyncio.run(send())


def test_topics_are_created_once_with_the_guides_settings(kafka_broker: KafkaBroker) -> None:
    env = plaintext_kafka(kafka_broker)
    code, output = crm(env, "kafka", "topics", "create")
    assert code == 0, output
    code, again = crm(env, "kafka", "topics", "create")
    assert code == 0 and "created" not in again, "creating twice changes nothing"
    code, listing = crm(env, "kafka", "topics", "list", "--json")
    topics = {t["name"]: t for t in json.loads(listing)}
    assert set(topics) >= {
        "user.events",
        "customer.events",
        "sales-activity.events",
        "opportunity.events",
        "notification.events",
        "user.events.dlq",
    }
    for topic in topics.values():
        assert topic["exists"] and topic["partitions"] >= 1
        assert topic["configs"]["retention.ms"] == "604800000"
        assert topic["configs"]["max.message.bytes"] == "1048576"


def test_doctor_passes_over_sasl_ssl_and_names_a_wrong_password(kafka_broker: KafkaBroker) -> None:
    crm(plaintext_kafka(kafka_broker), "kafka", "topics", "create")
    code, output = crm(sasl_kafka(kafka_broker, "scram-sha-512"), "kafka", "doctor")
    assert code == 0, output
    assert "✅ handshake (TLS verified) (authenticated)" in output
    code, output = crm(sasl_kafka(kafka_broker, "plain", password="wrong-password"), "kafka", "doctor")
    assert code == 1
    assert "❌ Failed to connect to Kafka: Authentication failed" in output and "KAFKA_PASSWORD" in output
    assert "wrong-password" not in output


def test_doctor_names_an_unreachable_broker() -> None:
    env = {"KAFKA_BROKERS": f"127.0.0.1:{free_port()}", "KAFKA_REQUEST_TIMEOUT_MS": "2000"}
    code, output = crm(env, "kafka", "doctor")
    assert code == 1 and "❌ Request timed out" in output and "KAFKA_BROKERS" in output


def test_tail_decodes_events(kafka_broker: KafkaBroker) -> None:
    env = plaintext_kafka(kafka_broker)
    crm(env, "kafka", "topics", "create")
    marker = uuid.uuid4().hex
    event = Envelope(
        type="CLI_TAIL_PROBE",
        source="test",
        subject=marker,
        data={"marker": marker},
        topic="notification.events",
    )
    produce(kafka_broker, event.topic, event.to_json(), event.headers())
    code, output = crm(
        env,
        "kafka",
        "tail",
        "notification.events",
        "--from-beginning",
        "--no-follow",
        "--json",
        "--type",
        "CLI_TAIL_PROBE",
    )
    assert code == 0, output
    views = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(v["data"] == {"marker": marker} and v["headers"]["ce_type"] == "CLI_TAIL_PROBE" for v in views)


def test_dead_letters_are_listed_and_replayed_once(kafka_broker: KafkaBroker) -> None:
    env = plaintext_kafka(kafka_broker)
    crm(env, "kafka", "topics", "create")
    marker = uuid.uuid4().hex
    event = Envelope(
        type="CLI_DLQ_PROBE",
        source="test",
        subject=marker,
        data={"marker": marker},
        topic="notification.events",
    )
    headers = [
        *event.headers(),
        ("dlq_reason", b"handler-failed"),
        ("dlq_error", b"boom"),
        ("dlq_original_topic", b"notification.events"),
        ("dlq_original_offset", b"7"),
    ]
    produce(kafka_broker, "notification.events.dlq", event.to_json(), headers)
    code, listing = crm(env, "kafka", "dlq", "list", "notification.events", "--json")
    assert code == 0, listing
    assert any(
        v.get("data") == {"marker": marker} and v["headers"]["dlq_reason"] == "handler-failed"
        for v in json.loads(listing)
    )
    code, output = crm(env, "kafka", "dlq", "replay", "notification.events")
    assert code == 0 and "re-delivered" in output, output
    code, again = crm(env, "kafka", "dlq", "replay", "notification.events")
    assert "re-delivered 0 record(s)" in again, "each dead letter is replayed once"
    code, tail = crm(
        env,
        "kafka",
        "tail",
        "notification.events",
        "--from-beginning",
        "--no-follow",
        "--json",
        "--type",
        "CLI_DLQ_PROBE",
    )
    replayed = [json.loads(line) for line in tail.splitlines() if line.startswith("{")]
    assert [v["data"] for v in replayed] == [{"marker": marker}]
    assert "dlq_reason" not in replayed[0]["headers"] and replayed[0]["headers"]["crm_replayed_from"]
