"""The two delivery-throughput figures, each next to Kafka's own tool on the same topics in the same run:

- analytics consuming a backlog of mixed events, idempotently (inbox row + read models per event), next to
  ConsumerPerformance reading the same records;
- the outbox relay draining pending rows into Kafka (acks=all, idempotent producer), next to
  ProducerPerformance writing as many records of the same size to the same topic.

Both run the services' own code in this process (``ServiceRuntime``'s consumer, ``OutboxRelay``) against
the bench's broker and PostgreSQL, so a profiler attached to this process sees the whole path.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping

from sqlalchemy import func, select

from bench.bed import Bed
from bench.kafka_tools import consumer_rate, producer_rate
from bench.mix import mixed_events
from bench.stats import Figure
from crm.contracts import EventType, make_event
from crm.contracts.payloads.customers import CustomerUpdated
from crm.contracts.topics import topic_specs
from crm.modes.build import build_service
from crm.modes.tokens import token_issuer
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.kafka import KafkaBus
from crm.platform.bus.topics import ensure_topics
from crm.platform.logs import service_logger
from crm.platform.outbox import OutboxRelay
from crm.platform.runtime import ServiceRuntime
from crm.platform.settings import Settings
from crm.services.analytics.app import SPEC as ANALYTICS
from crm.services.customer.app import SPEC as CUSTOMER

CONSUMED_TOPICS = r"(user|customer|sales-activity|opportunity|notification)\.events"


def _settings(bed: Bed, service: str, database_url: str) -> Settings:
    env: Mapping[str, str] = {
        "DATABASE_URL": database_url,
        "KAFKA_ENABLED": "true",
        "KAFKA_BROKERS": bed.broker.plaintext_bootstrap,
        "KAFKA_CLIENT_ID": f"{service}-bench-{uuid.uuid4().hex[:6]}",
        "JWT_SECRET": "bench-" + "x" * 48,
        "LOG_LEVEL": "WARNING",
        "KAFKA_DAILY_QUOTA": "1000000000",  # the free tier's budget warning is not what is measured
        "KAFKA_MONTHLY_QUOTA": "1000000000",
    }
    return Settings.from_env(service, env)


async def _produce_backlog(settings: Settings, count: int) -> None:
    await ensure_topics(settings.kafka, topic_specs(settings.kafka.topic_partitions))
    bus = KafkaBus(settings.kafka)
    try:
        chunk: list[OutgoingRecord] = []
        for event in mixed_events(count):
            chunk.append(
                OutgoingRecord(event.topic, event.subject.encode(), event.to_json(), event.headers())
            )
            if len(chunk) == 5000:
                await bus.publish(chunk)
                chunk = []
        await bus.publish(chunk)
    finally:
        await bus.close()


async def _consume(settings: Settings, count: int) -> tuple[float, int, float]:
    """Start analytics (migrations first, untimed); events/s from its first applied record to the last, the
    inbox's rows, and this process's CPU µs per event (steadier than a rate on a shared machine)."""
    runtime, _app = build_service(ANALYTICS, settings, KafkaBus(settings.kafka), token_issuer(settings))
    await runtime.start()
    consumer = runtime.consumer
    assert consumer is not None
    try:
        first_at, first_seen, first_cpu = 0.0, 0, 0.0
        deadline = time.monotonic() + 900
        while True:
            seen = consumer.applied + consumer.duplicates + consumer.dead_lettered
            if seen and not first_at:
                first_at, first_seen, first_cpu = time.perf_counter(), seen, time.process_time()
            if seen >= count:
                rate = (seen - first_seen) / (time.perf_counter() - first_at)
                cpu_us = (time.process_time() - first_cpu) / max(1, seen - first_seen) * 1e6
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"analytics consumed {seen} of {count} events in 15 minutes")
            await asyncio.sleep(0.01)
        async with runtime.db.sessions() as session:
            inbox = await session.scalar(select(func.count()).select_from(ANALYTICS.inbox_table))
        return rate, int(inbox or 0), cpu_us
    finally:
        await runtime.stop()


def consume_figure(bed: Bed, count: int) -> Figure:
    settings = _settings(bed, "analytics", bed.database("analytics"))
    started = time.perf_counter()
    asyncio.run(_produce_backlog(settings, count))
    print(f"\nbacklog of {count:,} mixed events produced in {time.perf_counter() - started:.1f} s")
    yardstick = consumer_rate(bed.broker.plaintext_bootstrap, CONSUMED_TOPICS, count, f"perf-{uuid.uuid4()}")
    rate, inbox, cpu_us = asyncio.run(_consume(settings, count))
    print(
        f"analytics: {rate:,.0f} events/s ({cpu_us:,.0f} µs of CPU per event in this process), "
        f"{inbox:,} inbox rows; ConsumerPerformance {yardstick:,.0f}/s"
    )
    return Figure(
        f"analytics consuming a backlog of {count:,} mixed events (inbox + read models)",
        "events/s", rate, 20_000, True, yardstick, "ConsumerPerformance", note=f"{cpu_us:,.0f} µs CPU/event",
    )  # fmt: skip


async def _fill_outbox(runtime: ServiceRuntime, count: int) -> int:
    """``count`` CUSTOMER_UPDATED rows over 1,000 customers, written as the service writes them; returns
    the mean size of a record's value in bytes."""
    await runtime.db.migrate(runtime.spec.migrations, lock_name="bench-relay")
    size = 0
    for start in range(0, count, 5000):
        events = [
            make_event(
                EventType.CUSTOMER_UPDATED,
                CustomerUpdated(customer_id=f"cust-{i % 1000}", owner_id="user-1", changes={"phone": str(i)}),
                subject=f"cust-{i % 1000}",
                source="customer-service",
            )
            for i in range(start, min(count, start + 5000))
        ]
        size += sum(len(e.to_json()) for e in events)
        async with runtime.db.transaction() as session:
            await runtime.outbox.add(session, *events)
    return size // count


async def _drain(bed: Bed, settings: Settings, count: int) -> tuple[float, int, float]:
    await ensure_topics(settings.kafka, topic_specs(settings.kafka.topic_partitions))
    bus = KafkaBus(settings.kafka)
    runtime = ServiceRuntime(CUSTOMER, settings, None, token_issuer(settings))
    record_size = await _fill_outbox(runtime, count)
    relay = OutboxRelay(runtime.db, runtime.outbox, bus, service_logger("bench.relay", "customer-service"))
    await bus.connect()  # the producer's connection is not part of the drain
    started, cpu = time.perf_counter(), time.process_time()
    task = asyncio.ensure_future(relay.run())
    try:
        while relay.published < count:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        rate = count / (time.perf_counter() - started)
        cpu_us = (time.process_time() - cpu) / count * 1e6
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
        await runtime.db.dispose()
    return rate, record_size, cpu_us


def relay_figure(bed: Bed, count: int) -> Figure:
    settings = _settings(bed, "customer", bed.database("relay"))
    rate, record_size, cpu_us = asyncio.run(_drain(bed, settings, count))
    yardstick = producer_rate(bed.broker.plaintext_bootstrap, "customer.events", count, record_size)
    print(
        f"\nrelay: {rate:,.0f} events/s ({record_size} B values, {cpu_us:,.0f} µs of CPU per event in this "
        f"process); ProducerPerformance {yardstick:,.0f}/s"
    )
    return Figure(
        f"outbox relay draining {count:,} pending rows into Kafka",
        "events/s", rate, 20_000, True, yardstick, "ProducerPerformance", note=f"{cpu_us:,.0f} µs CPU/event",
    )  # fmt: skip
