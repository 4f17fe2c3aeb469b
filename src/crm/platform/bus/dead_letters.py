"""Dead letters on Kafka: list them, and re-deliver them to their original topics once each, each to the one
consumer group that dead-lettered it (the ``crm_replay_for`` header; the topic's other groups skip it).

The replay has a consumer group of its own (``crm-dlq-replay``): its committed offsets remember what was
already re-delivered, so running it twice re-delivers nothing twice. A crash between re-publishing and
committing re-delivers again, which the consumers' inbox makes harmless."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from crm.platform.bus import REPLAY_FOR, BusError, IncomingRecord, OutgoingRecord
from crm.platform.bus.inspect import read_topic
from crm.platform.bus.kafka import KafkaBus, client_options, explain
from crm.platform.settings import KafkaSettings

REPLAY_GROUP = "crm-dlq-replay"
DLQ_SUFFIX = ".dlq"
REPLAYED_FROM = "crm_replayed_from"  # where the re-delivered copy came from: ``<dlq topic>@<offset>``


async def collect(kafka: KafkaSettings, dlq_topics: Sequence[str]) -> list[IncomingRecord]:
    """Every retained record of ``dlq_topics``, oldest first."""
    found: list[IncomingRecord] = []
    for topic in dlq_topics:
        async for record in read_topic(kafka, topic, from_beginning=True, follow=False, idle_timeout=1.5):
            found.append(record)
    return found


def original(record: IncomingRecord) -> OutgoingRecord:
    """The record as it was before it was dead-lettered (the ``dlq_*`` headers removed), addressed to the
    consumer group that dead-lettered it (``dlq_consumer``): the other groups of its topic had applied it and
    skip the copy. A dead letter that names no group goes to every group."""
    headers = dict(record.headers)
    topic = headers.get("dlq_original_topic", b"").decode() or record.topic.removesuffix(DLQ_SUFFIX)
    ours = ("dlq_", REPLAY_FOR, REPLAYED_FROM)  # a dead letter replayed before carries the last replay's
    kept = [(k, v) for k, v in record.headers if not k.startswith(ours)]
    target = [(REPLAY_FOR, headers["dlq_consumer"])] if headers.get("dlq_consumer") else []
    return OutgoingRecord(
        topic,
        record.key,
        record.value or b"",
        [*kept, *target, (REPLAYED_FROM, f"{record.topic}@{record.offset}".encode())],
    )


async def replay(
    kafka: KafkaSettings, dlq_topics: Sequence[str], *, dry_run: bool = False
) -> list[IncomingRecord]:
    """Re-publish the dead letters not replayed before; returns them. ``dry_run`` publishes nothing.

    Only the dead letters there when the replay starts: a record that is still poison is dead-lettered again
    by the running consumers, and replaying those too would never end."""
    consumer = AIOKafkaConsumer(
        **client_options(kafka),
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
    except Exception as exc:
        with contextlib.suppress(Exception):
            await consumer.stop()
        raise BusError(await explain(kafka, exc)) from exc
    bus = KafkaBus(kafka)
    replayed: list[IncomingRecord] = []
    try:
        partitions = [
            TopicPartition(t, p) for t in dlq_topics for p in sorted(consumer.partitions_for_topic(t) or {0})
        ]
        consumer.assign(partitions)  # this group's committed offsets say where the last replay stopped
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=2000, max_records=500)
            if not batches:
                return replayed
            records = [
                IncomingRecord(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
                for tp, rs in batches.items()
                for r in rs
                if r.offset < ends[tp]
            ]
            if not dry_run and records:
                await bus.publish([original(r) for r in records])
                await consumer.commit({TopicPartition(r.topic, r.partition): r.offset + 1 for r in records})
            replayed.extend(records)
            if dry_run:
                return replayed
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return replayed
    finally:
        await bus.close()
        await consumer.stop()
