"""The Kafka bus publishes in batches per partition and keeps what the outbox relay relies on: every record
acknowledged, each key's records on one partition (the one aiokafka's default partitioner picks) and in the
order given, even when one publish fills several batches of a partition."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from crm.localinfra import KafkaBroker
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.kafka import MAX_BATCH_BYTES, KafkaBus
from crm.platform.settings import Settings

pytestmark = pytest.mark.connected


async def test_a_large_publish_keeps_each_keys_order_on_its_partition(kafka_broker: KafkaBroker) -> None:
    topic = f"publish-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.plaintext_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    settings = Settings.from_env(
        "customer", {"KAFKA_ENABLED": "true", "KAFKA_BROKERS": kafka_broker.plaintext_bootstrap}
    )
    bus = KafkaBus(settings.kafka)
    value = b"x" * 1000
    count = 3 * MAX_BATCH_BYTES // len(value)  # several full batches per partition in one publish
    records = [
        OutgoingRecord(topic, f"key-{i % 7}".encode(), value + str(i).encode(), [("n", str(i).encode())])
        for i in range(count)
    ]
    try:
        await bus.publish(records[: count // 2])
        await bus.publish(records[count // 2 :])
    finally:
        await bus.close()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_broker.plaintext_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: dict[bytes, list[tuple[int, int]]] = defaultdict(list)  # key → [(partition, n)] in offset order
    try:
        total = 0
        while total < count:
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, f"only {total} of {count} records arrived"
            for tp, items in batches.items():
                for r in items:
                    assert r.key is not None
                    seen[r.key].append((tp.partition, int(dict(r.headers)["n"])))
                    total += 1
    finally:
        await consumer.stop()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.plaintext_bootstrap)  # for its partitioner
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        expected_partition = {k: producer._partitioner(k, partitions, partitions) for k in seen}
    finally:
        await producer.stop()
    assert sum(len(v) for v in seen.values()) == count  # each record once
    for key, arrivals in seen.items():
        assert {p for p, _ in arrivals} == {expected_partition[key]}
        numbers = [n for _, n in arrivals]
        assert numbers == sorted(numbers) == [i for i in range(count) if f"key-{i % 7}".encode() == key]
