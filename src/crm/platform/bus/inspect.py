"""Read-only looks at a Kafka cluster for operators: topic settings, consumer-group lag, and reading a
topic from a position without joining any group (so looking never moves a service's offsets)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import GroupCoordinatorNotAvailableError

from crm.platform.bus import BusError, IncomingRecord
from crm.platform.bus.kafka import client_options, explain
from crm.platform.settings import KafkaSettings


@dataclass(frozen=True)
class TopicState:
    name: str
    exists: bool
    partitions: int = 0
    configs: dict[str, str] | None = None


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


async def _admin(kafka: KafkaSettings) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
    except Exception as exc:
        await admin.close()
        raise BusError(await explain(kafka, exc)) from exc
    return admin


async def topic_states(kafka: KafkaSettings, names: Sequence[str]) -> list[TopicState]:
    admin = await _admin(kafka)
    try:
        existing = set(await admin.list_topics())
        present = [n for n in names if n in existing]
        partitions: dict[str, int] = {}
        if present:
            for described in await admin.describe_topics(present):
                partitions[described["topic"]] = len(described.get("partitions", []))
        configs: dict[str, dict[str, str]] = {n: {} for n in present}
        if present:
            resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in present]
            for response in await admin.describe_configs(resources):
                for resource in response.resources:
                    configs[resource[3]] = {entry[0]: entry[1] for entry in resource[4]}
        return [TopicState(n, n in existing, partitions.get(n, 0), configs.get(n)) for n in names]
    finally:
        await admin.close()


async def group_lags(kafka: KafkaSettings, groups: Sequence[str], topics: Sequence[str]) -> list[GroupLag]:
    """Committed offset and end offset of every partition of ``topics`` for each group."""
    admin = await _admin(kafka)
    consumer = AIOKafkaConsumer(**client_options(kafka), group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or {0})
        ]
        ends = await consumer.end_offsets(partitions)
        lags: list[GroupLag] = []
        for group in groups:
            committed = await _committed_offsets(admin, group, partitions)
            for tp in partitions:
                meta = committed.get(tp)
                offset = meta.offset if meta is not None and meta.offset >= 0 else None
                lags.append(GroupLag(group, tp.topic, tp.partition, offset, ends.get(tp, 0)))
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def _committed_offsets(
    admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition]
) -> dict[TopicPartition, Any]:
    # On a new cluster the first coordinator lookup creates __consumer_offsets and fails meanwhile.
    for attempt in range(20):
        try:
            return await admin.list_consumer_group_offsets(group, partitions=partitions)
        except GroupCoordinatorNotAvailableError:
            await asyncio.sleep(min(1.0, 0.1 * (attempt + 1)))
    return {}


async def read_topic(
    kafka: KafkaSettings, topic: str, *, from_beginning: bool, follow: bool, idle_timeout: float = 2.0
) -> AsyncIterator[IncomingRecord]:
    """Records of ``topic`` without a consumer group: from the start or from now; with ``follow`` it waits
    for new ones until cancelled, otherwise it stops after ``idle_timeout`` seconds without a record."""
    consumer = AIOKafkaConsumer(**client_options(kafka), group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
    except Exception as exc:
        with contextlib.suppress(Exception):
            await consumer.stop()
        raise BusError(await explain(kafka, exc)) from exc
    try:
        known = consumer.partitions_for_topic(topic)
        if known is None:
            await consumer._client.force_metadata_update()
            known = consumer.partitions_for_topic(topic)
        if not known:
            raise BusError(f"❌ Topic {topic} does not exist")
        partitions = [TopicPartition(topic, p) for p in sorted(known)]
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=int(idle_timeout * 1000), max_records=500)
            if not batches and not follow:
                return
            for records in batches.values():
                for r in records:
                    yield IncomingRecord(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
