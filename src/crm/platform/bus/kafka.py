"""The Kafka bus on aiokafka: an idempotent producer (acks=all) and one consumer per subscription.

Connection errors are translated into the guide's troubleshooting lines (see :func:`describe_failure`), so
the operator reads ``❌ Failed to connect to Kafka: Authentication failed`` instead of a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from crm.platform.bus import BusError, IncomingRecord, OutgoingRecord, Position
from crm.platform.settings import KafkaSettings

AUTH_FAILED = "❌ Failed to connect to Kafka: Authentication failed"
TIMED_OUT = "❌ Request timed out"
MAX_MESSAGE_BYTES = 1_048_576
# A produce batch per partition up to this size (aiokafka's default is 16 KB, about 30 of our events): fewer,
# larger requests. Under the topics' max.message.bytes, so a batch is never refused for its size.
MAX_BATCH_BYTES = 512 * 1024


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """aiokafka keyword arguments shared by producer, consumer and admin clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": list(kafka.brokers),
        "client_id": kafka.client_id,
        "request_timeout_ms": kafka.request_timeout_ms,
    }
    if kafka.ssl:
        context = ssl.create_default_context(cafile=str(kafka.ssl_ca_file) if kafka.ssl_ca_file else None)
        options["ssl_context"] = context
    if kafka.sasl:
        options["security_protocol"] = "SASL_SSL" if kafka.ssl else "SASL_PLAINTEXT"
        options["sasl_mechanism"] = kafka.mechanism.upper()
        options["sasl_plain_username"] = kafka.username
        options["sasl_plain_password"] = kafka.password.value
    elif kafka.ssl:
        options["security_protocol"] = "SSL"
    return options


def describe_failure(exc: BaseException) -> str:
    """The guide's line for a connection failure: authentication, timeout, or the error itself."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in seen)
    if "Authentication" in text or "SaslAuthenticationFailed" in text or "IllegalSaslState" in text:
        return AUTH_FAILED
    if isinstance(exc, ssl.SSLError) or "SSL" in type(exc).__name__:
        return f"❌ Failed to connect to Kafka: TLS error ({exc})"
    if any(isinstance(e, (TimeoutError, ConnectionError, OSError)) for e in seen) or any(
        k in text for k in ("KafkaConnectionError", "KafkaTimeoutError", "Unable to bootstrap", "timed out")
    ):
        return TIMED_OUT
    return f"❌ Failed to connect to Kafka: {type(exc).__name__}: {exc}"


async def diagnose(kafka: KafkaSettings) -> BaseException | None:
    """Open one raw connection (TLS + SASL handshake) to each broker; the first failure, or None.

    aiokafka reports a failed bootstrap as a bare ``KafkaConnectionError``; this tells an authentication
    failure from an unreachable host, so the operator gets the guide's precise line."""
    from aiokafka.conn import create_conn

    options = client_options(kafka)
    for broker in kafka.brokers:
        host, _, port = broker.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(
                    host,
                    int(port),
                    client_id=kafka.client_id,
                    request_timeout_ms=kafka.request_timeout_ms,
                    ssl_context=options.get("ssl_context"),
                    security_protocol=options.get("security_protocol", "PLAINTEXT"),
                    sasl_mechanism=options.get("sasl_mechanism"),
                    sasl_plain_username=options.get("sasl_plain_username"),
                    sasl_plain_password=options.get("sasl_plain_password"),
                ),
                timeout=kafka.request_timeout_ms / 1000,
            )
        except Exception as exc:
            return exc
        conn.close()
    return None


async def explain(kafka: KafkaSettings, exc: BaseException) -> str:
    """The guide's line for ``exc``, probing the brokers when aiokafka's own error says too little."""
    message = describe_failure(exc)
    if message == TIMED_OUT:
        cause = await diagnose(kafka)
        if cause is not None:
            return describe_failure(cause)
    return message


class KafkaBus:
    name = "kafka"

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._partitioner = DefaultPartitioner()

    async def connect(self) -> None:
        async with self._lock:
            if self._producer is not None:
                return
            producer = AIOKafkaProducer(
                **client_options(self.kafka),
                acks="all",
                enable_idempotence=True,
                # No linger: every publish hands over whole batches (see _send_batches), so waiting for more
                # records only delays them (2 ms on each hop of an event's trip) and gains no batching.
                linger_ms=0,
                max_request_size=MAX_MESSAGE_BYTES,
                max_batch_size=MAX_BATCH_BYTES,
            )
            try:
                await producer.start()
            except Exception as exc:
                await _quietly(producer.stop())
                raise BusError(await explain(self.kafka, exc)) from exc
            self._producer = producer

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        await self.connect()
        assert self._producer is not None
        producer = self._producer
        try:
            await asyncio.gather(*[f async for f in self._send_batches(producer, records)])
        except KafkaError as exc:
            raise BusError(describe_failure(exc)) from exc

    async def _send_batches(
        self, producer: AIOKafkaProducer, records: Sequence[OutgoingRecord]
    ) -> AsyncIterator[asyncio.Future[Any]]:
        """Fill one batch per partition and hand each over when full: a per-record ``send`` costs several
        times a batch append. Records keep their order within a partition, which holds every record of one
        key (the same key → partition mapping as aiokafka's default partitioner)."""
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], Any] = {}
        for r in records:
            if r.topic not in partitions:
                partitions[r.topic] = sorted(await producer.partitions_for(r.topic))
            choices = partitions[r.topic]
            partition = self._partitioner(r.key, choices, choices)
            batch = batches.get((r.topic, partition))
            if batch is None:
                batch = batches[(r.topic, partition)] = producer.create_batch()
            if batch.append(key=r.key, value=r.value, timestamp=None, headers=r.headers) is None:
                yield await producer.send_batch(batch, r.topic, partition=partition)  # full: hand it over
                batch = batches[(r.topic, partition)] = producer.create_batch()
                batch.append(key=r.key, value=r.value, timestamp=None, headers=r.headers)  # empty: takes any
        for (topic, partition), batch in batches.items():
            yield await producer.send_batch(batch, topic, partition=partition)

    async def subscribe(self, group: str, topics: Sequence[str]) -> KafkaSubscription:
        consumer = AIOKafkaConsumer(
            *topics,
            **client_options(self.kafka),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES * 2,
        )
        try:
            await consumer.start()
        except Exception as exc:
            await _quietly(consumer.stop())
            raise BusError(await explain(self.kafka, exc)) from exc
        return KafkaSubscription(consumer)

    async def tail(
        self, topics: Sequence[str], since: datetime, offsets: Mapping[Position, int] | None = None
    ) -> KafkaSubscription:
        """Every partition of ``topics`` from the first record timestamped at or after ``since`` (the end for
        a partition with none), or from its offset in ``offsets``, in no consumer group: each process tailing
        sees every record. Raises BusError while a topic does not exist yet (the caller retries)."""
        offsets = offsets or {}
        consumer = AIOKafkaConsumer(
            **client_options(self.kafka),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES * 2,
        )
        timeout = self.kafka.request_timeout_ms / 1000
        try:
            await consumer.start()
            partitions: list[TopicPartition] = []
            for topic in topics:
                ids = consumer.partitions_for_topic(topic)
                if ids is None:  # as `crm kafka tail` does: no metadata for the topic yet
                    await asyncio.wait_for(consumer._client.force_metadata_update(), timeout)
                    ids = consumer.partitions_for_topic(topic)
                if not ids:
                    raise BusError(f"❌ Topic {topic} does not exist yet")
                partitions += [TopicPartition(topic, p) for p in sorted(ids)]
            consumer.assign(partitions)
            by_time = [tp for tp in partitions if (tp.topic, tp.partition) not in offsets]
            found = {}
            if by_time:
                found = await asyncio.wait_for(
                    consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in by_time}), timeout
                )
            for tp in partitions:
                if (tp.topic, tp.partition) in offsets:
                    consumer.seek(tp, offsets[(tp.topic, tp.partition)])
                    continue
                position = found.get(tp)
                if position is None:
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, position.offset)
        except BusError:
            await _quietly(consumer.stop())
            raise
        except Exception as exc:
            await _quietly(consumer.stop())
            raise BusError(await explain(self.kafka, exc)) from exc
        return KafkaSubscription(consumer, tailing=True)

    async def close(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await _quietly(self._producer.stop())
                self._producer = None


class KafkaSubscription:
    def __init__(self, consumer: AIOKafkaConsumer, *, tailing: bool = False) -> None:
        self.consumer, self.tailing = consumer, tailing

    async def fetch(self, max_records: int, timeout: float) -> list[IncomingRecord]:
        batches = await self.consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records)
        return [
            IncomingRecord(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
            for records in batches.values()
            for r in records
        ]

    async def commit(self, records: Sequence[IncomingRecord]) -> None:
        if self.tailing:  # no group to commit for
            return
        offsets: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.offset + 1)
        if offsets:
            await self.consumer.commit(offsets)

    async def positions(self) -> dict[Position, int]:
        """The next offset to read per assigned partition (asks the broker where a seek is pending)."""
        assigned = self.consumer.assignment()
        return {(tp.topic, tp.partition): await self.consumer.position(tp) for tp in assigned}

    async def lag(self) -> dict[tuple[str, int], int]:
        """Per assigned (topic, partition): the high watermark of the last fetch minus this consumer's
        position (no broker round trip; partitions not fetched yet are left out)."""
        lags: dict[tuple[str, int], int] = {}
        for tp in self.consumer.assignment():
            end = self.consumer.highwater(tp)
            if end is not None:
                lags[(tp.topic, tp.partition)] = max(0, end - await self.consumer.position(tp))
        return lags

    async def close(self) -> None:
        await _quietly(self.consumer.stop())


async def _quietly(awaitable: Any) -> None:
    # Closing a client that failed to start may fail again; there is nothing more to do about it.
    with contextlib.suppress(Exception):
        await awaitable
