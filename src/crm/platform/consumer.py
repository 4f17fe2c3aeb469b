"""The event consumer: delivers records to a service's handlers exactly once in effect.

For each record: decode the envelope, claim it in the inbox and run the handlers in ONE transaction, then
commit the offset. A crash anywhere before the offset commit means redelivery, which the inbox turns into a
no-op. A fetched batch shares one transaction (one commit, its inbox rows claimed in one statement, one offset
commit after it): a commit costs far more than an event's effects. If anything in that transaction fails, it
is rolled back whole and the batch is applied again one record at a time, so a poison record is found alone
and neither blocks nor loses the others.

Poison records (not an envelope, a payload that fails validation, a handler that keeps failing) go to
``<topic>.dlq`` with the reason in headers after bounded retries, and the consumer moves on. Transient
failures (the database or broker unreachable) are retried without limit: they are not the message's fault.

Each record is handled inside a consumer span that continues the record's ``traceparent``: the handler's log
lines carry the trace and event ids, and the events it emits carry the trace on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, OperationalError

from crm.platform.aio import reconnect_delay
from crm.platform.bus import Bus, BusError, IncomingRecord, OutgoingRecord, Subscription, addressed_to
from crm.platform.db import Database
from crm.platform.events import Envelope, EnvelopeError
from crm.platform.inbox import claim, claim_many
from crm.platform.logs import event_var, service_var
from crm.platform.metrics import ServiceMetrics
from crm.platform.outbox import Outbox
from crm.platform.tracing import Tracer, parse_traceparent
from crm.platform.unit_of_work import Tx

CONSUMER_CONNECTED = "✅ Kafka Consumer connected"


# A handler writes its effect (and any events it emits) in the Tx it is given; it never commits.
Handler = Callable[[Tx, Envelope], Awaitable[None]]
# Called in a transaction with the events about to be applied in it, in order, before the first handler: e.g.
# to load every row they name in one statement per table. It only prepares; the handlers still do the work.
BatchHook = Callable[[Tx, Sequence[Envelope]], Awaitable[None]]


@dataclass(frozen=True)
class _Delivery:
    record: IncomingRecord
    envelope: Envelope
    handlers: Sequence[Handler]


class PoisonMessage(Exception):
    """Raised by a handler for an event it can never apply (dead-lettered at once, no retries)."""


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        service: str,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        inbox: Table,
        handlers: Mapping[str, Sequence[Handler]],
        topics: Sequence[str],
        log: logging.LoggerAdapter[logging.Logger],
        max_attempts: int = 5,
        retry_delay: float = 0.2,
        batch_size: int = 500,
        tracer: Tracer | None = None,
        metrics: ServiceMetrics | None = None,
        known_types: Collection[str] | None = None,
        prepare: BatchHook | None = None,
    ) -> None:
        """``known_types``: every event type of the catalog; a record of any other type is dead-lettered
        (``unknown-type``) rather than silently skipped. None: types without a handler are skipped.
        ``prepare``: the service's :data:`BatchHook`, if it has one."""
        self.group, self.service, self.db, self.bus = group, service, db, bus
        self.known_types = None if known_types is None else frozenset(known_types)
        self.outbox, self.inbox, self.handlers, self.topics = outbox, inbox, handlers, list(topics)
        self.log = log
        self.max_attempts, self.retry_delay = max_attempts, retry_delay
        self.batch_size = batch_size
        self.prepare = prepare
        self.label = str(log.extra.get("service", service)) if log.extra else service
        self.tracer = tracer or Tracer(self.label)
        self.metrics = metrics or ServiceMetrics(self.label)
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.batches_split = 0  # batches whose shared transaction failed and were applied one by one
        self.connected = asyncio.Event()
        self._subscription: Subscription | None = None

    async def run(self) -> None:
        """Consume until cancelled; reconnects with backoff after any failure of the bus."""
        failures = 0
        while True:
            subscription: Subscription | None = None
            try:
                subscription = await self.bus.subscribe(self.group, self.topics)
                if self.bus.name == "kafka":
                    self.log.info(CONSUMER_CONNECTED)
                self.connected.set()
                self._subscription = subscription
                failures = 0
                metered = self.bus.name == "kafka"
                while True:
                    records = await subscription.fetch(max_records=self.batch_size, timeout=1.0)
                    if metered and records:  # every record of the topics is read, handled here or not
                        self.metrics.kafka_messages("consumed", len(records), self.log)
                    await self.process_batch(records)
                    await subscription.commit(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.connected.clear()
                delay = reconnect_delay(failures)
                message = str(exc) if isinstance(exc, BusError) else f"{type(exc).__name__}: {exc}"
                self.log.error(message if message.startswith("❌") else f"❌ Consumer error: {message}")
                self.log.warning("🔁 Consumer %s reconnecting in %.1fs", self.group, delay)
                await asyncio.sleep(delay)
            finally:
                self._subscription = None
                if subscription is not None:
                    await subscription.close()

    async def lags(self) -> dict[tuple[str, int], int]:
        """Records not yet consumed per (topic, partition), when the bus can tell (Kafka); else empty."""
        lag = getattr(self._subscription, "lag", None)
        return await lag() if lag is not None else {}

    async def process(self, record: IncomingRecord) -> None:
        """Apply one record; returns when it is applied, skipped as a duplicate or dead-lettered."""
        await self.process_batch([record])

    async def process_batch(self, records: Sequence[IncomingRecord]) -> None:
        """Apply ``records`` in order; returns when each is applied, skipped as a duplicate (or as another
        service's business) or dead-lettered. Several handled records share one transaction; if it fails,
        nothing of it is kept and each record is applied in a transaction of its own, with retries."""
        batch: list[_Delivery] = []
        for record in records:
            if not addressed_to(record, self.group):  # a dead letter replayed for another group
                continue
            try:
                envelope = Envelope.from_record(record.topic, record.value, record.headers)
            except EnvelopeError as exc:
                await self.dead_letter(record, "invalid-envelope", str(exc))
                continue
            if self.known_types is not None and envelope.type not in self.known_types:
                await self.dead_letter(
                    record, "unknown-type", f"event type {envelope.type!r} is not in the catalog"
                )
                continue
            handlers = self.handlers.get(envelope.type)
            if handlers:  # else another service's business
                batch.append(_Delivery(record, envelope, handlers))
        if len(batch) > 1:
            try:
                await self._apply_batch(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a poison record, a failing handler, the database: find out alone
                self.batches_split += 1
                self.log.warning(
                    "🔁 A batch of %d events failed (%s: %s); applying them one at a time",
                    len(batch),
                    type(exc).__name__,
                    str(exc)[:300],
                )
        for delivery in batch:
            with self._delivering(delivery):
                await self._handle(delivery.record, delivery.envelope, delivery.handlers)

    @contextlib.contextmanager
    def _delivering(self, delivery: _Delivery) -> Iterator[None]:
        """The record's consumer span and log context (trace and event ids), and its "received" line."""
        record, envelope = delivery.record, delivery.envelope
        service_token = service_var.set(self.label)
        event_token = event_var.set((envelope.id, envelope.type))
        attributes = None
        if self.tracer.exporting:  # only an exported span keeps them: not built per event otherwise
            attributes = {
                "messaging.system": self.bus.name,
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": envelope.id,
                "crm.event_type": envelope.type,
            }
        try:
            with self.tracer.span(
                f"{record.topic} process",
                kind="consumer",
                parent=parse_traceparent(envelope.traceparent),
                attributes=attributes,
            ):
                self.log.info("📥 Event received: %s from topic %s", envelope.type, record.topic)
                yield
        finally:
            event_var.reset(event_token)
            service_var.reset(service_token)

    async def _apply_batch(self, batch: Sequence[_Delivery]) -> None:
        """Apply every delivery of ``batch`` not applied before, in order, in ONE transaction with their
        inbox rows. Raises (and keeps nothing) if any handler or the commit fails."""
        started = time.perf_counter()
        applied: list[_Delivery] = []
        duplicates: list[_Delivery] = []
        async with self.db.transaction() as session:
            fresh = await claim_many(
                session, self.inbox, self.group, [(d.envelope.id, d.envelope.type) for d in batch]
            )
            tx = Tx(session, self.outbox, self.service)
            if self.prepare is not None:
                await self.prepare(tx, _first_copies(batch, fresh))
            for delivery in batch:
                with self._delivering(delivery):
                    if delivery.envelope.id not in fresh:
                        self.log.debug(
                            "Duplicate %s %s skipped", delivery.envelope.type, delivery.envelope.id
                        )
                        duplicates.append(delivery)
                        continue
                    fresh.discard(delivery.envelope.id)  # a second copy in this batch is a duplicate
                    for handler in delivery.handlers:
                        await handler(tx, delivery.envelope)
                    applied.append(delivery)
            await tx.finish()
        seconds = (time.perf_counter() - started) / len(batch)
        now = datetime.now(UTC)
        self.metrics.consumed_together(
            ((d.record.topic, d.envelope.type, (now - d.envelope.time).total_seconds()) for d in applied),
            seconds,
        )
        for delivery in duplicates:
            self.metrics.duplicate(delivery.record.topic, delivery.envelope.type)
        self.applied += len(applied)
        self.duplicates += len(duplicates)

    async def _handle(self, record: IncomingRecord, envelope: Envelope, handlers: Sequence[Handler]) -> None:
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                if await self._apply(envelope, handlers):
                    self.metrics.consumed(
                        record.topic,
                        envelope.type,
                        time.perf_counter() - started,
                        (datetime.now(UTC) - envelope.time).total_seconds(),
                    )
                else:
                    self.metrics.duplicate(record.topic, envelope.type)
                return
            except (PoisonMessage, ValidationError) as exc:
                await self.dead_letter(record, "invalid-payload", f"{type(exc).__name__}: {exc}")
                return
            except (OperationalError, DBAPIError, OSError) as exc:
                self.metrics.failed(record.topic, envelope.type)
                if _is_transient(exc):
                    self.log.warning("🔁 %s on %s, retrying: %s", type(exc).__name__, envelope.type, exc)
                    await asyncio.sleep(min(5.0, self.retry_delay * 2 ** min(attempt, 5)))
                    continue
                if attempt >= self.max_attempts:
                    await self.dead_letter(record, "handler-failed", f"{type(exc).__name__}: {exc}")
                    return
            except Exception as exc:
                self.metrics.failed(record.topic, envelope.type)
                if attempt >= self.max_attempts:
                    self.log.exception("❌ Handler failed %d times on %s", attempt, envelope.type)
                    await self.dead_letter(record, "handler-failed", f"{type(exc).__name__}: {exc}")
                    return
                self.log.warning("🔁 Handler failed on %s (attempt %d): %s", envelope.type, attempt, exc)
            await asyncio.sleep(self.retry_delay * attempt)

    async def _apply(self, envelope: Envelope, handlers: Sequence[Handler]) -> bool:
        """True if applied now, False if the inbox says it was applied before."""
        async with self.db.transaction() as session:
            if not await claim(session, self.inbox, self.group, envelope.id, envelope.type):
                self.duplicates += 1
                self.log.debug("Duplicate %s %s skipped", envelope.type, envelope.id)
                return False
            tx = Tx(session, self.outbox, self.service)
            if self.prepare is not None:
                await self.prepare(tx, [envelope])
            for handler in handlers:
                await handler(tx, envelope)
            await tx.finish()
        self.applied += 1
        return True

    async def dead_letter(self, record: IncomingRecord, reason: str, error: str) -> None:
        """Send ``record`` unchanged to ``<topic>.dlq`` with why in headers. Raises if the DLQ is down,
        so the offset is not committed and the record comes back."""
        headers = [h for h in record.headers if not h[0].startswith("dlq_")] + [
            ("dlq_reason", reason.encode()),
            ("dlq_error", error[:2000].encode()),
            ("dlq_consumer", self.group.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self.bus.publish(
            [OutgoingRecord(f"{record.topic}.dlq", record.key, record.value or b"", headers)]
        )
        self.dead_lettered += 1
        event_type = next((v.decode("utf-8", "replace") for k, v in record.headers if k == "ce_type"), "")
        self.metrics.dead_lettered(record.topic, event_type or "unknown", reason)
        if self.bus.name == "kafka":
            self.metrics.kafka_messages("produced", 1, self.log)
        self.log.error(
            "☠️ Dead-lettered record %s:%d@%d to %s.dlq (%s): %s",
            record.topic,
            record.partition,
            record.offset,
            record.topic,
            reason,
            error[:300],
        )


def _first_copies(batch: Sequence[_Delivery], fresh: Collection[str]) -> list[Envelope]:
    """The envelopes of ``batch`` that will be applied: those ``fresh`` in the inbox, each id once."""
    seen: set[str] = set()
    envelopes = []
    for delivery in batch:
        event_id = delivery.envelope.id
        if event_id in fresh and event_id not in seen:
            seen.add(event_id)
            envelopes.append(delivery.envelope)
    return envelopes


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    return any(k in text for k in ("connection", "database is locked", "terminating", "shutting down"))
