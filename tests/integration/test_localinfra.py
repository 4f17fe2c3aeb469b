"""The local infrastructure really runs: a Kafka broker (PLAINTEXT, SASL_SSL with PLAIN/SCRAM) and PostgreSQL.

One broker and one cluster serve the whole module (each takes seconds to start). A failure to start fails
the tests with the InfraError message: never skipped.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed, UnknownTopicOrPartitionError
from aiokafka.helpers import create_ssl_context

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.localinfra.ports import free_port

pytestmark = pytest.mark.connected

TOPIC_CONFIG = {"retention.ms": "604800000", "max.message.bytes": "1048576"}


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    kafka = KafkaBroker()
    try:
        yield kafka.start()
    finally:
        kafka.cleanup()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def sasl(broker: KafkaBroker, mechanism: str, password: str | None = None) -> dict[str, Any]:
    """Client settings for the SASL_SSL listener, verifying the broker against its CA file."""
    user, secret = next(iter((broker.plain_users if mechanism == "PLAIN" else broker.scram_users).items()))
    return {
        "bootstrap_servers": broker.sasl_bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": user,
        "sasl_plain_password": secret if password is None else password,
        "ssl_context": create_ssl_context(cafile=str(broker.ca_file)),
    }


async def create_topic(broker: KafkaBroker) -> str:
    """Create a fresh topic explicitly (auto-creation is off) and return its name."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.plaintext_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=TOPIC_CONFIG)])
    finally:
        await admin.close()
    return name


async def produce(topic: str, values: list[bytes], **client: Any) -> None:
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **client)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def consume(topic: str, count: int, within: float = 20, **client: Any) -> list[bytes]:
    """Read up to ``count`` messages from the start of ``topic`` in a consumer group, in ``within`` s."""
    consumer = AIOKafkaConsumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest", **client)
    await consumer.start()
    got: list[bytes] = []
    deadline = time.monotonic() + within
    try:
        while len(got) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            got += [record.value for records in batches.values() for record in records if record.value]
    finally:
        await consumer.stop()
    return got


async def test_plaintext_produce_consume(broker: KafkaBroker) -> None:
    topic = await create_topic(broker)
    values = [f"m{i}".encode() for i in range(10)]
    await produce(topic, values, bootstrap_servers=broker.plaintext_bootstrap)
    assert await consume(topic, 10, bootstrap_servers=broker.plaintext_bootstrap) == values


async def test_topics_are_created_explicitly_with_their_config(broker: KafkaBroker) -> None:
    topic = await create_topic(broker)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.plaintext_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        response = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    assert [p["replicas"] for p in described[0]["partitions"]] == [[1]]
    entries = response[0].to_object()["resources"][0]["config_entries"]
    configs = {entry["config_names"]: entry["config_value"] for entry in entries}
    assert {key: configs[key] for key in TOPIC_CONFIG} == TOPIC_CONFIG
    with pytest.raises(UnknownTopicOrPartitionError):  # auto.create.topics.enable=false
        await produce(
            "never-created", [b"x"], bootstrap_servers=broker.plaintext_bootstrap, request_timeout_ms=2000
        )


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_sasl_ssl_produce_consume(broker: KafkaBroker, mechanism: str) -> None:
    topic = await create_topic(broker)
    values = [f"{mechanism}-{i}".encode() for i in range(5)]
    await produce(topic, values, **sasl(broker, mechanism))
    assert await consume(topic, 5, **sasl(broker, mechanism)) == values


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_wrong_password_is_an_authentication_error(
    broker: KafkaBroker, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sasl(broker, mechanism, password="not-the-password")
    host, port = settings.pop("bootstrap_servers").split(":")
    with pytest.raises(SaslAuthenticationFailed, match="Authentication failed"):
        await create_conn(host, int(port), request_timeout_ms=5000, **settings)
    # A client's start() only says it could not bootstrap; the cause is in aiokafka's ERROR log.
    settings["bootstrap_servers"] = f"{host}:{port}"
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce("unused", [], **settings)
    assert "SaslAuthenticationFailed" in caplog.text


async def test_unreachable_broker_is_a_connection_error() -> None:
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await produce("unused", [], bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_ms=1000)


async def test_broker_restart_keeps_messages(broker: KafkaBroker) -> None:
    topic = await create_topic(broker)
    await produce(topic, [b"before"], bootstrap_servers=broker.plaintext_bootstrap)
    ports = (broker.plaintext_bootstrap, broker.sasl_bootstrap)
    broker.restart()
    assert (broker.plaintext_bootstrap, broker.sasl_bootstrap) == ports
    await produce(topic, [b"after"], **sasl(broker, "SCRAM-SHA-512"))
    assert await consume(topic, 2, bootstrap_servers=broker.plaintext_bootstrap) == [b"before", b"after"]


async def test_postgres_database_survives_restart(postgres: PostgresCluster) -> None:
    postgres.create_database("localinfra_test")
    postgres.create_database("localinfra_test")  # idempotent
    assert postgres.url("localinfra_test").startswith("postgresql+asyncpg://crm@127.0.0.1:")
    conn = await asyncpg.connect(postgres.dsn("localinfra_test"))
    try:
        await conn.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (42)")
    finally:
        await conn.close()
    postgres.restart()
    conn = await asyncpg.connect(postgres.dsn("localinfra_test"))
    try:
        assert await conn.fetchval("SELECT x FROM t") == 42
        assert await conn.fetchval("SHOW max_connections") == "300"
    finally:
        await conn.close()
    postgres.drop_database("localinfra_test")
    postgres.drop_database("localinfra_test")  # idempotent
